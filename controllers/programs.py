"""What a simulated container "runs": its command line turned into a timed script of output and an exit.

A real kubelet asks the container runtime to start a process and then watches it. kubeviz has no processes, so
this module reads a container's ``command`` / ``args`` the way Docker and a shell would and answers a
``Program``: the lines it prints (each at an offset in seconds from the container's start), how long it runs
(``None``: until killed), its exit code and how it reacts to SIGTERM. The simulated kubelet
(``controllers.kubelet``) plays the program on the simulated clock.

How the command line is found (Docker semantics)
------------------------------------------------
``command`` replaces the image's ENTRYPOINT and ``args`` its CMD. Before anything runs, Kubernetes expands
``$(VAR)`` references in both from the container's environment (``$$(VAR)`` escapes; unknown names stay as
they are). Without ``command`` the image's defaults decide, from the small table ``KNOWN_IMAGES`` (matched on
the last path component of the image name, tag and digest ignored):

* ``perl``: the default ``perl -de0`` finds no terminal and exits 0 at once;
* ``busybox``, ``ubuntu``, ``alpine``, ``debian``, ``bash``, ``python``, ``node``...: a shell or REPL with
  no terminal, exits 0 at once;
* ``nginx``, ``httpd``, ``redis``, ``fluentd`` (also ``fluent/fluentd``, ``quay.io/fluentd_elasticsearch/
  fluentd``, ``fluentd-elasticsearch``), ``pause``...: daemons that run until stopped and exit 0 on SIGTERM.
* any other image without ``command`` is taken for a daemon too (documented choice: most images that are
  started without a command are servers).

``args`` without ``command`` are run as the command line, except for images whose entrypoint always starts
their daemon (fluentd).

What is understood
------------------
Executables (by base name, so ``/bin/sleep`` is ``sleep``): ``sleep`` (``30``, ``1.5``, ``5s``, ``1m``,
``2h``, ``1d``, several arguments add up, ``infinity``; longer than ``MAX_DURATION_SECONDS``, about 292 years:
never ends), ``echo`` (``-n``, ``-e``), ``printf`` (``%s``, ``%d``, ``\\n``), ``date`` (the default format
``Wed Jan  1 00:00:05 UTC 2025``, ``+FORMAT``, ``-u``), ``true``, ``false``, ``:``, ``hostname``,
``printenv`` / ``env``, ``exit N`` (not a number of at most 18 digits: status 2), ``exec CMD``, shells
``sh``/``bash``/``ash``/``dash`` with ``-c SCRIPT``, the daemons above by their executable names (``nginx``,
``httpd``, ``httpd-foreground``, ``redis-server``, ``fluentd``, ``pause``) and ``perl -Mbignum=bpi -wle
'print bpi(N)'`` (prints pi to N significant digits, as Math::BigFloat does, computed here with Machin's
formula; N is capped at ``MAX_PI_DIGITS``).

Shell scripts: words with ``'...'``, ``"..."`` and backslash quoting, ``$VAR`` / ``${VAR}`` / ``$?``
expansion (unquoted expansions are split on blanks), ``$(...)`` command substitution, ``VAR=value``
assignments, the separators ``;``, newline, ``&&``, ``||``, ``&`` (run like ``;``), ``|`` (the left side's
output is dropped), redirections ``>``/``>>``/``2>&1`` (``> /dev/null`` or a file drops the output) and
``#`` comments. Not understood: control flow (``if``, ``while``, ``for``, ``case``, functions), arithmetic
``$((...))``, globbing, here-documents. A script using control flow is treated as one unrecognised command.

Anything unrecognised (an unknown executable, a perl script other than the ``bpi`` one, a control-flow
script) runs 1-2 s (seeded), prints nothing and exits 0, so pods built from unfamiliar images still complete.

SIGTERM: a process that is PID 1 in its container and installs no handler ignores SIGTERM, so a shell,
``sleep``, ``perl`` or an unrecognised program is killed only when the grace period ends (exit code 137).
Daemons (also when started with ``exec`` from a shell) stop promptly on SIGTERM and exit 0.

Teaching overrides (pod annotations): ``sim.kubeviz.io/duration`` (a Go duration, ``30s``, ``1m30s``) sets
how long the program runs (output due later is printed at the new end); ``sim.kubeviz.io/exit-code`` sets the
exit code; ``sim.kubeviz.io/failure-probability`` (0..1) makes a run fail with exit code 1, decided with the
seeded ``rng``: the run then ends at its usual end (a daemon after 1-5 s) without printing what it would
have printed at that last moment.

Everything is pure: no clock (the container's start time is ``now``), randomness only from ``rng``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

# --- annotations -------------------------------------------------------------------------------------------

ANNOTATION_PREFIX = "sim.kubeviz.io/"
DURATION_ANNOTATION = "sim.kubeviz.io/duration"
EXIT_CODE_ANNOTATION = "sim.kubeviz.io/exit-code"
FAILURE_PROBABILITY_ANNOTATION = "sim.kubeviz.io/failure-probability"

#: Exit code of a process killed by SIGKILL (128 + 9), what the runtime reports after the grace period.
SIGKILL_EXIT_CODE = 137
#: Exit code of a process that dies of an unhandled SIGTERM (128 + 15).
SIGTERM_EXIT_CODE = 143

#: Largest ``bpi(N)`` computed; larger requests are capped (a teaching cluster should not stall).
MAX_PI_DIGITS = 20000
#: The longest span a Go ``time.Duration`` holds (2^63 - 1 ns, about 292 years). ``time.ParseDuration`` refuses
#: longer durations, and a ``sleep`` that would end later never ends on the simulated clock.
MAX_DURATION_SECONDS = (2**63 - 1) / 1e9


@dataclass(frozen=True)
class Program:
    """What a container does once started, on a timeline relative to its start.

    ``lines``: ``(offset_seconds, text)`` in print order (stdout and stderr together, as ``kubectl logs``
    shows them). ``duration``: seconds until the process exits by itself, ``None`` if it never does.
    ``exit_code``: its exit status then. ``handles_sigterm``: whether it exits promptly (with
    ``sigterm_exit_code``) when the kubelet sends SIGTERM; if not, it is killed with SIGKILL (137) when the
    grace period ends. ``steps``: what was understood, in words, for traces and the dashboard.
    """

    lines: tuple[tuple[float, str], ...] = ()
    duration: float | None = 0.0
    exit_code: int = 0
    handles_sigterm: bool = False
    sigterm_exit_code: int = 0
    steps: tuple[str, ...] = ()

    def lines_until(self, offset: float) -> tuple[tuple[float, str], ...]:
        """The lines printed at or before ``offset`` seconds."""
        return tuple(line for line in self.lines if line[0] <= offset)


# --- image defaults ----------------------------------------------------------------------------------------

#: Image (last path component of the repository) -> how it behaves when started without ``command``.
#: ``exit`` = exits 0 at once; ``daemon`` = never ends, args run as the command line (the entrypoint
#: ``exec``s them); ``daemon-only`` = never ends even with args (its entrypoint always starts the daemon).
KNOWN_IMAGES: dict[str, str] = {
    "perl": "exit",
    "busybox": "exit",
    "ubuntu": "exit",
    "alpine": "exit",
    "debian": "exit",
    "bash": "exit",
    "centos": "exit",
    "fedora": "exit",
    "python": "exit",
    "node": "exit",
    "nginx": "daemon",
    "httpd": "daemon",
    "redis": "daemon",
    "pause": "daemon",
    "fluentd": "daemon-only",
    "fluentd-elasticsearch": "daemon-only",
}

#: Executables that are servers: they run until stopped and exit 0 on SIGTERM.
DAEMON_EXECUTABLES = frozenset(
    {"nginx", "httpd", "httpd-foreground", "redis-server", "fluentd", "pause", "docker-entrypoint.sh"}
)

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})


def image_repository(image: str) -> str:
    """``quay.io/fluentd_elasticsearch/fluentd:v2.5.2`` -> ``quay.io/fluentd_elasticsearch/fluentd``."""
    name = image.split("@", 1)[0]
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        name = name[:colon]
    return name


def image_kind(image: str) -> str:
    """How ``image`` behaves without a ``command`` (see ``KNOWN_IMAGES``); unknown images are daemons."""
    base = image_repository(image).rsplit("/", 1)[-1]
    return KNOWN_IMAGES.get(base, "daemon")


# --- Go durations and Kubernetes variable expansion --------------------------------------------------------

_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_GO_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> float:
    """``time.ParseDuration`` for non-negative values: ``30s``, ``1m30s``, ``1.5h``, ``300ms``, ``0`` -> seconds."""
    text = text.strip()
    if text in ("0", "+0"):
        return 0.0
    if text.startswith("+"):
        text = text[1:]
    pos, total = 0, 0.0
    if not text:
        raise ValueError("invalid duration")
    while pos < len(text):
        match = _GO_DURATION_RE.match(text, pos)
        if match is None:
            raise ValueError(f"time: invalid duration {text!r}")
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        pos = match.end()
    if total > MAX_DURATION_SECONDS:
        raise ValueError(f"time: invalid duration {text!r}")
    return total


def expand_kubernetes_vars(text: str, env: dict[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion of command and args: ``$$`` -> ``$``, unknown references kept."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "$" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                close = text.find(")", i + 2)
                if close != -1:
                    name = text[i + 2 : close]
                    out.append(env[name] if name in env else text[i : close + 1])
                    i = close + 1
                    continue
        out.append(ch)
        i += 1
    return "".join(out)


# --- the container's environment ---------------------------------------------------------------------------

_FIELD_SUBSCRIPT_RE = re.compile(r"^metadata\.(annotations|labels)\['(.*)'\]$")


def _field_ref_value(pod: dict, path: str) -> str:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    match = _FIELD_SUBSCRIPT_RE.match(path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.hostIP": status.get("hostIP"),
        "status.podIP": status.get("podIP"),
    }
    return str(simple.get(path) or "")


def container_environment(container: dict, pod: dict) -> dict[str, str]:
    """The environment a container's process sees: ``HOSTNAME`` (the pod name), then its ``env`` entries.

    ``value`` is expanded with ``$(VAR)`` against earlier entries, as the kubelet does; ``valueFrom.fieldRef``
    is resolved from the pod (``metadata.name``, ``metadata.annotations['...']``, ``status.podIP``, ...;
    the Job controller's ``JOB_COMPLETION_INDEX`` comes this way). ConfigMap / Secret references are not
    simulated and yield an empty value.
    """
    env: dict[str, str] = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME": (pod.get("metadata") or {}).get("name") or "",
        "HOME": "/root",
    }
    for entry in container.get("env") or []:
        name = entry.get("name")
        if not name:
            continue
        if "value" in entry:
            env[name] = expand_kubernetes_vars(str(entry.get("value") or ""), env)
        elif (entry.get("valueFrom") or {}).get("fieldRef"):
            env[name] = _field_ref_value(pod, entry["valueFrom"]["fieldRef"].get("fieldPath") or "")
        else:
            env[name] = ""
    return env


# --- pi ----------------------------------------------------------------------------------------------------


def _arctan_inverse(x: int, unity: int) -> int:
    """``arctan(1/x) * unity`` with integers (Gregory series; each term truncated)."""
    total = term = unity // x
    x_squared = x * x
    n = 1
    sign = -1
    while term:
        term //= x_squared
        n += 2
        total += sign * (term // n)
        sign = -sign
    return total


#: Digits written per step by ``decimal_text``: well below Python's int-to-str limit (4,300 digits).
_DECIMAL_CHUNK_DIGITS = 1000
_DECIMAL_CHUNK = 10**_DECIMAL_CHUNK_DIGITS


def decimal_text(number: int) -> str:
    """``str(number)`` for a non-negative integer of any length.

    ``str()`` refuses integers of more than 4,300 digits (``sys.get_int_max_str_digits``, a guard against
    denial of service by slow conversions). The guard is process-wide and other code relies on it, so it is left
    alone: the number is cut into 1,000-digit chunks, least significant first, each written zero-padded.
    """
    if number < 0:
        raise ValueError("number must be >= 0")
    chunks = []
    while number >= _DECIMAL_CHUNK:
        number, chunk = divmod(number, _DECIMAL_CHUNK)
        chunks.append(f"{chunk:0{_DECIMAL_CHUNK_DIGITS}d}")
    chunks.append(str(number))
    return "".join(reversed(chunks))


@functools.lru_cache(maxsize=16)  # the pods of one Job all ask for the same digits
def pi_significant_digits(digits: int) -> str:
    """Pi rounded to ``digits`` significant digits, as ``Math::BigFloat->bpi(digits)`` prints it.

    ``bpi(1)`` is ``3``, ``bpi(5)`` is ``3.1416``, ``bpi(33)`` keeps its trailing zero
    (``3.14159265358979323846264338327950``). Computed with Machin's formula
    ``pi = 16 arctan(1/5) - 4 arctan(1/239)`` in integer arithmetic with guard digits, and written out by
    ``decimal_text`` (``str()`` stops at 4,300 digits).
    """
    if digits < 1:
        raise ValueError("digits must be >= 1")
    guard = 12
    unity = 10 ** (digits - 1 + guard)
    pi = 16 * _arctan_inverse(5, unity) - 4 * _arctan_inverse(239, unity)
    half = 10**guard // 2
    rounded = (pi + half) // 10**guard
    text = decimal_text(rounded)
    return text if len(text) == 1 else f"{text[0]}.{text[1:]}"


# --- output buffer and interpreter -------------------------------------------------------------------------


class _Stop(Exception):
    """Raised inside the interpreter when the process ends (``exit`` or a command that never returns)."""


@dataclass
class _Run:
    """Mutable state of one interpretation (private; the result is the frozen ``Program``)."""

    env: dict[str, str]
    start: datetime
    rng: object
    t: float = 0.0
    forever: bool = False
    status: int = 0
    exit_code: int | None = None
    handles_sigterm: bool = False
    sigterm_exit_code: int = 0
    lines: list = field(default_factory=list)
    partial: str = ""
    partial_at: float = 0.0
    steps: list = field(default_factory=list)
    capture: list | None = None

    def write(self, text: str, *, discard: bool = False) -> None:
        if discard or not text:
            return
        if self.capture is not None:
            self.capture.append(text)
            return
        if not self.partial:
            self.partial_at = self.t
        self.partial += text
        while "\n" in self.partial:
            line, self.partial = self.partial.split("\n", 1)
            self.lines.append((self.partial_at, line))
            self.partial_at = self.t

    def flush(self) -> None:
        if self.partial:
            self.lines.append((self.partial_at, self.partial))
            self.partial = ""

    def unknown(self, what: str) -> int:
        seconds = round(self.rng.uniform(1.0, 2.0), 3)
        self.t += seconds
        self.steps.append(f"{what}: not understood, runs {seconds:g}s and exits 0")
        return 0


_SLEEP_SUFFIX = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SLEEP_RE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$")


def _cmd_sleep(run: _Run, args: list[str], discard: bool) -> int:
    if not args:
        run.write("sleep: missing operand\n", discard=discard)
        return 1
    total = 0.0
    for arg in args:
        if arg.lower() in ("infinity", "inf"):
            run.steps.append("sleep infinity: never ends")
            run.forever = True
            raise _Stop
        match = _SLEEP_RE.match(arg)
        if match is None:
            run.write(f"sleep: invalid time interval '{arg}'\n", discard=discard)
            return 1
        total += float(match.group(1)) * _SLEEP_SUFFIX[match.group(2)]
    if run.t + total > MAX_DURATION_SECONDS:
        run.steps.append(f"sleep {' '.join(args)}: longer than the simulated clock can count, never ends")
        run.forever = True
        raise _Stop
    run.steps.append(f"sleep {' '.join(args)}: waits {total:g}s")
    run.t += total
    return 0


_ECHO_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "a": "\a", "b": "\b", "r": "\r", "v": "\v", "f": "\f"}


def _backslash_escapes(text: str) -> tuple[str, bool]:
    """Interpret ``echo -e`` / ``printf`` escapes; the flag says ``\\c`` stopped the output."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "c":
                return "".join(out), True
            if nxt in _ECHO_ESCAPES:
                out.append(_ECHO_ESCAPES[nxt])
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out), False


