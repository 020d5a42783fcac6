"""What the dashboard's kubectl console may run: kubectl's own reading of a command line, and an allow-list.

The console runs the real kubectl on the learner's behalf, against this one cluster, and nothing more. A command
line is read here exactly as kubectl reads it, so that what is checked is what kubectl would do:

- the subcommand is found as cobra finds it (``Command.Find``: the first word that is not a flag or a flag's
  value, then a child of that command the same way: ``kubectl apply -f - view-last-applied``);
- flags are parsed as pflag parses them: names normalised the way kubectl normalises them (``_`` reads as ``-``,
  so ``--from_file`` is ``--from-file``); ``--name=value`` or ``--name value``; a flag with a default for "no
  value" (the booleans, ``--dry-run``, ``--cascade``, ``--validate``) never takes the next word; short flags
  cluster (``-Aw``) and take their value from the rest of the word (``-nkube-system``, ``-o=yaml``) or the next
  word; ``--`` ends the flags.

Every subcommand the console runs and every flag it accepts is listed below with whether it takes a value;
anything else is refused before kubectl starts, with a message that says what is not allowed and why. There is no
editor (``edit``, ``apply edit-last-applied``), no file or directory of the server (``-f`` reads only ``-``, the
editor's text; no ``-k``, ``--patch-file``, ``-o jsonpath-file``), no other server or credentials (the runner
injects both), and ``get --raw`` reaches only this cluster's API.
"""

import re
import shlex
from dataclasses import dataclass

ALIASES = ("kubectl", "k")
MAX_COMMAND_CHARS = 4096


class Refused(Exception):
    """A command line the console will not run; the message is printed as kubectl prints an error."""


@dataclass(frozen=True)
class Flag:
    name: str  # the long name, without dashes
    short: str = ""  # the one-letter shorthand, if any
    #: "bool" (``--x``, ``--x=false``), "value" (``--x v``, ``--x=v``), or "optional": a value only after ``=``
    #: (pflag's NoOptDefVal, e.g. ``--dry-run`` alone means ``--dry-run=unchanged``).
    kind: str = "bool"

    @property
    def takes_next_word(self) -> bool:
        return self.kind == "value"


def _flags(*specs: str) -> dict[str, Flag]:
    """Flags from kubectl-help-like specs: ``"-o --output="`` (a value), ``"--dry-run=?"`` (optional value),
    ``"-A --all-namespaces"`` (a boolean)."""
    table = {}
    for spec in specs:
        *short, long = spec.split()
        kind = "optional" if long.endswith("=?") else "value" if long.endswith("=") else "bool"
        flag = Flag(long.lstrip("-").rstrip("=?"), short[0].lstrip("-") if short else "", kind)
        table[flag.name] = flag
    return table


#: kubectl's global flags that the console accepts (the rest name another server, credentials or local files).
GLOBAL = _flags("-n --namespace=", "--request-timeout=", "-v --v=", "--warnings-as-errors", "--match-server-version",
                "--disable-compression")

_PRINT = ("--allow-missing-template-keys", "-o --output=", "--show-managed-fields", "--template=")
_FILES = ("-f --filename=", "-R --recursive")
_WRITE = ("--dry-run=?", "--field-manager=")
_SELECT = ("-l --selector=",)

