"""``POST /sim/clusters/<name>/console``: the dashboard's kubectl console.

The learner types a kubectl command line; the server runs the real kubectl binary (``settings.KUBEVIZ_KUBECTL``)
against its own cluster URL, so printers and error texts are exactly a real cluster's. Request
``{"command": "kubectl get pods -o wide", "stdin": "..."}``, answer ``{"stdout", "stderr", "exitCode"}`` (plus
``note`` when the console stopped a watch or cut the output).

Safety: the line is split with ``shlex`` and never given to a shell; the first word must be ``kubectl`` (or
``k``), the subcommand must be on an allow-list, and flags that reach outside the cluster (another server,
credentials, kubeconfig, local files) are refused with a kubectl-like error before anything runs. ``-f`` reads only
``-``: the request's ``stdin`` (the editor's text).

The view is async and awaits kubectl with ``asyncio.create_subprocess_exec``: kubectl calls back into this same
server, whose sync views share one thread, so a view blocking on kubectl would deadlock.
"""

import asyncio
import os
import shlex
import tempfile
import time
from datetime import datetime, timedelta, timezone

from asgiref.sync import sync_to_async
from django.conf import settings
from django.views.decorators.csrf import csrf_exempt

from controllers.apimachinery.timeutil import format_rfc3339

from kubeviz.store.models import Cluster

from . import errors
from .manifests import load_json
from .views import json_response, status_response

SUBCOMMANDS = (
    "get", "describe", "logs", "apply", "create", "delete", "label", "annotate", "taint", "cordon", "uncordon",
    "patch", "rollout", "explain", "api-resources", "api-versions", "version", "replace",
)
ALIASES = ("kubectl", "k")

#: ``describe`` prints the ages of events from the computer's clock, as real kubectl does (the server's Tables use
#: the simulated clock). When the two are apart the console says so.
CLOCK_NOTE_AFTER = timedelta(minutes=1)
DESCRIBE_AGES_NOTE = ("(kubectl describe works out the ages of Events from this computer's clock, but this cluster's "
                      "simulated clock reads {now}: those ages are off. `kubectl get events` shows them in "
                      "simulated time.)")

#: Long flags that point kubectl at another server, other credentials or local files.
BLOCKED_FLAGS = frozenset({
    "--kubeconfig", "--server", "--token", "--as", "--as-group", "--as-uid", "--context", "--cluster", "--user",
    "--username", "--password", "--cache-dir", "--certificate-authority", "--insecure-skip-tls-verify",
    "--profile", "--profile-output", "--kustomize", "--from-file", "--from-env-file", "--patch-file", "--edit",
    "--log-file", "--log-dir",
})
BLOCKED_PREFIXES = ("--client-", "--tls-")
#: Short flags that take a value (the rest of the cluster, or the next word); `-f` is `--follow` under `logs`.
SHORT_WITH_VALUE = set("nolcfLkvsp")
SHORT_BLOCKED = {"s": "--server", "k": "--kustomize"}
#: Long flags whose value is the next word when not given with `=`.
LONG_WITH_VALUE = frozenset({
    "--namespace", "--output", "--selector", "--container", "--filename", "--field-selector", "--label-columns",
    "--type", "--patch", "--sort-by", "--template", "--since", "--since-time", "--tail", "--cascade",
    "--grace-period", "--timeout", "--dry-run", "--field-manager", "--chunk-size", "--limit-bytes",
    "--max-log-requests", "--request-timeout", "--v", "--api-version", "--api-group", "--show-managed-fields",
    "--subresource", "--pod-running-timeout", "--to-revision", "--revision", "--image", "--schedule", "--from",
    "--output-watch-events",
})
FILE_OUTPUTS = ("jsonpath-file", "go-template-file", "custom-columns-file", "templatefile")

TIMEOUT_SECONDS = 10.0
WATCH_SECONDS = 3.0
MAX_OUTPUT_BYTES = 256 * 1024
MAX_COMMAND_CHARS = 4096

_home: str | None = None


class Refused(Exception):
    """A command line the console will not run; the message is printed as kubectl would print an error."""


def _console_home() -> str:
    """One private HOME (kubeconfig-less, with kubectl's discovery cache) per server process."""
    global _home
    if _home is None or not os.path.isdir(_home):
        _home = tempfile.mkdtemp(prefix="kubeviz-console-")
    return _home


def _check_output(value: str):
    if value.split("=", 1)[0].strip() in FILE_OUTPUTS:
        raise Refused(f'error: the console reads no local files: -o {value.split("=", 1)[0]} is not available')