def _cmd_echo(run: _Run, args: list[str], discard: bool) -> int:
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for flag in args[0][1:]:
            if flag == "n":
                newline = False
            elif flag == "e":
                escapes = True
            else:
                escapes = False
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text, stopped = _backslash_escapes(text)
        if stopped:
            newline = False
    run.steps.append(f"echo: prints {text!r}")
    run.write(text + ("\n" if newline else ""), discard=discard)
    return 0


def _cmd_printf(run: _Run, args: list[str], discard: bool) -> int:
    if not args:
        run.write("printf: usage: printf format [arguments]\n", discard=discard)
        return 2
    fmt, values = args[0], list(args[1:])
    out: list[str] = []
    while True:
        i = 0
        while i < len(fmt):
            if fmt[i] == "%" and i + 1 < len(fmt):
                spec = fmt[i + 1]
                if spec == "%":
                    out.append("%")
                elif spec in "sd":
                    value = values.pop(0) if values else ""
                    if spec == "d":
                        try:
                            value = str(int(value or "0"))
                        except ValueError:
                            value = "0"
                    out.append(value)
                else:
                    out.append(fmt[i : i + 2])
                i += 2
                continue
            out.append(fmt[i])
            i += 1
        if not values or "%" not in fmt:
            break
    text, _ = _backslash_escapes("".join(out))
    run.steps.append(f"printf: prints {text!r}")
    run.write(text, discard=discard)
    return 0