#: The command paths the console runs, each with the flags it accepts (besides GLOBAL). Taken from kubectl 1.32's
#: ``--help`` of each, less what reads the server's files, opens an editor or sends raw requests elsewhere.
COMMANDS: dict[tuple[str, ...], dict[str, Flag]] = {
    ("get",): _flags(*_PRINT, *_FILES, *_SELECT, "-A --all-namespaces", "--chunk-size=", "--field-selector=",
                     "--ignore-not-found", "-L --label-columns=", "--no-headers", "--output-watch-events", "--raw=",
                     "--server-print", "--show-kind", "--show-labels", "--sort-by=", "--subresource=",
                     "-w --watch", "--watch-only"),
    ("describe",): _flags(*_FILES, *_SELECT, "-A --all-namespaces", "--chunk-size=", "--show-events"),
    ("logs",): _flags(*_SELECT, "--all-containers", "--all-pods", "-c --container=", "-f --follow", "--ignore-errors",
                      "--limit-bytes=", "--max-log-requests=", "--pod-running-timeout=", "--prefix", "-p --previous",
                      "--since=", "--since-time=", "--tail=", "--timestamps"),
    ("apply",): _flags(*_PRINT, *_FILES, *_WRITE, *_SELECT, "--all", "--cascade=?", "--force", "--force-conflicts",
                       "--grace-period=", "--openapi-patch", "--overwrite", "--prune", "--prune-allowlist=",
                       "--server-side", "--subresource=", "--timeout=", "--validate=?", "--wait"),
    ("apply", "view-last-applied"): _flags(*_FILES, *_SELECT, "--all", "-o --output="),
    ("apply", "set-last-applied"): _flags(*_PRINT, *_WRITE[:1], "-f --filename=", "--create-annotation"),
    ("create",): _flags(*_PRINT, *_FILES, *_WRITE, *_SELECT, "--save-config", "--validate=?",
                        "--windows-line-endings"),
    ("create", "job"): _flags(*_PRINT, *_WRITE, "--from=", "--image=", "--save-config", "--validate=?"),
    ("create", "cronjob"): _flags(*_PRINT, *_WRITE, "--image=", "--restart=", "--save-config", "--schedule=",
                                  "--validate=?"),
    ("create", "namespace"): _flags(*_PRINT, *_WRITE, "--save-config", "--validate=?"),
    ("create", "quota"): _flags(*_PRINT, *_WRITE, "--hard=", "--save-config", "--scopes=", "--validate=?"),
    ("delete",): _flags(*_FILES, *_SELECT, "--dry-run=?", "--all", "-A --all-namespaces", "--cascade=?",
                        "--field-selector=", "--force", "--grace-period=", "--ignore-not-found", "--now",
                        "-o --output=", "--timeout=", "--wait"),
    ("label",): _flags(*_PRINT, *_FILES, *_WRITE, *_SELECT, "--all", "-A --all-namespaces", "--field-selector=",
                       "--list", "--local", "--overwrite", "--resource-version="),
    ("annotate",): _flags(*_PRINT, *_FILES, *_WRITE, *_SELECT, "--all", "-A --all-namespaces", "--field-selector=",
                          "--list", "--local", "--overwrite", "--resource-version="),
    ("taint",): _flags(*_PRINT, *_WRITE, *_SELECT, "--all", "--overwrite", "--validate=?"),
    ("cordon",): _flags(*_SELECT, "--dry-run=?"),
    ("uncordon",): _flags(*_SELECT, "--dry-run=?"),
    ("patch",): _flags(*_PRINT, *_FILES, *_WRITE, "--local", "-p --patch=", "--subresource=", "--type="),
    ("rollout",): {},
    ("rollout", "history"): _flags(*_PRINT, *_FILES, *_SELECT, "--revision="),
    ("rollout", "status"): _flags(*_FILES, *_SELECT, "--revision=", "--timeout=", "-w --watch"),
    ("rollout", "undo"): _flags(*_PRINT, *_FILES, *_SELECT, "--dry-run=?", "--to-revision="),
    ("rollout", "restart"): _flags(*_PRINT, *_FILES, *_SELECT, "--field-manager="),
    ("rollout", "pause"): _flags(*_PRINT, *_FILES, *_SELECT, "--field-manager="),
    ("rollout", "resume"): _flags(*_PRINT, *_FILES, *_SELECT, "--field-manager="),
    ("replace",): _flags(*_PRINT, *_FILES, *_WRITE, "--cascade=?", "--force", "--grace-period=", "--save-config",
                         "--subresource=", "--timeout=", "--validate=?", "--wait"),
    ("explain",): _flags("--api-version=", "-o --output=", "--recursive"),
    ("api-resources",): _flags("--api-group=", "--cached", "--categories=", "--namespaced", "--no-headers",
                               "-o --output=", "--sort-by=", "--verbs="),
    ("api-versions",): {},
    ("version",): _flags("--client", "-o --output="),
}

#: Every child command kubectl has under the commands above, with cobra's aliases, so that a child the console does
#: not run is recognised (and refused) rather than read as an argument.
CHILDREN = {
    "apply": {"edit-last-applied": "edit-last-applied", "set-last-applied": "set-last-applied",
              "view-last-applied": "view-last-applied"},
    "create": {name: name for name in (
        "clusterrole", "clusterrolebinding", "configmap", "cronjob", "deployment", "ingress", "job", "namespace",
        "poddisruptionbudget", "priorityclass", "quota", "role", "rolebinding", "secret", "service",
        "serviceaccount", "token")} | {"cm": "configmap", "cj": "cronjob", "deploy": "deployment", "ing": "ingress",
                                       "ns": "namespace", "pdb": "poddisruptionbudget", "pc": "priorityclass",
                                       "resourcequota": "quota", "svc": "service", "sa": "serviceaccount"},
    "rollout": {name: name for name in ("history", "pause", "restart", "resume", "status", "undo")},
}

