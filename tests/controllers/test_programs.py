"""Tests for ``controllers.programs``: what a simulated container prints, how long it runs, how it exits."""

from __future__ import annotations

import copy
import random
from datetime import datetime, timezone
from decimal import Decimal, getcontext

import pytest

from controllers.programs import (
    Program,
    container_argv,
    container_environment,
    expand_kubernetes_vars,
    format_date,
    parse_go_duration,
    pi_significant_digits,
    run_program,
)

START = datetime(2025, 1, 1, 0, 0, 0, tzinfo=timezone.utc)


def run(command=None, args=None, *, image="busybox:1.36", env=None, annotations=None, seed="seed", pod_name="p"):
    container = {"name": "c", "image": image}
    if command is not None:
        container["command"] = command
    if args is not None:
        container["args"] = args
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    pod = {"metadata": {"name": pod_name, "namespace": "default", "annotations": annotations or {}},
           "spec": {"containers": [container]}}
    environment = container_environment(container, pod)
    return run_program(container, env=environment, pod=pod, now=START, rng=random.Random(seed))


def texts(program: Program) -> list[str]:
    return [text for _, text in program.lines]


# --- pi ----------------------------------------------------------------------------------------------------


def _pi_gauss_legendre(digits: int) -> Decimal:
    """An independent reference: the Gauss-Legendre AGM iteration with the ``decimal`` module."""
    getcontext().prec = digits + 20
    a, b, t, p = Decimal(1), Decimal(1) / Decimal(2).sqrt(), Decimal(1) / 4, Decimal(1)
    for _ in range(16):  # doubles the correct digits each round: 2^16 >> 2000
        a_next = (a + b) / 2
        b = (a * b).sqrt()
        t -= p * (a - a_next) ** 2
        a = a_next
        p *= 2
    return (a + b) ** 2 / (4 * t)


def test_pi_2000_digits_matches_an_independent_computation():
    reference = _pi_gauss_legendre(2000)
    getcontext().prec = 2000  # round to 2000 significant digits, as Math::BigFloat's bpi(2000)
    expected = str(+reference)
    got = pi_significant_digits(2000)
    assert got == expected
    assert len(got.replace(".", "")) == 2000
    assert got.startswith("3.14159265358979323846264338327950288419716939937510")
    assert got.endswith("908658326459958133904780275901")


@pytest.mark.parametrize(
    "digits, expected",
    [
        (1, "3"),
        (2, "3.1"),
        (5, "3.1416"),
        (10, "3.141592654"),
        (32, "3.1415926535897932384626433832795"),
        (33, "3.14159265358979323846264338327950"),  # perl keeps the trailing zero
        (34, "3.141592653589793238462643383279503"),
    ],
)
def test_pi_rounding_like_perl(digits, expected):
    # Outputs of `perl -Mbignum=bpi -wle 'print bpi(N)'` (perl 5.36).
    assert pi_significant_digits(digits) == expected


def test_pi_tails_match_real_perl():
    # The last 30 characters real perl prints for bpi(500) and bpi(1000).
    assert pi_significant_digits(500).endswith("518857527248912279381830119491")
    assert pi_significant_digits(1000).endswith("613001927876611195909216420199")


def test_pi_job_program():
    program = run(["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"], image="perl:5.34.0")
    assert texts(program) == [pi_significant_digits(2000)]
    assert program.exit_code == 0
    assert 3.0 <= program.duration <= 5.0  # a realistic few seconds, seeded
    assert program.lines[0][0] == program.duration  # printed when the computation ends
    assert program.handles_sigterm is False
    # The seed decides the runtime; the same seed gives the same program.
    again = run(["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"], image="perl:5.34.0")
    assert again == program
    other = run(["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"], image="perl:5.34.0", seed="other")
    assert other.duration != program.duration


def test_perl_without_l_prints_no_newline_but_logs_the_partial_line():
    program = run(["perl", "-Mbignum=bpi", "-we", "print bpi(5)"], image="perl")
    assert texts(program) == ["3.1416"]


# --- shell and commands ------------------------------------------------------------------------------------