def format_date(moment: datetime) -> str:
    """``date``'s default output in UTC: ``Wed Jan  1 00:00:05 UTC 2025`` (day padded with a space)."""
    t = moment.astimezone(timezone.utc)
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return (f"{days[t.weekday()]} {months[t.month - 1]} {t.day:2d} "
            f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} UTC {t.year}")


def _cmd_date(run: _Run, args: list[str], discard: bool) -> int:
    moment = run.start + timedelta(seconds=run.t)
    text = format_date(moment)
    for arg in args:
        if arg.startswith("+"):
            fmt = arg[1:].replace("%s", str(int(moment.timestamp()))).replace("%N", f"{moment.microsecond:06d}000")
            text = moment.strftime(fmt)
        elif arg not in ("-u", "--utc", "-R") and not arg.startswith("-"):
            return run.unknown(f"date {arg}")
    run.steps.append("date: prints the time")
    run.write(text + "\n", discard=discard)
    return 0


def _cmd_printenv(run: _Run, args: list[str], discard: bool) -> int:
    if args:
        found = [run.env[name] for name in args if name in run.env]
        for value in found:
            run.write(value + "\n", discard=discard)
        return 0 if len(found) == len(args) else 1
    for name, value in run.env.items():
        run.write(f"{name}={value}\n", discard=discard)
    return 0


