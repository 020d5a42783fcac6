"""How the console runs kubectl: here a stand-in program takes kubectl's place and reports what it was given (its
user, directory, environment, arguments and stdin), and leaves a child behind to see the whole group stopped."""

import os
import pwd
import shutil
import stat
import tempfile
import time
from pathlib import Path

import pytest

from kubeviz.console import runner

STAND_IN = """#!/bin/sh
echo "uid=$(/usr/bin/id -u)"
echo "cwd=$(pwd)"
/usr/bin/env | /usr/bin/sort | /usr/bin/sed 's/^/env /'
echo "args=$*"
/bin/cat
if [ "$1" = "hang" ]; then
  /bin/sleep 600 &
  echo "child=$!"
  /bin/sleep 600
fi
"""


@pytest.fixture
def stand_in(settings):
    folder = tempfile.mkdtemp(prefix="kubeviz-stand-in-")  # not under pytest's private tmp: the console user runs it
    os.chmod(folder, 0o755)
    program = Path(folder) / "kubectl"
    program.write_text(STAND_IN)
    program.chmod(program.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
    settings.KUBEVIZ_KUBECTL = str(program)
    yield program
    shutil.rmtree(folder, ignore_errors=True)


def report(stdout: str) -> dict:
    values = {}
    for line in stdout.splitlines():
        if line.startswith("env "):
            key, _, value = line[4:].partition("=")
            values.setdefault("env", {})[key] = value
        elif "=" in line and not line.startswith(" "):
            key, _, value = line.partition("=")
            values.setdefault(key, value)
    return values


async def test_kubectl_runs_fenced_in(stand_in):
    result = await runner.run_kubectl(["get", "pods"], server="http://127.0.0.1:1/clusters/c1", stdin="kind: Job\n",
                                      window=10)
    assert result["exitCode"] == 0, result
    seen = report(result["stdout"])
    assert seen["args"] == "get pods"
    assert "kind: Job" in result["stdout"]  # stdin is the editor's text
    env = seen["env"]
    # a minimal environment: no proxies, nothing of the server's own, plugins and editors out of reach
    assert set(env) <= {"HOME", "PATH", "KUBECONFIG", "KUBECACHEDIR", "KUBE_EDITOR", "EDITOR", "KUBERC", "LANG",
                        "PWD", "SHLVL", "_"}
    assert env["KUBE_EDITOR"] == env["EDITOR"] == "/bin/false"
    home = env["HOME"]
    assert seen["cwd"] == home == env["PATH"]
    assert env["KUBECONFIG"] == os.path.join(home, "config")
    # a throw-away directory, gone once kubectl has finished
    assert not os.path.exists(home)
    if os.geteuid() == 0:
        assert int(seen["uid"]) == pwd.getpwnam("nobody").pw_uid
    else:
        assert int(seen["uid"]) == os.geteuid()


def test_the_kubeconfig_names_only_the_cluster_and_the_servers_credentials():
    home, env = runner._prepare_home("http://127.0.0.1:8000/clusters/c1", "secret-token", None)
    try:
        text = Path(env["KUBECONFIG"]).read_text()
        assert "server: http://127.0.0.1:8000/clusters/c1" in text and "token: secret-token" in text
        assert stat.S_IMODE(os.stat(env["KUBECONFIG"]).st_mode) == 0o600
    finally:
        shutil.rmtree(home)


async def test_a_command_past_its_time_is_stopped_with_all_it_started(stand_in):
    started = time.monotonic()
    result = await runner.run_kubectl(["hang"], server="http://127.0.0.1:1/clusters/c1", stdin=None, window=1)
    assert time.monotonic() - started < 5
    assert result["note"].startswith("(stopped after 1 s")
    child = int(report(result["stdout"])["child"])
    for _ in range(50):  # the kill is asynchronous: give the kernel a moment to reap it
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{child}/stat") as proc:
            if proc.read().split()[2] == "Z":  # a zombie waiting for init counts as gone
                break
        time.sleep(0.1)
    else:
        pytest.fail(f"kubectl's child {child} outlived it")


def test_slots_are_limited_per_cluster_and_per_server():
    with runner.slot("a"), runner.slot("a"):
        with pytest.raises(runner.Busy, match="already running on this cluster"):
            with runner.slot("a"):
                pass
        with runner.slot("b"):
            pass
    others = [runner.slot(f"c{i}") for i in range(8)]
    for held in others:
        held.__enter__()
    try:
        with pytest.raises(runner.Busy, match="as many console commands as it allows"):
            with runner.slot("d"):
                pass
    finally:
        for held in others:
            held.__exit__(None, None, None)
    assert not runner._running


def test_the_limits_are_settings(settings):
    settings.KUBEVIZ_CONSOLE_PER_CLUSTER = 1
    settings.KUBEVIZ_CONSOLE_MAX_RUNNING = 2
    with runner.slot("a"):
        with pytest.raises(runner.Busy) as busy:
            with runner.slot("a"):
                pass
        assert str(busy.value) == ("error: 1 console command is already running on this cluster; "
                                   "wait for one to finish")
        with runner.slot("b"):
            with pytest.raises(runner.Busy, match="as many console commands as it allows"):
                with runner.slot("c"):
                    pass
    assert not runner._running
