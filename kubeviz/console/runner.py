"""Runs one console command: the real kubectl, against one cluster, fenced in.

kubectl runs

- with arguments that ``commands.parse`` allowed, after a kubeconfig the server writes (the cluster's URL, and
  whatever credentials the server gives it): flags naming another server or credentials never get this far;
- in a throw-away directory that is its home, working directory and cache, removed afterwards;
- with a minimal environment: no proxy, no editor (``KUBE_EDITOR``/``EDITOR`` point at ``false``), no plugins
  (``PATH`` is the empty throw-away directory), no kuberc;
- as an unprivileged user (``settings.KUBEVIZ_CONSOLE_USER``) when the server runs as root;
- for at most a few seconds (a watch) or ``TIMEOUT_SECONDS``, its whole process group killed after that, with at
  most ``MAX_OUTPUT_BYTES`` of output kept;
- at most ``KUBEVIZ_CONSOLE_PER_CLUSTER`` at once per cluster and ``KUBEVIZ_CONSOLE_MAX_RUNNING`` at once in this
  process (settings, 2 and 8); a command over either limit is answered at once with a refusal (429).

It is awaited with ``asyncio.create_subprocess_exec``: kubectl calls back into this same server, whose sync views
share one thread, so a view blocking on kubectl would deadlock.
"""

import asyncio
import os
import pwd
import shutil
import signal
import tempfile
import time
from collections import Counter
from contextlib import contextmanager

import yaml
from django.conf import settings

from kubeviz.store import actor

TIMEOUT_SECONDS = 10.0
WATCH_SECONDS = 3.0
MAX_OUTPUT_BYTES = 256 * 1024


class Busy(Exception):
    """Too many console commands are running (for this cluster, or in this server)."""


_running: Counter = Counter()  # cluster name -> commands running; touched only on the server's event loop


@contextmanager
def slot(cluster: str):
    """Hold one of the console's places for ``cluster`` while a command runs, or raise Busy."""
    per_cluster = settings.KUBEVIZ_CONSOLE_PER_CLUSTER
    if _running[cluster] >= per_cluster:
        raise Busy(f"error: {per_cluster} console command{'s are' if per_cluster != 1 else ' is'} already running "
                   f"on this cluster; wait for one to finish")
    if sum(_running.values()) >= settings.KUBEVIZ_CONSOLE_MAX_RUNNING:
        raise Busy("error: the server is running as many console commands as it allows; try again in a moment")
    _running[cluster] += 1
    try:
        yield
    finally:
        _running[cluster] -= 1
        if not _running[cluster]:
            del _running[cluster]


def _account() -> tuple[int, int] | None:
    """The (uid, gid) kubectl runs as: the unprivileged console user when this server runs as root, else None
    (kubectl runs as the server's own user)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(settings.KUBEVIZ_CONSOLE_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _kubeconfig(server: str, token: str | None, run: str | None = None) -> str:
    user = {"token": token} if token else {}
    if run:  # sent back as Impersonate-Extra-*: the store records this command's writes as the console's
        user.update({"as": actor.CONSOLE_USER, "as-user-extra": {actor.CONSOLE_EXTRA: [run]}})
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "console",
        "clusters": [{"name": "console", "cluster": {"server": server}}],
        "users": [{"name": "console", "user": user}],
        "contexts": [{"name": "console", "context": {"cluster": "console", "user": "console"}}],
    })


def _prepare_home(server: str, token: str | None, account: tuple[int, int] | None,
                  run: str | None = None) -> tuple[str, dict]:
    """A fresh directory for one kubectl, and its environment."""
    home = tempfile.mkdtemp(prefix="kubeviz-console-")
    config = os.path.join(home, "config")
    with open(config, "w", encoding="utf-8") as out:
        out.write(_kubeconfig(server, token, run))
    os.chmod(config, 0o600)
    if account is not None:
        os.chown(home, *account)
        os.chown(config, *account)
    refuse = "/bin/false"
    env = {
        "HOME": home,
        "PATH": home,  # nothing to find: no kubectl plugins, no editor
        "KUBECONFIG": config,
        "KUBECACHEDIR": os.path.join(home, "cache"),
        "KUBE_EDITOR": refuse,
        "EDITOR": refuse,
        "KUBERC": "off",
        "LANG": "C.UTF-8",
    }
    return home, env


async def _read(stream, buffer: bytearray, cut: list):
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return
        room = MAX_OUTPUT_BYTES - len(buffer)
        if room > 0:
            buffer.extend(chunk[:room])
        if len(chunk) > room:
            cut[0] = True


def _kill_group(process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


async def run_kubectl(args: list[str], *, server: str, stdin: str | None, window: float,
                      token: str | None = None) -> dict:
    """Run kubectl for at most ``window`` seconds; answers stdout, stderr, exitCode and maybe a note."""
    account = _account()
    with actor.console_run() as run:
        home, env = _prepare_home(server, token, account, run)
        try:
            return await _run_in(home, env, account, args, stdin, window)
        finally:
            shutil.rmtree(home, ignore_errors=True)


async def _run_in(home: str, env: dict, account, args: list[str], stdin: str | None, window: float) -> dict:
    try:
        process = await asyncio.create_subprocess_exec(
            settings.KUBEVIZ_KUBECTL, *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=env, cwd=home, start_new_session=True,
            **({"user": account[0], "group": account[1], "extra_groups": []} if account else {}),
        )
    except OSError as exc:
        return {"stdout": "", "stderr": f"error: kubectl is not available on the server: {exc.strerror}\n",
                "exitCode": 127}
    return await _collect(process, stdin, window)


async def _collect(process, stdin: str | None, window: float) -> dict:
    out, err, cut = bytearray(), bytearray(), [False]
    readers = asyncio.gather(_read(process.stdout, out, cut), _read(process.stderr, err, cut))

    async def feed():
        try:
            if stdin:
                process.stdin.write(stdin.encode())
                await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            process.stdin.close()

    started = time.monotonic()
    stopped = False
    try:
        await asyncio.wait_for(asyncio.gather(feed(), readers, process.wait()), timeout=window)
    except asyncio.TimeoutError:
        stopped = True
    finally:
        _kill_group(process)  # whatever kubectl started goes with it, finished or not
    if stopped:
        await process.wait()
        try:
            await asyncio.wait_for(readers, timeout=1)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
    result = {
        "stdout": out.decode("utf-8", "replace"),
        "stderr": err.decode("utf-8", "replace"),
        "exitCode": process.returncode if not stopped else 0,
    }
    notes = []
    if stopped:
        if window < TIMEOUT_SECONDS:
            notes.append(f"(stopped after {window:g} s: the console shows the first seconds of a watch)")
        else:
            result["exitCode"] = 124
            notes.append(f"(stopped: kubectl did not finish in {time.monotonic() - started:.0f} s)")
    if cut[0]:
        notes.append(f"(output cut at {MAX_OUTPUT_BYTES // 1024} KiB)")
    if notes:
        result["note"] = " ".join(notes)
    return result