_PERL_BPI_RE = re.compile(r"^\s*print\s*\(?\s*bpi\s*\(\s*([0-9]+)\s*\)\s*\)?\s*;?\s*$")


def _perl_bpi(argv: list[str]) -> tuple[int, bool] | None:
    """``(digits, newline)`` if ``argv`` is the classic ``perl -Mbignum=bpi -wle 'print bpi(N)'``."""
    modules: list[str] = []
    script: str | None = None
    newline = False
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("-M"):
            modules.append(arg[2:] or (argv[i + 1] if i + 1 < len(argv) else ""))
            if arg == "-M":
                i += 1
        elif arg.startswith("-") and len(arg) > 1 and arg != "--":
            flags = arg[1:]
            if "l" in flags:
                newline = True
            if "e" in flags or "E" in flags:
                rest = flags[max(flags.find("e"), flags.find("E")) + 1 :]
                script = rest or (argv[i + 1] if i + 1 < len(argv) else "")
                if not rest:
                    i += 1
        else:
            return None
        i += 1
    if script is None or not any(m.startswith(("bignum=", "bigrat=")) and "bpi" in m for m in modules):
        return None
    match = _PERL_BPI_RE.match(script)
    if match is None:
        return None
    number = match.group(1).lstrip("0") or "0"
    # A number longer than the cap is capped without int(), which refuses strings over 4,300 digits.
    digits = int(number) if len(number) <= len(str(MAX_PI_DIGITS)) else MAX_PI_DIGITS
    return digits, newline