COMMAND_CASES = [
    (["sleep", "30"], [], 30.0, 0),
    (["sleep", "1m"], [], 60.0, 0),
    (["sleep", "5s"], [], 5.0, 0),
    (["sleep", "1.5"], [], 1.5, 0),
    (["sleep", "1m", "30"], [], 90.0, 0),
    (["sleep", "2h"], [], 7200.0, 0),
    (["sleep", "abc"], ["sleep: invalid time interval 'abc'"], 0.0, 1),
    (["/bin/sleep", "infinity"], [], None, 0),
    (["echo", "hello", "world"], ["hello world"], 0.0, 0),
    (["echo", "$HOME"], ["$HOME"], 0.0, 0),  # no shell: no $VAR expansion
    (["date"], ["Wed Jan  1 00:00:00 UTC 2025"], 0.0, 0),
    (["true"], [], 0.0, 0),
    (["false"], [], 0.0, 1),
    (["/bin/sh", "-c", "sleep 30; date"], ["Wed Jan  1 00:00:30 UTC 2025"], 30.0, 0),
    (["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"],
     ["Wed Jan  1 00:00:00 UTC 2025", "Hello from the Kubernetes cluster"], 0.0, 0),
    (["sh", "-c", "exit 3"], [], 0.0, 3),
    (["sh", "-c", "exit 257"], [], 0.0, 1),
    (["sh", "-c", "echo a; exit 2; echo b"], ["a"], 0.0, 2),
    (["sh", "-c", "false && echo no; echo $?"], ["1"], 0.0, 0),
    (["sh", "-c", "true && echo yes"], ["yes"], 0.0, 0),
    (["sh", "-c", "false || echo fallback"], ["fallback"], 0.0, 0),
    (["sh", "-c", "true || echo skipped"], [], 0.0, 0),
    (["sh", "-c", "false && echo a || echo b"], ["b"], 0.0, 0),
    (["sh", "-c", "true || echo a && echo b"], ["b"], 0.0, 0),
    (["sh", "-c", "sleep 2 && false"], [], 2.0, 1),
    (["bash", "-c", "echo -n a; echo b"], ["ab"], 0.0, 0),
    (["sh", "-c", "echo -n partial"], ["partial"], 0.0, 0),
    (["sh", "-c", "echo -e 'x\\ty'"], ["x\ty"], 0.0, 0),
    (["sh", "-c", "echo 'single $HOME' \"double $HOME\" plain\\ word"],
     ["single $HOME double /root plain word"], 0.0, 0),
    (["sh", "-c", "X='a  b'; echo $X; echo \"$X\"; echo ${X}!"], ["a b", "a  b", "a b!"], 0.0, 0),
    (["sh", "-c", "echo \"it is $(date)\""], ["it is Wed Jan  1 00:00:00 UTC 2025"], 0.0, 0),
    (["sh", "-c", "echo hidden > /dev/null; echo shown"], ["shown"], 0.0, 0),
    (["sh", "-c", "printf '%s=%d\\n' n 5"], ["n=5"], 0.0, 0),
    (["sh", "-c", "echo $HOSTNAME; hostname"], ["p", "p"], 0.0, 0),
    (["sh", "-c", "# a comment\necho after"], ["after"], 0.0, 0),
    (["sh", "-c", "sleep 1; date; sleep 1m; date"],
     ["Wed Jan  1 00:00:01 UTC 2025", "Wed Jan  1 00:01:01 UTC 2025"], 61.0, 0), 
]


@pytest.mark.parametrize(
    "command, lines, duration, exit_code", COMMAND_CASES, ids=[" ".join(case[0]) for case in COMMAND_CASES]
)
def test_commands(command, lines, duration, exit_code):
    program = run(command)
    assert texts(program) == lines
    assert program.duration == duration
    assert program.exit_code == exit_code


def test_output_offsets_follow_the_sleeps():
    program = run(["sh", "-c", "echo start; sleep 10; echo middle; sleep 5; echo end"])
    assert program.lines == ((0.0, "start"), (10.0, "middle"), (15.0, "end"))
    assert program.duration == 15.0


def test_env_expansion_in_shell_and_kubernetes_vars():
    program = run(["sh", "-c", "echo index=$JOB_COMPLETION_INDEX ${GREETING}"], env={"JOB_COMPLETION_INDEX": "3",
                                                                                   "GREETING": "hi"})
    assert texts(program) == ["index=3 hi"]
    # $(VAR) is expanded by Kubernetes before the process starts, even without a shell; $$ escapes.
    program = run(["echo", "$(GREETING)", "$$(GREETING)", "$(MISSING)"], env={"GREETING": "hi"})
    assert texts(program) == ["hi $(GREETING) $(MISSING)"]
    assert expand_kubernetes_vars("a$(X)b", {"X": "1"}) == "a1b"


