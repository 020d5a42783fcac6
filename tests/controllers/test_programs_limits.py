"""``controllers.programs`` at its limits: pi past Python's 4,300-digit int-to-str guard, numbers too long to
read, sleeps longer than the clock can count. Each used to raise out of the interpreter (a 500, a pod stuck in
ContainerCreating); each now runs as the real program would.
"""

from __future__ import annotations

import math
import random
import sys
from datetime import datetime, timezone
from decimal import Decimal, localcontext

import pytest

from controllers.programs import (
    DURATION_ANNOTATION,
    MAX_PI_DIGITS,
    container_environment,
    decimal_text,
    parse_go_duration,
    pi_significant_digits,
    run_program,
)
from kubeviz.runtime.memory import memory_cluster
from tests.manifests import PI

START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def run(command, *, image="busybox:1.36", annotations=None):
    container = {"name": "c", "image": image, "command": command}
    pod = {"metadata": {"name": "p", "namespace": "default", "annotations": annotations or {}},
           "spec": {"containers": [container]}}
    return run_program(container, env=container_environment(container, pod), pod=pod, now=START,
                       rng=random.Random("seed"))


def bpi(digits) -> list[str]:
    return ["perl", "-Mbignum=bpi", "-wle", f"print bpi({digits})"]


# --- pi past 4,300 digits ----------------------------------------------------------------------------------


def pi_reference(digits: int) -> str:
    """Pi to ``digits`` significant digits computed another way than the code under test: the Gauss-Legendre
    iteration on integers (``math.isqrt``), rounded and written out by the ``decimal`` module."""
    scale = digits + 20  # guard digits
    one = 10**scale
    a, b, t, p = one, math.isqrt(one * one // 2), one // 4, 1
    for _ in range(digits.bit_length() + 2):  # each round doubles the correct digits
        a, b, t, p = (a + b) // 2, math.isqrt(a * b), t - p * ((a - b) // 2) ** 2 // one, 2 * p
    pi_scaled = (a + b) ** 2 // (4 * t)
    with localcontext() as context:
        context.prec = digits
        return str(+Decimal(pi_scaled).scaleb(-scale))


# The last 20 characters, pinned once the two computations agreed (real perl 5.36 gives up before 3,000 digits:
# "Can't use an undefined value as an ARRAY reference at Math/BigInt/Calc.pm").
PI_TAILS = [
    (4300, "64645880797270826683"),
    (4301, "46458807972708266831"),  # digit 4,301 is a 1: bpi(4300) above rounds down
    (5000, "08099888687413260472"),
    (MAX_PI_DIGITS, "18074487814049075518"),
]


@pytest.mark.parametrize("digits, tail", PI_TAILS)
def test_pi_beyond_the_int_to_str_limit_matches_an_independent_computation(digits, tail):
    got = pi_significant_digits(digits)
    assert got == pi_reference(digits)
    assert len(got.replace(".", "")) == digits
    assert got.startswith("3.14159265358979323846264338327950288419716939937510")
    assert got.endswith(tail)


def test_pi_leaves_the_process_wide_int_to_str_guard_alone():
    limit = sys.get_int_max_str_digits()
    pi_significant_digits.cache_clear()
    pi_significant_digits(MAX_PI_DIGITS)
    assert sys.get_int_max_str_digits() == limit
    with pytest.raises(ValueError, match="Exceeds the limit"):
        str(10**5000)


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(0, id="zero"),
        pytest.param(7, id="one digit"),
        pytest.param(10**999, id="one chunk"),
        pytest.param(10**1000 - 1, id="a full chunk of nines"),
        pytest.param(10**1000, id="one more than a chunk"),
        pytest.param(10**1000 + 1, id="zero-padded chunk"),
        pytest.param(10**4300 + 12345, id="past the str() limit"),
        pytest.param(3**30000, id="14,314 digits"),
        pytest.param(10**20000 - 1, id="20,000 nines"),
    ],
)
def test_decimal_text_writes_any_integer(number):
    assert decimal_text(number) == format(Decimal(number), "f")