def _cmd_perl(run: _Run, argv: list[str], discard: bool) -> int:
    parsed = _perl_bpi(argv)
    if parsed is None:
        if len(argv) == 1 or argv[1:] == ["-de0"]:
            run.steps.append("perl without a script: no terminal, exits 0")
            run.t += round(run.rng.uniform(0.05, 0.2), 3)
            return 0
        return run.unknown(" ".join(argv))
    digits, newline = parsed
    digits = max(1, min(digits, MAX_PI_DIGITS))
    # Math::BigFloat is pure Perl and roughly quadratic: about 4 s for 2,000 digits.
    seconds = round((0.3 + 3.7 * (digits / 2000) ** 2) * run.rng.uniform(0.85, 1.15), 3)
    run.t += seconds
    run.steps.append(f"perl bpi({digits}): computes pi to {digits} digits in {seconds:g}s and prints it")
    run.write(pi_significant_digits(digits) + ("\n" if newline else ""), discard=discard)
    return 0


_EXIT_NUMBER_RE = re.compile(r"-?[0-9]{1,18}")


def _exit_status(arg: str) -> int:
    """``exit ARG``'s status: a decimal number modulo 256; anything else (``abc``, ``--5``, ``²``, a number too
    long for the shell's 64-bit integers) is refused by the shell with status 2."""
    return int(arg) % 256 if _EXIT_NUMBER_RE.fullmatch(arg) else 2


def _daemon(run: _Run, name: str) -> None:
    run.steps.append(f"{name}: a server, runs until stopped")
    run.forever = True
    raise _Stop