def test_container_environment_resolves_field_refs():
    container = {
        "name": "c",
        "image": "busybox",
        "env": [
            {"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
                "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "GREETING", "value": "hello $(POD)"},
        ],
    }
    pod = {"metadata": {"name": "job-0-abcde", "annotations": {"batch.kubernetes.io/job-completion-index": "0"}}}
    env = container_environment(container, pod)
    assert env["HOSTNAME"] == "job-0-abcde"
    assert env["JOB_COMPLETION_INDEX"] == "0"
    assert env["GREETING"] == "hello job-0-abcde"


# --- image defaults, SIGTERM, unknown programs -------------------------------------------------------------


@pytest.mark.parametrize(
    "image, duration_is_none, handles_sigterm",
    [
        ("nginx", True, True),
        ("nginx:1.27", True, True),
        ("quay.io/fluentd_elasticsearch/fluentd:v2.5.2", True, True),
        ("fluentd", True, True),
        ("redis:7", True, True),
        ("httpd", True, True),
        ("registry.example.com/team/unknown-app:1.0", True, True),  # unknown image: a daemon (documented)
        ("busybox:1.36", False, False),
        ("ubuntu", False, False),
        ("alpine:3.20", False, False),
        ("perl:5.34.0", False, False),
    ],
)
def test_image_defaults(image, duration_is_none, handles_sigterm):
    program = run(image=image)
    assert (program.duration is None) is duration_is_none
    assert program.handles_sigterm is handles_sigterm
    assert program.exit_code == 0
    if not duration_is_none:
        assert program.duration < 0.5  # exits at once


def test_args_without_command_replace_cmd():
    assert texts(run(args=["echo", "from args"], image="busybox")) == ["from args"]
    assert run(args=["--config", "x"], image="quay.io/fluentd_elasticsearch/fluentd:v2.5.2").duration is None
    assert container_argv({"image": "busybox", "command": ["sh"], "args": ["-c", "date"]}, {}) == ["sh", "-c", "date"]


@pytest.mark.parametrize(
    "command, handles",
    [
        (["sleep", "3600"], False),  # PID 1 without a handler ignores SIGTERM
        (["sh", "-c", "sleep 3600"], False),
        (["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"], False),
        (["nginx", "-g", "daemon off;"], True),
        (["sh", "-c", "exec nginx -g 'daemon off;'"], True),
        (["sh", "-c", "nginx -g 'daemon off;'"], False),  # the shell stays PID 1
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else ("handles" if value else "ignores"),
)
def test_sigterm_handling(command, handles):
    assert run(command).handles_sigterm is handles


def test_unrecognised_commands_run_briefly_and_succeed():
    program = run(["python", "app.py"])
    assert program.lines == ()
    assert program.exit_code == 0
    assert 1.0 <= program.duration <= 2.0
    assert program.steps == (f"python app.py: not understood, runs {program.duration:g}s and exits 0",)
    # Control flow is not understood: the whole script is one unrecognised command.
    loop = run(["sh", "-c", "while true; do echo hi; sleep 1; done"])
    assert loop.lines == () and 1.0 <= loop.duration <= 2.0
    # Unknown commands inside a script take 1-2 s and the script goes on.
    mixed = run(["sh", "-c", "apt-get update; echo done"])
    assert texts(mixed) == ["done"] and 1.0 <= mixed.duration <= 2.0


# --- annotations -------------------------------------------------------------------------------------------


def test_annotation_overrides():
    program = run(["sleep", "30"], annotations={"sim.kubeviz.io/duration": "1m30s"})
    assert program.duration == 90.0
    program = run(["sh", "-c", "echo hi"], annotations={"sim.kubeviz.io/exit-code": "3"})
    assert program.exit_code == 3 and texts(program) == ["hi"]
    program = run(image="nginx", annotations={"sim.kubeviz.io/duration": "10s", "sim.kubeviz.io/exit-code": "2"})
    assert program.duration == 10.0 and program.exit_code == 2


def test_failure_probability_is_seeded():
    always = run(["sh", "-c", "sleep 30; date"], annotations={"sim.kubeviz.io/failure-probability": "1"})
    assert always.exit_code == 1 and always.duration == 30.0
    assert always.lines == ()  # it failed before printing
    never = run(["sh", "-c", "sleep 30; date"], annotations={"sim.kubeviz.io/failure-probability": "0"})
    assert never.exit_code == 0 and texts(never) == ["Wed Jan  1 00:00:30 UTC 2025"]
    half = [run(["sleep", "1"], annotations={"sim.kubeviz.io/failure-probability": "0.5"}, seed=str(i)).exit_code
            for i in range(40)]
    assert 0 < sum(half) < 40
    assert half == [run(["sleep", "1"], annotations={"sim.kubeviz.io/failure-probability": "0.5"},
                        seed=str(i)).exit_code for i in range(40)]


# --- helpers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, seconds", [("30s", 30.0), ("1m30s", 90.0), ("1.5h", 5400.0), ("300ms", 0.3),
                                           ("0", 0.0)])
def test_parse_go_duration(text, seconds):
    assert parse_go_duration(text) == pytest.approx(seconds)


def test_parse_go_duration_rejects_garbage():
    with pytest.raises(ValueError):
        parse_go_duration("30")


def test_format_date_pads_the_day_with_a_space():
    assert format_date(datetime(2025, 1, 1, 0, 0, 5, tzinfo=timezone.utc)) == "Wed Jan  1 00:00:05 UTC 2025"
    assert format_date(datetime(2024, 12, 31, 23, 59, 59, tzinfo=timezone.utc)) == "Tue Dec 31 23:59:59 UTC 2024"


def test_inputs_not_mutated():
    container = {"name": "c", "image": "busybox", "command": ["sh", "-c", "X=1; echo $X"],
                 "env": [{"name": "A", "value": "b"}]}
    pod = {"metadata": {"name": "p", "annotations": {"sim.kubeviz.io/exit-code": "1"}}}
    env = container_environment(container, pod)
    before = copy.deepcopy((container, pod, env))
    run_program(container, env=env, pod=pod, now=START, rng=random.Random("x"))
    assert (container, pod, env) == before