@pytest.mark.parametrize(
    "command, digits",
    [
        pytest.param(bpi(5000), 5000, id="5,000 digits"),
        pytest.param(bpi(MAX_PI_DIGITS + 1), MAX_PI_DIGITS, id="one over the cap"),
        pytest.param(bpi("9" * 5000), MAX_PI_DIGITS, id="a 5,000-digit N"),  # capped without int(), which refuses it
    ],
)
def test_perl_bpi_prints_its_digits_up_to_the_cap(command, digits):
    program = run(command, image="perl:5.34.0")
    assert [text for _, text in program.lines] == [pi_significant_digits(digits)]
    assert program.exit_code == 0


# --- numbers a shell cannot read ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script, exit_code",
    [
        ("exit 3", 3),
        ("exit 256", 0),
        ("exit -1", 255),
        ("exit 123456789012345678", 123456789012345678 % 256),
        ("exit abc", 2),
        ("exit --5", 2),  # was int("--5"): ValueError
        ("exit ²", 2),  # a Unicode digit, which str.isdigit() accepts and int() refuses
        pytest.param("exit " + "9" * 5000, 2, id="exit 5,000 nines"),  # was int() of 5,000 digits: ValueError
    ],
)
def test_exit_status(script, exit_code):
    assert run(["sh", "-c", script]).exit_code == exit_code


# --- durations beyond the clock ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, valid",
    [
        ("2562047h", True),
        ("2562047h47m16s", True),  # just under Go's largest Duration, 2562047h47m16.854775807s
        ("2562048h", False),  # time: invalid duration
        ("99999999h", False),
    ],
)
def test_parse_go_duration_refuses_what_a_go_duration_cannot_hold(text, valid):
    if valid:
        assert parse_go_duration(text) > 9.2e9
    else:
        with pytest.raises(ValueError, match="invalid duration"):
            parse_go_duration(text)


def test_a_sleep_longer_than_the_clock_can_count_never_ends():
    program = run(["sh", "-c", "echo start; sleep 99999999999999; echo never"])
    assert [text for _, text in program.lines] == ["start"]
    assert program.duration is None
    assert run(["sleep", "9" * 400]).duration is None  # float("9" * 400) is inf
    assert run(["sleep", "86400"]).duration == 86400.0


def test_a_duration_annotation_too_long_for_go_is_ignored():
    program = run(["sleep", "30"], annotations={DURATION_ANNOTATION: "99999999h"})
    assert program.duration == 30.0
    assert program.steps[-1] == f"{DURATION_ANNOTATION}='99999999h' is not a Go duration: ignored"


def test_a_pod_sleeping_longer_than_the_clock_can_count_runs_on():
    cluster = memory_cluster(nodes=1, seed=1, start=START)
    forever = PI.replace("name: pi\n", "name: nap\n", 1).replace(
        '["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]', '["sleep", "99999999999999"]')
    assert all(result.ok for result in cluster.apply(forever))
    cluster.advance(600)  # the kubelet used to raise OverflowError computing when the sleep ends
    (pod,) = cluster.objects("Pod")
    assert pod["status"]["phase"] == "Running"


# --- end to end: the pi Job at 5,000 digits ----------------------------------------------------------------


def test_pi_job_of_5000_digits_completes_with_its_digits_in_the_log():
    cluster = memory_cluster(nodes=2, seed=1, start=START)
    assert all(result.ok for result in cluster.apply(PI.replace("bpi(2000)", "bpi(5000)")))
    cluster.advance(120)
    (pod,) = cluster.objects("Pod")
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    meta = pod["metadata"]
    log = cluster.storage.read_log(meta["namespace"], meta["name"], meta["uid"], "pi", 0)
    assert [text for _, text in log] == [pi_reference(5000)]
    (job,) = cluster.objects("Job")
    assert {c["type"]: c["status"] for c in job["status"]["conditions"]}["Complete"] == "True"