def _exec_argv(run: _Run, argv: list[str], *, discard: bool = False, pid1: bool = False) -> int:
    """Run one simple command (already expanded). ``pid1``: it replaces the container's first process."""
    if not argv:
        return 0
    name = argv[0].rsplit("/", 1)[-1]
    args = argv[1:]
    if pid1:
        daemon = name in DAEMON_EXECUTABLES
        run.handles_sigterm = daemon
        run.sigterm_exit_code = 0
    if name in SHELLS:
        return _cmd_shell(run, argv, discard)
    if name == "sleep":
        return _cmd_sleep(run, args, discard)
    if name == "echo":
        return _cmd_echo(run, args, discard)
    if name == "printf":
        return _cmd_printf(run, args, discard)
    if name == "date":
        return _cmd_date(run, args, discard)
    if name in ("true", ":"):
        return 0
    if name == "false":
        return 1
    if name == "hostname":
        run.write(run.env.get("HOSTNAME", "") + "\n", discard=discard)
        return 0
    if name in ("printenv", "env"):
        return _cmd_printenv(run, args, discard)
    if name == "exit":
        run.exit_code = _exit_status(args[0]) if args else run.status % 256
        raise _Stop
    if name == "perl" or name.startswith("perl5"):
        return _cmd_perl(run, argv, discard)
    if name in DAEMON_EXECUTABLES:
        _daemon(run, name)
    return run.unknown(" ".join(argv))


def _cmd_shell(run: _Run, argv: list[str], discard: bool) -> int:
    args = argv[1:]
    while args and args[0] in ("-e", "-x", "-l", "-ex", "-xe", "--login"):
        args = args[1:]
    if not args:
        run.steps.append(f"{argv[0]}: no terminal, exits 0")
        return 0
    if args[0] in ("-c", "-ec", "-xc", "-lc"):
        if len(args) < 2:
            run.write(f"{argv[0]}: -c: option requires an argument\n", discard=discard)
            return 2
        return run_script(run, args[1], discard=discard)
    return run.unknown(" ".join(argv))


# --- shell script parsing ----------------------------------------------------------------------------------

_OPERATORS = ("&&", "||", ";", "\n", "&", "|")
_CONTROL_WORDS = frozenset({"if", "then", "else", "elif", "fi", "while", "until", "for", "do", "done", "case",
                            "esac", "function", "{", "}", "select"})
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ScriptError(ValueError):
    """The script uses syntax this interpreter does not understand."""


def _read_dollar(script: str, i: int, quoted: bool) -> tuple[tuple, int]:
    """Parse an expansion starting at ``script[i] == '$'``; returns ``(part, next_index)``."""
    nxt = script[i + 1] if i + 1 < len(script) else ""
    if nxt == "{":
        close = script.find("}", i + 2)
        if close == -1:
            raise ScriptError("unterminated ${")
        name = script[i + 2 : close]
        if not _NAME_RE.fullmatch(name) and name not in ("?", "$", "#", "0"):
            raise ScriptError(f"unsupported expansion ${{{name}}}")
        return ("var", name, quoted), close + 1
    if nxt == "(":
        if script.startswith("$((", i):
            raise ScriptError("arithmetic expansion")
        depth, j = 1, i + 2
        while j < len(script) and depth:
            if script[j] == "(":
                depth += 1
            elif script[j] == ")":
                depth -= 1
            j += 1
        if depth:
            raise ScriptError("unterminated $(")
        return ("cmd", script[i + 2 : j - 1], quoted), j
    if nxt in ("?", "$", "#", "0"):
        return ("var", nxt, quoted), i + 2
    match = _NAME_RE.match(script, i + 1)
    if match:
        return ("var", match.group(0), quoted), match.end()
    return ("lit", "$", quoted), i + 1