def parse(command: str) -> tuple[list[str], bool]:
    """kubectl's arguments (without the program name) and whether the command streams (a watch, ``logs -f``)."""
    if len(command) > MAX_COMMAND_CHARS:
        raise Refused("error: the command is too long")
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise Refused(f"error: cannot parse the command: {exc}") from None
    if not words:
        return [], False
    if words[0] not in ALIASES:
        raise Refused(f'error: unknown command "{words[0]}": the console runs kubectl commands only, '
                      f'such as "kubectl get pods"')
    args = words[1:]
    subcommand = _subcommand(args)
    if subcommand is None:
        raise Refused(f"error: type a kubectl command: kubectl {' | '.join(SUBCOMMANDS)}")
    if subcommand not in SUBCOMMANDS:
        raise Refused(f'error: the console does not run "kubectl {subcommand}"; it runs: {", ".join(SUBCOMMANDS)}')
    streaming = False
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if word == "--":
            break  # everything after is an argument
        if word.startswith("--"):
            name, has_value, value = word.partition("=")
            if name in BLOCKED_FLAGS or name.startswith(BLOCKED_PREFIXES):
                raise Refused(f"error: the console does not accept {name}: it talks to this cluster only")
            if name in LONG_WITH_VALUE and not has_value:
                value = args[i] if i < len(args) else ""
                i += 1
            if name == "--filename" and value != "-":
                raise Refused("error: the console reads files only from the editor: use -f -")
            if name == "--output":
                _check_output(value)
            if name in ("--watch", "--watch-only", "--follow") and value not in ("false", "False", "0"):
                streaming = True
            continue
        if word.startswith("-") and len(word) > 1:
            cluster = word[1:]
            for j, letter in enumerate(cluster):
                if letter in SHORT_BLOCKED:
                    flag = SHORT_BLOCKED[letter]
                    raise Refused(f"error: the console does not accept -{letter} ({flag}): it talks to this "
                                  f"cluster only")
                if letter == "f" and subcommand == "logs":
                    streaming = True  # --follow, a boolean
                    continue
                if letter == "w":
                    streaming = True
                    continue
                if letter == "p" and subcommand == "logs":
                    continue  # --previous, a boolean
                if letter in SHORT_WITH_VALUE:
                    value = cluster[j + 1:]
                    if value.startswith("="):
                        value = value[1:]
                    if not value:
                        value = args[i] if i < len(args) else ""
                        i += 1
                    if letter == "f" and value != "-":
                        raise Refused("error: the console reads files only from the editor: use -f -")
                    if letter == "o":
                        _check_output(value)
                    break
    return args, streaming


def _subcommand(args: list[str]) -> str | None:
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            return args[i + 1] if i + 1 < len(args) else None
        if word.startswith("--"):
            if "=" not in word and word in LONG_WITH_VALUE:
                i += 1
        elif word.startswith("-") and len(word) > 1:
            if len(word) == 2 and word[1] in SHORT_WITH_VALUE:
                i += 1
        else:
            return word
        i += 1
    return None


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


async def run_kubectl(args: list[str], *, server: str, stdin: str | None, window: float) -> dict:
    """Run kubectl for at most ``window`` seconds; answers stdout, stderr, exitCode and maybe a note."""
    home = _console_home()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "KUBECACHEDIR": os.path.join(home, ".kube", "cache"),
        "KUBECONFIG": os.path.join(home, ".kube", "config"),  # never written: no contexts, no credentials
        "LANG": "C.UTF-8",
    }
    try:
        process = await asyncio.create_subprocess_exec(
            settings.KUBEVIZ_KUBECTL, "--server", server, *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=env, cwd=home,
        )
    except OSError as exc:
        return {"stdout": "", "stderr": f"error: kubectl is not available on the server: {exc.strerror}\n",
                "exitCode": 127}
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
        process.kill()
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


def _self_url(request, cluster: str) -> str:
    """This server's own address: the socket Daphne listens on (loopback for a wildcard bind), else the Host."""
    host, port = request.META.get("SERVER_NAME", ""), str(request.META.get("SERVER_PORT", ""))
    if host in ("", "unknown") or not port.isdigit() or port == "0":
        return f"{request.scheme}://{request.get_host()}/clusters/{cluster}"
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"{request.scheme}://{host}:{port}/clusters/{cluster}"


def _body(request) -> dict:
    try:
        body = load_json(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise errors.bad_request("request body must be a JSON object")
    unknown = sorted(set(body) - {"command", "stdin"})
    if unknown:
        raise errors.bad_request(f"unknown field(s): {', '.join(unknown)}")
    for field in ("command", "stdin"):
        if body.get(field) is not None and not isinstance(body[field], str):
            raise errors.StatusError(422, "Invalid", f"{field}: must be a string", {})
    return body


@csrf_exempt
async def console(request, cluster):
    try:
        if request.method != "POST":
            raise errors.method_not_supported("console", request.method.lower())
        body = _body(request)
        sim_now = await sync_to_async(_sim_now)(cluster)
        if sim_now is None:
            raise errors.StatusError(404, "NotFound", f'clusters "{cluster}" not found',
                                     {"name": cluster, "kind": "clusters"})
    except errors.StatusError as error:
        return status_response(error)
    try:
        args, streaming = parse(body.get("command") or "")
    except Refused as refused:
        return json_response({"stdout": "", "stderr": f"{refused}\n", "exitCode": 1})
    if not args:
        return json_response({"stdout": "", "stderr": "", "exitCode": 0})
    result = await run_kubectl(args, server=_self_url(request, cluster), stdin=body.get("stdin"),
                               window=WATCH_SECONDS if streaming else TIMEOUT_SECONDS)
    if args[0] == "describe" and abs(datetime.now(timezone.utc) - sim_now) > CLOCK_NOTE_AFTER:
        note = DESCRIBE_AGES_NOTE.format(now=format_rfc3339(sim_now))
        result["note"] = f"{result['note']} {note}" if result.get("note") else note
    return json_response(result)


def _sim_now(cluster: str) -> datetime | None:
    return Cluster.objects.filter(name=cluster).values_list("sim_now", flat=True).first()