#: Why the flags kubectl has and the console refuses are refused; any other unlisted flag gets a generic answer.
_SERVER = "the console talks to this cluster only, with the server's own credentials"
_FILE = "the console reads no files of the server: use -f - for the editor's text"
REASONS = {
    **dict.fromkeys(("kubeconfig", "server", "token", "as", "as-group", "as-uid", "context", "cluster", "user",
                     "username", "password", "certificate-authority", "client-certificate", "client-key",
                     "insecure-skip-tls-verify", "tls-server-name", "insecure-skip-tls-verify-backend"), _SERVER),
    **dict.fromkeys(("kustomize", "from-file", "from-env-file", "patch-file", "cache-dir", "profile",
                     "profile-output", "log-file", "log-dir", "kuberc"), _FILE),
    "edit": "the console opens no editor: change the YAML in the editor and apply it",
    "raw": "the console sends raw requests only with kubectl get --raw",
    "interactive": "the console asks no questions: it has no terminal",
}
#: kubectl's short flags that the console refuses, named by their long flag for the message.
REASON_BY_SHORT = {"s": "server", "k": "kustomize", "i": "interactive"}
FILE_OUTPUTS = frozenset({"jsonpath-file", "go-template-file", "custom-columns-file", "templatefile"})
#: What follows ``get --raw``: a path of the Kubernetes API, with no way out of it (``..``, escapes, ``//``).
RAW_PATH = re.compile(r"/(?!/)[A-Za-z0-9._~/:@!$&'()*+,;=?-]*")

STREAMING_FLAGS = {("get",): ("watch", "watch-only"), ("logs",): ("follow",)}
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}  # strconv.ParseBool's true


@dataclass(frozen=True)
class Command:
    """A command line the console may run: kubectl's arguments (without the program name) and whether it streams
    (a watch, ``logs -f``), which the runner stops after a few seconds."""

    args: list[str]
    streaming: bool = False


def normalize(name: str) -> str:
    """kubectl's flag-name normalisation (``cliflag.WordSepNormalizeFunc``): ``_`` is read as ``-``."""
    return name.replace("_", "-")


# --- finding the command, as cobra does -----------------------------------------------------------------------


def _lookup(flags: dict[str, Flag], word: str) -> Flag | None:
    if word.startswith("--"):
        return flags.get(normalize(word[2:].split("=", 1)[0]))
    return next((flag for flag in flags.values() if flag.short and flag.short == word[1:2]), None)


def _positionals(args: list[str], flags: dict[str, Flag]) -> list[tuple[int, str]]:
    """The words cobra's ``stripFlags`` leaves (with their index): it skips ``--flag value`` and ``-f value`` for
    flags it does not know to be boolean, and stops at ``--``."""
    found, i = [], 0
    while i < len(args):
        word = args[i]
        i += 1
        if word == "--":
            break
        takes_value = (word.startswith("--") and "=" not in word) or (
            word.startswith("-") and "=" not in word and len(word) == 2)
        if takes_value:
            flag = _lookup(flags, word)
            if flag is None or flag.takes_next_word:
                if i >= len(args):
                    break
                i += 1
            continue
        if word and not word.startswith("-"):
            found.append((i - 1, word))
    return found