def tokenize(script: str) -> list:
    """Split a script into words (lists of parts) and operator strings. Raises ``ScriptError``."""
    tokens: list = []
    parts: list | None = None
    i = 0

    def end_word():
        nonlocal parts
        if parts is not None:
            tokens.append(parts)
            parts = None

    while i < len(script):
        ch = script[i]
        if ch in " \t":
            end_word()
            i += 1
            continue
        if ch == "#" and parts is None:
            while i < len(script) and script[i] != "\n":
                i += 1
            continue
        op = next((o for o in _OPERATORS if script.startswith(o, i)), None)
        if op is not None:
            end_word()
            tokens.append(op)
            i += len(op)
            continue
        if ch in "<>" or (ch.isdigit() and parts is None and script[i + 1 : i + 2] == ">"):
            end_word()
            match = re.compile(r"(\d?)(>>|>&|>|<)\s*").match(script, i)
            tokens.append(("redir", match.group(2)))
            i = match.end()
            continue
        if ch in "()`":
            raise ScriptError(f"unsupported syntax {ch!r}")
        if parts is None:
            parts = []
        if ch == "'":
            close = script.find("'", i + 1)
            if close == -1:
                raise ScriptError("unterminated quote")
            parts.append(("lit", script[i + 1 : close], True))
            i = close + 1
        elif ch == '"':
            parts.append(("lit", "", True))  # an empty "" is still a word
            i += 1
            while True:
                if i >= len(script):
                    raise ScriptError("unterminated quote")
                c = script[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\" and i + 1 < len(script) and script[i + 1] in '"\\$`\n':
                    parts.append(("lit", script[i + 1], True))
                    i += 2
                elif c == "$":
                    part, i = _read_dollar(script, i, True)
                    parts.append(part)
                elif c == "`":
                    raise ScriptError("backquotes")
                else:
                    parts.append(("lit", c, True))
                    i += 1
        elif ch == "\\":
            if i + 1 < len(script):
                if script[i + 1] != "\n":
                    parts.append(("lit", script[i + 1], True))
                i += 2
            else:
                i += 1
        elif ch == "$":
            part, i = _read_dollar(script, i, False)
            parts.append(part)
        else:
            parts.append(("lit", ch, False))
            i += 1
    end_word()
    return tokens


def _expand_word(run: _Run, parts: list) -> list[str]:
    """Expand one word into fields: quoted text stays whole, unquoted expansions are split on blanks."""
    fields: list[str] = []
    current: list[str] = []
    has_text = False
    for kind, value, quoted in parts:
        if kind == "lit":
            current.append(value)
            has_text = has_text or quoted or bool(value)
            continue
        if kind == "var":
            text = str(run.status) if value == "?" else ("1" if value == "$" else run.env.get(value, ""))
            if value == "0":
                text = "sh"
        else:
            text = _substitute(run, value)
        if quoted:
            current.append(text)
            has_text = True
            continue
        pieces = text.split()
        if not pieces:
            continue
        if text[:1].isspace() and (current or has_text):
            fields.append("".join(current))
            current = []
        current.append(pieces[0])
        for piece in pieces[1:]:
            fields.append("".join(current))
            current = [piece]
        has_text = True
        if text[-1:].isspace():
            fields.append("".join(current))
            current, has_text = [], False
    if current or has_text:
        fields.append("".join(current))
    return fields


def _substitute(run: _Run, script: str) -> str:
    """``$(script)``: run it, capturing its output; trailing newlines removed."""
    saved_capture, saved_status = run.capture, run.status
    run.capture = []
    try:
        run_script(run, script)
    finally:
        captured = "".join(run.capture or [])
        run.capture = saved_capture
    run.status = saved_status if run.exit_code is None else run.status
    return captured.rstrip("\n")


def _split_commands(tokens: list) -> list[tuple[list, str]]:
    """Group tokens into ``(command_tokens, following_operator)`` pairs."""
    commands: list[tuple[list, str]] = []
    current: list = []
    for token in tokens:
        if isinstance(token, str):
            commands.append((current, token))
            current = []
        else:
            current.append(token)
    commands.append((current, ";"))
    return commands


def _is_control_word(token) -> bool:
    """A command starting with ``if``/``while``/``for``/... (control flow this interpreter does not run)."""
    return (isinstance(token, list) and all(kind == "lit" and not quoted for kind, _, quoted in token)
            and "".join(value for _, value, _ in token) in _CONTROL_WORDS)


def run_script(run: _Run, script: str, *, discard: bool = False) -> int:
    """Interpret a ``sh -c`` script (``;``, ``&&``, ``||``, ``|``, ``&``), updating ``run``."""
    try:
        tokens = tokenize(script)
    except ScriptError:
        return run.unknown(f"sh -c {script!r}")
    if any(_is_control_word(command[0]) for command, _ in _split_commands(tokens) if command):
        return run.unknown(f"sh -c {script!r}")
    status = 0
    previous = ";"
    for command, operator in _split_commands(tokens):
        if not command:
            previous = operator
            continue
        # An AND-OR list runs left to right: `&&` needs the last status to be 0, `||` needs it non-zero.
        skip = (previous == "&&" and status != 0) or (previous == "||" and status == 0)
        if not skip:
            status = _run_simple(run, command, discard=discard or operator == "|")
            run.status = status
        previous = operator
    return status


def _run_simple(run: _Run, command: list, *, discard: bool) -> int:
    argv: list[str] = []
    redirect_discard = False
    pending_redirect: str | None = None
    for token in command:
        if isinstance(token, tuple) and token[0] == "redir":
            pending_redirect = token[1]
            continue
        fields = _expand_word(run, token)
        if pending_redirect is not None:
            target = fields[0] if fields else ""
            if pending_redirect in (">", ">>") and target not in ("/dev/stdout", "/dev/stderr", "/proc/1/fd/1",
                                                                  "/proc/1/fd/2"):
                redirect_discard = True
            pending_redirect = None
            continue
        argv.extend(fields)
    # Leading VAR=value words are assignments.
    while argv and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[0]):
        name, value = argv[0].split("=", 1)
        run.env = {**run.env, name: value}
        argv = argv[1:]
    if not argv:
        return 0
    if argv[0] == "exec":
        return _exec_argv(run, argv[1:], discard=discard or redirect_discard, pid1=True)
    return _exec_argv(run, argv, discard=discard or redirect_discard)


# --- entry point -------------------------------------------------------------------------------------------


def container_argv(container: dict, env: dict[str, str]) -> list[str] | None:
    """The command line a container runs (``$(VAR)`` expanded), or ``None`` when the image default runs."""
    command = [expand_kubernetes_vars(str(a), env) for a in container.get("command") or []]
    args = [expand_kubernetes_vars(str(a), env) for a in container.get("args") or []]
    if command:
        return command + args
    if args and image_kind(container.get("image") or "") != "daemon-only":
        return args
    return None


def _interpret(container: dict, env: dict[str, str], now: datetime, rng) -> Program:
    argv = container_argv(container, env)
    run = _Run(env=dict(env), start=now, rng=rng)
    if argv is None:
        image = container.get("image") or ""
        kind = image_kind(image)
        if kind == "exit":
            run.steps.append(f"{image_repository(image)}: default command exits at once")
            run.t = round(rng.uniform(0.02, 0.1), 3)
            return Program(duration=run.t, exit_code=0, steps=tuple(run.steps))
        run.steps.append(f"{image_repository(image)}: a daemon, runs until stopped")
        return Program(duration=None, handles_sigterm=True, sigterm_exit_code=0, steps=tuple(run.steps))
    try:
        status = _exec_argv(run, argv, pid1=True)
        run.exit_code = status
    except _Stop:
        pass
    run.flush()
    return Program(
        lines=tuple(run.lines),
        duration=None if run.forever else round(run.t, 6),
        exit_code=run.exit_code if run.exit_code is not None else run.status,
        handles_sigterm=run.handles_sigterm,
        sigterm_exit_code=run.sigterm_exit_code,
        steps=tuple(run.steps),
    )


def apply_overrides(program: Program, annotations: dict, rng) -> Program:
    """Apply the ``sim.kubeviz.io/`` teaching annotations (duration, exit code, failure probability)."""
    steps = list(program.steps)
    duration_text = annotations.get(DURATION_ANNOTATION)
    if duration_text:
        try:
            duration = parse_go_duration(str(duration_text))
        except ValueError:
            steps.append(f"{DURATION_ANNOTATION}={duration_text!r} is not a Go duration: ignored")
        else:
            lines = tuple((min(offset, duration), text) for offset, text in program.lines)
            program = replace(program, duration=duration, lines=lines)
            steps.append(f"{DURATION_ANNOTATION}: runs {duration:g}s")
    exit_text = annotations.get(EXIT_CODE_ANNOTATION)
    if exit_text not in (None, ""):
        try:
            code = int(str(exit_text)) % 256
        except ValueError:
            steps.append(f"{EXIT_CODE_ANNOTATION}={exit_text!r} is not an integer: ignored")
        else:
            program = replace(program, exit_code=code)
            steps.append(f"{EXIT_CODE_ANNOTATION}: exits {code}")
    probability_text = annotations.get(FAILURE_PROBABILITY_ANNOTATION)
    if probability_text not in (None, "") and exit_text in (None, ""):
        try:
            probability = float(str(probability_text))
        except ValueError:
            steps.append(f"{FAILURE_PROBABILITY_ANNOTATION}={probability_text!r} is not a number: ignored")
        else:
            roll = rng.random()
            if roll < probability:
                end = program.duration if program.duration is not None else round(rng.uniform(1.0, 5.0), 3)
                lines = tuple(line for line in program.lines if line[0] < end)
                program = replace(program, duration=end, exit_code=1, lines=lines)
                steps.append(f"{FAILURE_PROBABILITY_ANNOTATION}={probability:g}: this run fails (exit 1)")
            else:
                steps.append(f"{FAILURE_PROBABILITY_ANNOTATION}={probability:g}: this run succeeds")
    return replace(program, steps=tuple(steps))


def run_program(container: dict, *, env: dict[str, str], pod: dict, now: datetime, rng) -> Program:
    """What ``container`` of ``pod`` does when started at ``now`` (see the module docstring).

    ``env`` is the process environment (``container_environment`` builds it); ``rng`` is a ``random.Random``
    seeded by the caller per container run, the only source of variation. Inputs are not mutated.
    """
    program = _interpret(container, env, now, rng)
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    if any(key.startswith(ANNOTATION_PREFIX) for key in annotations):
        program = apply_overrides(program, annotations, rng)
    return program