def find_command(args: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """The command path kubectl runs and the arguments its flags are parsed from (the path's words removed)."""
    first = _positionals(args, GLOBAL)
    if not first:
        raise Refused("error: type a kubectl command, such as \"kubectl get pods\"; the console runs: "
                      + ", ".join(sorted({path[0] for path in COMMANDS})))
    index, name = first[0]
    if (name,) not in COMMANDS:
        raise Refused(f'error: the console does not run "kubectl {name}"; it runs: '
                      + ", ".join(sorted({path[0] for path in COMMANDS})))
    rest = args[:index] + args[index + 1:]
    children = CHILDREN.get(name)
    if children:
        second = _positionals(rest, {**GLOBAL, **COMMANDS[(name,)]})
        if second and second[0][1] in children:
            index, alias = second[0]
            child = children[alias]
            if (name, child) not in COMMANDS:
                raise Refused(_child_refusal(name, child))
            return (name, child), rest[:index] + rest[index + 1:]
    return (name,), rest


def _child_refusal(name: str, child: str) -> str:
    if child == "edit-last-applied":
        return f"error: the console does not run \"kubectl apply edit-last-applied\": {REASONS['edit']}"
    runs = ", ".join(sorted(path[1] for path in COMMANDS if len(path) == 2 and path[0] == name))
    if name == "create":
        return (f'error: the console does not run "kubectl create {child}"; it creates objects with '
                f'"kubectl create -f -" (the editor\'s YAML) and runs: kubectl create {runs}')
    return f'error: the console does not run "kubectl {name} {child}"; it runs: kubectl {name} {runs}'


# --- parsing its flags, as pflag does ---------------------------------------------------------------------------


def _check_value(flag: Flag, value: str, prefix: str) -> str:
    """The value kubectl gets (``get --raw`` is put under this cluster's API ``prefix``), or Refused."""
    if flag.name == "filename" and value != "-":
        raise Refused(f"error: {_FILE} (not -f {value})")
    if flag.name == "output" and value.split("=", 1)[0].strip().lower() in FILE_OUTPUTS:
        raise Refused(f"error: {_FILE} (-o {value.split('=', 1)[0]} reads a file)")
    if flag.name == "raw":
        if not RAW_PATH.fullmatch(value) or ".." in value.split("?", 1)[0].split("/"):
            raise Refused(f'error: --raw takes a path of this cluster\'s API, such as "/apis/batch/v1" '
                          f"(not {value!r})")
        return f"{prefix}{value}"
    return value


def _refuse_flag(path: tuple[str, ...], shown: str, name: str) -> Refused:
    command = "kubectl " + " ".join(path)
    reason = REASONS.get(name)
    if reason:
        return Refused(f"error: the console does not accept {shown} with {command}: {reason}")
    accepted = ", ".join(f"--{flag}" for flag in sorted(COMMANDS[path])) or "no flags of its own"
    return Refused(f"error: the console does not accept {shown} with {command}; it accepts {accepted}, "
                   f"and -n/--namespace")


def parse_flags(path: tuple[str, ...], args: list[str], *, cluster: str, prefix: str | None = None) -> Command:
    """Check every flag of ``args`` against the allow-list of ``path``; answers the arguments to run. ``prefix``
    is where the server serves the cluster's API (``/clusters/<cluster>``, or a capability's ``/k/<token>``)."""
    prefix = prefix or f"/clusters/{cluster}"
    flags = {**GLOBAL, **COMMANDS[path]}
    by_short = {flag.short: flag for flag in flags.values() if flag.short}
    streaming_names = STREAMING_FLAGS.get(path, ())
    out = list(path)
    streaming = False

    def accept(flag: Flag, value: str | None, shown: str) -> str | None:
        nonlocal streaming
        if value is not None and flag.kind != "bool":
            value = _check_value(flag, value, prefix)
        if flag.name in streaming_names:
            streaming = value is None or value in _TRUE
        return value

    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if word == "--":
            out.extend(args[i - 1:])
            break
        if word.startswith("--"):
            name, has_value, value = word[2:].partition("=")
            name = normalize(name)
            flag = flags.get(name)
            if flag is None:
                raise _refuse_flag(path, f"--{name}", name)
            if not has_value and flag.takes_next_word:
                if i >= len(args):
                    raise Refused(f"error: flag needs an argument: --{name}")
                value, has_value = args[i], True
                i += 1
            value = accept(flag, value if has_value else None, f"--{name}")
            out.append(f"--{name}" if value is None else f"--{name}={value}")
            continue
        if word.startswith("-") and len(word) > 1:
            letters = word[1:]
            while letters:
                letter, letters = letters[0], letters[1:]
                flag = by_short.get(letter)
                if flag is None:
                    raise _refuse_flag(path, f"-{letter}", REASON_BY_SHORT.get(letter, letter))
                if letters.startswith("="):
                    value, letters = letters[1:], ""
                elif flag.kind != "value":
                    value = None
                elif letters:
                    value, letters = letters, ""
                elif i < len(args):
                    value = args[i]
                    i += 1
                else:
                    raise Refused(f"error: flag needs an argument: '{letter}' in -{letter}")
                value = accept(flag, value, f"-{letter}")
                out.append(f"--{flag.name}" if value is None else f"--{flag.name}={value}")
            continue
        out.append(word)
    return Command(out, streaming)



def parse(command: str, *, cluster: str, prefix: str | None = None) -> Command:
    """Read a console line as kubectl would; answers what to run, or raises Refused saying what is not allowed."""
    if len(command) > MAX_COMMAND_CHARS:
        raise Refused(f"error: the command is longer than {MAX_COMMAND_CHARS} characters")
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise Refused(f"error: cannot parse the command: {exc}") from None
    if not words:
        return Command([])
    if words[0] not in ALIASES:
        raise Refused(f'error: unknown command "{words[0]}": the console runs kubectl commands only, '
                      f'such as "kubectl get pods"')
    path, args = find_command(words[1:])
    return parse_flags(path, args, cluster=cluster, prefix=prefix)
