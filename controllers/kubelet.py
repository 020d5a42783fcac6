"""The simulated kubelet: runs the pods bound to one node, as data-driven stages on the simulated clock.

``sync_pod(pod, node, now, memory=..., seed=...)`` is one pass of the kubelet's pod worker for ONE pod whose
``spec.nodeName`` is ``node``. Like kwok, the lifecycle is a table of ``Stage`` rows (``STAGES``): each row
says which pod or container state it applies to, when it becomes due, and what it does then (new state,
events, log lines). A sync fires every due row in time order, each at its own due time (so a late sync still
writes exact timestamps), derives the pod status the way ``kubelet_pods.go`` ``generateAPIPodStatus`` /
``getPhase`` do, and asks to be requeued when the next row falls due.

What it reproduces (Kubernetes 1.31-1.34, containerd runtime, kind-like nodes):

* admission on a Ready node: ``Pending``, ``hostIP(s)``, ``podIP(s)`` (from the node's ``podCIDR``),
  ``startTime``, conditions, containers ``waiting{ContainerCreating}``;
* image pull: images listed in ``node.status.images`` are "already present on machine" (start after
  0.3-1 s, seeded); others are pulled in 2-8 s (seeded) and then recorded on the node with ``AddNodeImage``
  (``imagePullPolicy: Always`` pulls again, quickly when cached; ``Never`` without the image waits in
  ``ErrImageNeverPull``); events ``Pulling``, ``Pulled``, ``Created``, ``Started`` with 1.32 wording;
* running: the container's ``controllers.programs.Program`` is played: output goes to the log with
  ``AppendLog`` when printed, ``readinessProbe.initialDelaySeconds`` delays readiness, the exit is
  ``terminated{Completed|Error}``;
* a command the simulated runtime cannot run (the interpreter raised; the error is logged) fails to start as
  containerd reports it: Warning ``Failed``, ``terminated{StartError}`` with exit code 128, and
  ``waiting{RunContainerError}`` until a restart;
* restarts per ``restartPolicy`` with the kubelet's crash-loop back-off (``flowcontrol.Backoff``: 10 s
  doubling to 300 s, the first restart immediate, reset after 10 min): ``waiting{CrashLoopBackOff}``, Warning
  ``BackOff``, ``lastState.terminated``, ``restartCount``;
* phase: ``Succeeded`` / ``Failed`` / ``Running`` as ``getPhase`` computes it;
* deletion (``deletionTimestamp``): ``Killing``; a program that handles SIGTERM (a daemon) stops within
  0.1-1 s, others (a shell, ``sleep``) are SIGKILLed with 137 when ``deletionGracePeriodSeconds`` ends; once
  every container stopped the pod turns ``Succeeded`` (all 0) or ``Failed`` and the kubelet deletes it for
  good (``DeleteObject`` with ``grace_period_seconds=0``);
* ``spec.activeDeadlineSeconds``: the pod fails with reason ``DeadlineExceeded`` and its containers are
  stopped;
* a node that is not Ready (or missing): the kubelet is down and nothing happens; when the node is Ready
  again the next sync catches up, stages firing at the times they were due (containers kept running while
  the kubelet was away, as they do when a real kubelet restarts).

Not simulated: init containers (ignored: no ``initContainerStatuses``, the ``Init:`` texts of
``pod_status_text`` still work on statuses written by others), liveness/startup probes, OOM kills, volumes,
image pull errors other than ``ErrImageNeverPull``. A pod deleted before the kubelet admitted it is deleted at
once with no status.

``memory`` (the engine keeps it per pod and hands it back) is a JSON-serialisable dict: admission time, the
pod IP, the condition transition times, and per container its stage (``creating``, ``running``, ``exited``,
``backoff``, ``stopped``, ``never-pull``), the instance number (``attempt``), the pull decision, the program
being played (lines, duration, exit code, SIGTERM behaviour), how many lines are logged, readiness, the last
two finished runs, a scheduled kill and the crash-loop back-off entry. Without memory the pod is admitted
afresh. Once the pod's stored phase is terminal (Succeeded or Failed), nothing of it runs again: the
kubelet forgets it once nothing is left to happen (its memory and checkpoint go, so a Job of 100,000 pods does
not keep 100,000 of them); a later deletion is then carried out at once (its containers are long stopped).

Randomness: ``random.Random(f"{seed}/{uid}/{what}")`` per decision, so a pod's life is the same in every run
with the same seed; nothing reads the clock; inputs are never mutated.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from controllers.apimachinery.timeutil import format_rfc3339, format_rfc3339_micro, parse_rfc3339
from controllers.plan import AddNodeImage, AppendLog, DeleteObject, EmitEvent, SyncResult, Trace
from controllers.programs import (
    SIGKILL_EXIT_CODE,
    Program,
    container_environment,
    run_program,
)

logger = logging.getLogger(__name__)

CONTROLLER = "kubelet"
COMPONENT = "kubelet"

# --- upstream constants and texts --------------------------------------------------------------------------

#: ``pkg/kubelet/kubelet.go``: ``backOffPeriod`` and ``MaxContainerBackOff``.
BACKOFF_INITIAL_SECONDS = 10.0
BACKOFF_MAX_SECONDS = 300.0
#: ``flowcontrol.Backoff`` forgets an entry after twice the maximum without a restart: 10 minutes.
BACKOFF_RESET_SECONDS = 2 * BACKOFF_MAX_SECONDS
DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30

# Event reasons (``pkg/kubelet/events/event.go``) and messages (1.32 wording).
REASON_PULLING = "Pulling"
REASON_PULLED = "Pulled"
REASON_CREATED = "Created"
REASON_STARTED = "Started"
REASON_KILLING = "Killing"
#: ``events.FailedToStartContainer``.
REASON_FAILED = "Failed"
REASON_BACKOFF = "BackOff"
REASON_ERR_IMAGE_NEVER_PULL = "ErrImageNeverPull"
REASON_DEADLINE_EXCEEDED = "DeadlineExceeded"
MSG_PULLING = 'Pulling image "{image}"'
#: 1.33+ kubelets append " and can be accessed by the pod" (KEP-2535); 1.31/1.32 say this.
MSG_ALREADY_PRESENT = 'Container image "{image}" already present on machine'
MSG_PULLED = 'Successfully pulled image "{image}" in {pull} ({total} including waiting). Image size: {size} bytes.'
#: 1.32 changed "Created container pi" to "Created container: pi"; "Started container pi" kept its form.
MSG_CREATED = "Created container: {name}"
MSG_STARTED = "Started container {name}"
MSG_KILLING = "Stopping container {name}"
MSG_BACKOFF = "Back-off restarting failed container {name} in pod {pod}"
MSG_CRASH_LOOP = "back-off {delay} restarting failed container={name} pod={pod}"
MSG_NEVER_PULL = 'Container image "{image}" is not present with pull policy of Never'
MSG_DEADLINE = "Pod was active on the node longer than the specified deadline"
#: The Warning the kubelet emits when the runtime's StartContainer fails (``"Error: %v"`` of the gRPC message).
MSG_FAILED = "Error: {message}"

WAITING_CONTAINER_CREATING = "ContainerCreating"
WAITING_CRASH_LOOP = "CrashLoopBackOff"
TERMINATED_COMPLETED = "Completed"
TERMINATED_ERROR = "Error"
#: containerd's CRI plugin for a container whose process could not be started (``errorStartReason``), with
#: ``errorStartExitCode`` ("128 is the same with Docker's behavior").
TERMINATED_START_ERROR = "StartError"
START_ERROR_EXIT_CODE = 128
#: Its message is the start error: containerd's wrapping of runc's, ending in our cause.
MSG_START_ERROR = ("failed to create containerd task: failed to create shim task: OCI runtime create failed: "
                   "runc create failed: unable to start container process: {cause}: unknown")
#: containerd leaves ``startedAt`` at 0 for a process that never started; the kubelet reports the Unix epoch.
NEVER_STARTED_AT = "1970-01-01T00:00:00Z"
#: ``kubecontainer.ErrRunContainer``: the waiting reason, until the next start, of a container whose start failed
#: and that will be restarted (the kubelet's reasonCache).
WAITING_RUN_CONTAINER_ERROR = "RunContainerError"
#: A container that never started when its pod was terminated (``kubelet_pods.go``).
TERMINATED_STATUS_UNKNOWN = "ContainerStatusUnknown"
MSG_STATUS_UNKNOWN = "The container could not be located when the pod was terminated"

COND_READY_TO_START = "PodReadyToStartContainers"
COND_INITIALIZED = "Initialized"
COND_READY = "Ready"
COND_CONTAINERS_READY = "ContainersReady"
COND_SCHEDULED = "PodScheduled"
REASON_CONTAINERS_NOT_READY = "ContainersNotReady"
REASON_POD_COMPLETED = "PodCompleted"
REASON_POD_FAILED = "PodFailed"

RESTART_ALWAYS = "Always"
RESTART_ON_FAILURE = "OnFailure"
RESTART_NEVER = "Never"

MEMORY_VERSION = 1


# --- small helpers -----------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return format_rfc3339_micro(moment)


def _at(text: str | None) -> datetime | None:
    return parse_rfc3339(text) if text else None


def _after(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)


def _rng(seed: str, uid: str, what: str) -> random.Random:
    return random.Random(f"{seed}/{uid}/{what}")


def _hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def go_duration_string(seconds: float) -> str:
    """Go's ``time.Duration.String``: ``512ms``, ``3.412s``, ``1m20s``, ``5m0s``, ``1h0m0s``."""
    nanos = round(seconds * 1e9)
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size:
                whole, frac = divmod(nanos, size)
                frac_text = f"{frac:0{len(str(size)) - 1}d}".rstrip("0") if size > 1 else ""
                return f"{sign}{whole}{'.' + frac_text if frac_text else ''}{unit}"
    hours, rest = divmod(nanos, 3600 * 1_000_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000_000)
    secs, frac = divmod(rest, 1_000_000_000)
    frac_text = f"{frac:09d}".rstrip("0")
    text = f"{secs}{'.' + frac_text if frac_text else ''}s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    if minutes:
        return f"{sign}{minutes}m{text}"
    return sign + text


def normalize_image(image: str) -> str:
    """The reference containerd reports: ``perl:5.34.0`` -> ``docker.io/library/perl:5.34.0``."""
    name, digest = (image.split("@", 1) + [""])[:2]
    first, _, rest = name.partition("/")
    if not rest or not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name if rest else 'library/' + name}"
    if not digest and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return f"{name}@{digest}" if digest else name


def image_id(image: str) -> str:
    """``docker.io/library/perl@sha256:<64 hex>``, the digest derived from the image name."""
    repository = normalize_image(image).split("@", 1)[0]
    last_slash = repository.rfind("/")
    colon = repository.rfind(":")
    if colon > last_slash:
        repository = repository[:colon]
    return f"{repository}@sha256:{_hex('image:' + normalize_image(image))}"


def image_size_bytes(image: str) -> int:
    """A stable, plausible compressed size for an image (derived from its name)."""
    return 2_000_000 + int(_hex("size:" + normalize_image(image))[:8], 16) % 300_000_000


def node_has_image(node: dict, image: str) -> bool:
    wanted = {image, normalize_image(image)}
    for entry in (node.get("status") or {}).get("images") or []:
        if wanted & set(entry.get("names") or []):
            return True
    return False


def image_pull_policy(container: dict) -> str:
    """The API server's default: ``Always`` for ``:latest`` or untagged images, else ``IfNotPresent``."""
    policy = container.get("imagePullPolicy")
    if policy:
        return policy
    image = container.get("image") or ""
    if "@" in image:
        return "IfNotPresent"
    tail = image.rsplit("/", 1)[-1]
    return "Always" if ":" not in tail or tail.endswith(":latest") else "IfNotPresent"


def node_is_ready(node: dict | None) -> bool:
    if not node:
        return False
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def node_internal_ip(node: dict) -> str:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return address.get("address") or ""
    return ""


def pod_ip_for(node: dict, uid: str) -> str:
    """A pod IP in the node's ``podCIDR`` (a /24): host part 2-254 derived from the pod uid."""
    cidr = (node.get("spec") or {}).get("podCIDR") or ((node.get("spec") or {}).get("podCIDRs") or [""])[0]
    base = cidr.split("/", 1)[0] if cidr else "10.244.0.0"
    octets = base.split(".")
    host = 2 + int(_hex("ip:" + uid)[:8], 16) % 253
    return ".".join(octets[:3] + [str(host)])


def format_pod(pod: dict) -> str:
    """``format.Pod``: ``name_namespace(uid)``."""
    meta = pod.get("metadata") or {}
    return f"{meta.get('name', '')}_{meta.get('namespace', '')}({meta.get('uid', '')})"


# --- the sync context --------------------------------------------------------------------------------------


class _Sync:
    """One sync's working state: a private copy of memory plus the actions and notes it produces."""

    def __init__(self, pod: dict, node: dict, now: datetime, memory: dict | None, seed: str):
        self.pod = pod
        self.node = node
        self.now = now
        self.seed = seed
        self.meta = pod.get("metadata") or {}
        self.spec = pod.get("spec") or {}
        self.uid = self.meta.get("uid") or ""
        self.mem: dict = _working_copy(memory) if memory else {}
        self.actions: list = []
        self.fired: list[str] = []
        self.containers = {c.get("name"): c for c in self.spec.get("containers") or []}
        self.names = [c.get("name") for c in self.spec.get("containers") or []]

    # --- pod facts
    @property
    def node_name(self) -> str:
        return self.spec.get("nodeName") or ""

    @property
    def restart_policy(self) -> str:
        return self.spec.get("restartPolicy") or RESTART_ALWAYS

    @property
    def deleting(self) -> bool:
        return bool(self.meta.get("deletionTimestamp"))

    def grace_seconds(self) -> float:
        value = self.meta.get("deletionGracePeriodSeconds")
        if value is None:
            value = self.spec.get("terminationGracePeriodSeconds")
        return float(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS if value is None else value)

    def rng(self, what: str) -> random.Random:
        return _rng(self.seed, self.uid, what)

    # --- effects
    def reference(self, container: str | None = None) -> dict:
        ref = {
            "kind": "Pod",
            "namespace": self.meta.get("namespace") or "",
            "name": self.meta.get("name") or "",
            "uid": self.uid,
            "apiVersion": "v1",
        }
        if container is not None:
            ref["fieldPath"] = f"spec.containers{{{container}}}"
        return ref

    def event(self, container: str | None, event_type: str, reason: str, message: str) -> None:
        self.actions.append(EmitEvent(self.reference(container), event_type, reason, message, COMPONENT,
                                      host=self.node_name))

    def log(self, name: str, c: dict, lines: list[tuple[datetime, str]]) -> None:
        if lines:
            self.actions.append(AppendLog(self.meta.get("namespace") or "", self.meta.get("name") or "", self.uid,
                                          name, c["attempt"], tuple(lines)))


# --- container state transitions ---------------------------------------------------------------------------


def _new_container(ctx: _Sync, name: str, at: datetime, attempt: int, runs: list) -> dict:
    """Enter ``creating`` for instance ``attempt``: decide how the image is obtained and how long it takes."""
    container = ctx.containers[name]
    image = container.get("image") or ""
    present = node_has_image(ctx.node, image) or attempt > 0
    policy = image_pull_policy(container)
    rng = ctx.rng(f"{name}/{attempt}/pull")
    if policy == "Never" and not present:
        pull, seconds = "never", 0.0
    elif present and policy != "Always":
        pull, seconds = "present", round(rng.uniform(0.3, 1.0), 3)
    elif present:
        pull, seconds = "repull", round(rng.uniform(0.3, 1.0), 3)
    else:
        pull, seconds = "pull", round(rng.uniform(2.0, 8.0), 3)
    c = {
        "state": "never-pull" if pull == "never" else "creating",
        "since": _iso(at),
        "attempt": attempt,
        "pull": pull,
        "pullSeconds": seconds,
        "containerID": "",
        "startedAt": None,
        "program": None,
        "logged": 0,
        "readyAt": None,
        "ready": False,
        "runs": runs,
        "kill": None,
        "backoff": None,
        "unknown": False,
    }
    if pull in ("pull", "repull"):
        ctx.event(name, "Normal", REASON_PULLING, MSG_PULLING.format(image=image))
    elif pull == "never":
        ctx.event(name, "Warning", REASON_ERR_IMAGE_NEVER_PULL, MSG_NEVER_PULL.format(image=image))
    return c


def _program_to_memory(program: Program) -> dict:
    return {
        "lines": [[offset, text] for offset, text in program.lines],
        "duration": program.duration,
        "exitCode": program.exit_code,
        "handlesSigterm": program.handles_sigterm,
        "sigtermExitCode": program.sigterm_exit_code,
        "steps": list(program.steps),
    }


def _container_id(ctx: _Sync, name: str, attempt: int) -> str:
    return "containerd://" + _hex(f"container:{ctx.seed}/{ctx.uid}/{name}/{attempt}")


def _start_container(ctx: _Sync, name: str, c: dict, at: datetime) -> bool:
    """Created, then started: the container runs its program. False when the start failed (``_start_failed``)."""
    container = ctx.containers[name]
    image = container.get("image") or ""
    if c["pull"] == "present":
        ctx.event(name, "Normal", REASON_PULLED, MSG_ALREADY_PRESENT.format(image=image))
    else:
        took = go_duration_string(int(c["pullSeconds"] * 1000) / 1000)
        ctx.event(name, "Normal", REASON_PULLED,
                  MSG_PULLED.format(image=image, pull=took, total=took, size=image_size_bytes(image)))
        if not node_has_image(ctx.node, image):
            ctx.actions.append(AddNodeImage(ctx.node_name, normalize_image(image), image_size_bytes(image),
                                            (image_id(image),)))
    ctx.event(name, "Normal", REASON_CREATED, MSG_CREATED.format(name=name))
    try:
        env = container_environment(container, ctx.pod)
        program = run_program(container, env=env, pod=ctx.pod, now=at, rng=ctx.rng(f"{name}/{c['attempt']}/run"))
    except Exception as error:  # a bug of the interpreter must fail this container, never the engine
        logger.exception("kubelet on %s: could not run container %s of pod %s; it fails to start (%s)",
                         ctx.node_name, name, format_pod(ctx.pod), TERMINATED_START_ERROR)
        _start_failed(ctx, name, c, at, error)
        return False
    ctx.event(name, "Normal", REASON_STARTED, MSG_STARTED.format(name=name))
    probe = container.get("readinessProbe")
    ready_at = _after(at, float((probe or {}).get("initialDelaySeconds") or 0))
    c.update(
        state="running",
        since=_iso(at),
        startedAt=_iso(at),
        containerID=_container_id(ctx, name, c["attempt"]),
        program=_program_to_memory(program),
        logged=0,
        readyAt=_iso(ready_at),
        ready=False,
    )
    if ready_at <= at:
        c["ready"] = True
    return True


def _start_failed(ctx: _Sync, name: str, c: dict, at: datetime, error: Exception) -> None:
    """The simulated runtime could not run the command: the container ends as one whose start failed.

    Why ``StartError``: to the learner, kubeviz failing to interpret a command is the runtime failing to run it,
    and that is what containerd reports when runc cannot start a process (a missing executable, say): the
    container exited at once, reason ``StartError``, exit code 128, the error as its message, ``startedAt``
    never set; the kubelet emits Warning ``Failed`` "Error: <message>" instead of ``Started``. An exit code of
    the program's own (1, 127) would claim that the process ran and printed nothing, and a waiting state
    (``CreateContainerError``, retried for ever) would never end the pod. From here on it is a container that
    exited with 128: restartPolicy, the crash-loop back-off and the pod phase follow as for any exit.
    """
    detail = f"{type(error).__name__}: {error}"
    if len(detail) > 200:
        detail = detail[:200] + "..."
    message = MSG_START_ERROR.format(cause=f"kubeviz could not simulate this command ({detail})")
    ctx.event(name, "Warning", REASON_FAILED, MSG_FAILED.format(message=message))
    container_id = _container_id(ctx, name, c["attempt"])
    run = {
        "attempt": c["attempt"],
        "exitCode": START_ERROR_EXIT_CODE,
        "reason": TERMINATED_START_ERROR,
        "message": message,
        "startedAt": NEVER_STARTED_AT,
        "finishedAt": format_rfc3339(at),
        "containerID": container_id,
        "finishedAtExact": _iso(at),
    }
    c["containerID"] = container_id
    _end_run(ctx, c, run, at)


def _flush_logs(ctx: _Sync, name: str, c: dict, until: datetime) -> None:
    started = _at(c["startedAt"])
    lines = c["program"]["lines"]
    batch = []
    while c["logged"] < len(lines) and _after(started, lines[c["logged"]][0]) <= until:
        offset, text = lines[c["logged"]]
        batch.append((_after(started, offset), text))
        c["logged"] += 1
    ctx.log(name, c, batch)


def _exit_time(c: dict) -> tuple[datetime, int] | None:
    """When and with what code the running instance ends: its program's end or a scheduled kill."""
    started = _at(c["startedAt"])
    candidates = []
    if c["program"]["duration"] is not None:
        candidates.append((_after(started, c["program"]["duration"]), c["program"]["exitCode"]))
    if c["kill"]:
        candidates.append((_at(c["kill"]["at"]), c["kill"]["exitCode"]))
    return min(candidates, key=lambda item: item[0]) if candidates else None


def _terminated(run: dict) -> dict:
    state = {"exitCode": run["exitCode"], "reason": run["reason"]}
    if run.get("message"):
        state["message"] = run["message"]
    state.update(startedAt=run["startedAt"], finishedAt=run["finishedAt"], containerID=run["containerID"])
    return state


def _should_restart(ctx: _Sync, exit_code: int) -> bool:
    """``kubecontainer.ShouldContainerBeRestarted`` for a container that exited (pod not being deleted)."""
    if ctx.deleting or ctx.mem.get("deadline"):
        return False
    if ctx.restart_policy == RESTART_NEVER:
        return False
    if ctx.restart_policy == RESTART_ON_FAILURE:
        return exit_code != 0
    return True


# --- stages ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One row of the lifecycle table: when it is due for a pod (``container`` is None) or a container.

    ``due(ctx, name, c)`` answers the time the row fires, or ``None`` when it does not apply;
    ``fire(ctx, name, c, at)`` applies it (mutating only the sync's private memory copy).
    """

    name: str
    scope: str  # "pod" or "container"
    description: str
    due: Callable
    fire: Callable


def _due_kill_pod(ctx: _Sync, name, c):
    if ctx.deleting and not ctx.mem.get("killing") and not ctx.mem.get("deadline"):
        return ctx.now
    return None


def _kill_containers(ctx: _Sync, at: datetime, grace: float) -> None:
    """Send SIGTERM to running containers; stop every other one for good."""
    ctx.mem["killing"] = {"at": _iso(at), "grace": grace}
    for name in ctx.names:
        c = ctx.mem["containers"][name]
        if c["state"] == "running":
            ctx.event(name, "Normal", REASON_KILLING, MSG_KILLING.format(name=name))
            program = c["program"]
            if program["handlesSigterm"]:
                kill_at = _after(at, round(ctx.rng(f"{name}/{c['attempt']}/sigterm").uniform(0.1, 1.0), 3))
                code = program["sigtermExitCode"]
            else:
                kill_at, code = _after(at, grace), SIGKILL_EXIT_CODE
            c["kill"] = {"at": _iso(kill_at), "exitCode": code}
        elif c["state"] in ("creating", "never-pull") and not c["runs"]:
            c.update(state="stopped", since=_iso(at), unknown=True)
        elif c["state"] != "stopped":
            c.update(state="stopped", since=_iso(at))


def _fire_kill_pod(ctx: _Sync, name, c, at):
    _kill_containers(ctx, at, ctx.grace_seconds())
    ctx.fired.append(f"pod is being deleted: stop its containers (grace {ctx.grace_seconds():g}s)")


def _due_deadline(ctx: _Sync, name, c):
    deadline = ctx.spec.get("activeDeadlineSeconds")
    if deadline is None or ctx.mem.get("deadline") or ctx.mem.get("killing") or _pod_finished(ctx):
        return None
    return _after(_at(ctx.mem["admittedAt"]), float(deadline))


def _fire_deadline(ctx: _Sync, name, c, at):
    ctx.mem["deadline"] = _iso(at)
    ctx.event(None, "Normal", REASON_DEADLINE_EXCEEDED, MSG_DEADLINE)
    grace = ctx.spec.get("terminationGracePeriodSeconds")
    _kill_containers(ctx, at, float(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS if grace is None else grace))
    ctx.fired.append("activeDeadlineSeconds passed: the pod fails (DeadlineExceeded)")


def _due_start(ctx: _Sync, name, c):
    if c["state"] == "creating":
        return _after(_at(c["since"]), c["pullSeconds"])
    return None


def _fire_start(ctx: _Sync, name, c, at):
    if _start_container(ctx, name, c, at):
        ctx.fired.append(f"container {name}: image ready, created and started (instance {c['attempt']})")
    else:
        ctx.fired.append(f"container {name}: created, but the runtime could not start it "
                         f"({TERMINATED_START_ERROR}, exit code {START_ERROR_EXIT_CODE}; instance {c['attempt']})")


def _due_print(ctx: _Sync, name, c):
    if c["state"] == "running" and c["logged"] < len(c["program"]["lines"]):
        return _after(_at(c["startedAt"]), c["program"]["lines"][c["logged"]][0])
    return None


def _fire_print(ctx: _Sync, name, c, at):
    _flush_logs(ctx, name, c, at)
    ctx.fired.append(f"container {name}: prints output")


def _due_ready(ctx: _Sync, name, c):
    if c["state"] == "running" and not c["ready"]:
        return _at(c["readyAt"])
    return None


def _fire_ready(ctx: _Sync, name, c, at):
    c["ready"] = True
    ctx.fired.append(f"container {name}: readiness probe passes")


def _due_exit(ctx: _Sync, name, c):
    if c["state"] == "running":
        end = _exit_time(c)
        return end[0] if end else None
    return None


def _fire_exit(ctx: _Sync, name, c, at):
    _, code = _exit_time(c)
    _flush_logs(ctx, name, c, at)
    run = {
        "attempt": c["attempt"],
        "exitCode": code,
        "reason": TERMINATED_COMPLETED if code == 0 else TERMINATED_ERROR,
        "startedAt": format_rfc3339(_at(c["startedAt"])),
        "finishedAt": format_rfc3339(at),
        "containerID": c["containerID"],
        "finishedAtExact": _iso(at),
    }
    _end_run(ctx, c, run, at)
    ctx.fired.append(f"container {name}: exits with code {code}")


def _end_run(ctx: _Sync, c: dict, run: dict, at: datetime) -> None:
    """Record a finished ``run`` of the container: ``exited`` (to be restarted) or ``stopped`` for good."""
    c["runs"] = (c["runs"] + [run])[-2:]
    c.update(state="exited", since=_iso(at), ready=False, kill=None)
    if ctx.mem.get("killing") or not _should_restart(ctx, run["exitCode"]):
        c["state"] = "stopped"


def _due_restart(ctx: _Sync, name, c):
    if c["state"] == "exited":
        # The kubelet notices the exit at its next relist (PLEG, about a second).
        return _after(_at(c["since"]), round(ctx.rng(f"{name}/{c['attempt']}/relist").uniform(0.5, 1.0), 3))
    return None


def _in_backoff(c: dict, finished: datetime, at: datetime) -> bool:
    """``flowcontrol.Backoff.IsInBackOffSince(key, finishedAt)``."""
    entry = c["backoff"]
    if not entry:
        return False
    if (finished - _at(entry["lastUpdate"])).total_seconds() > BACKOFF_RESET_SECONDS:
        return False
    return (at - finished).total_seconds() < entry["seconds"]


def _next_backoff(c: dict, finished: datetime, at: datetime) -> None:
    """``flowcontrol.Backoff.Next``: start at 10 s (or after a reset), else double up to 300 s."""
    entry = c["backoff"]
    if not entry or (finished - _at(entry["lastUpdate"])).total_seconds() > BACKOFF_RESET_SECONDS:
        seconds = BACKOFF_INITIAL_SECONDS
    else:
        seconds = min(entry["seconds"] * 2, BACKOFF_MAX_SECONDS)
    c["backoff"] = {"seconds": seconds, "lastUpdate": _iso(at)}


def _restart(ctx: _Sync, name: str, c: dict, at: datetime) -> None:
    finished = _at(c["runs"][-1]["finishedAtExact"])
    _next_backoff(c, finished, at)
    backoff = c["backoff"]
    fresh = _new_container(ctx, name, at, c["attempt"] + 1, c["runs"])
    fresh["backoff"] = backoff
    ctx.mem["containers"][name] = fresh


def _fire_restart(ctx: _Sync, name, c, at):
    finished = _at(c["runs"][-1]["finishedAtExact"])
    if _in_backoff(c, finished, at):
        delay = go_duration_string(c["backoff"]["seconds"])
        c.update(state="backoff", since=_iso(at))
        ctx.event(name, "Warning", REASON_BACKOFF, MSG_BACKOFF.format(name=name, pod=format_pod(ctx.pod)))
        ctx.fired.append(f"container {name}: crashed again, back-off {delay} before restarting")
        return
    _restart(ctx, name, c, at)
    ctx.fired.append(f"container {name}: restarts at once")


def _due_backoff_over(ctx: _Sync, name, c):
    if c["state"] == "backoff":
        finished = _at(c["runs"][-1]["finishedAtExact"])
        return _after(finished, c["backoff"]["seconds"])
    return None


def _fire_backoff_over(ctx: _Sync, name, c, at):
    waited = c["backoff"]["seconds"]
    _restart(ctx, name, c, at)
    # Until the new instance runs, the status still reads CrashLoopBackOff (the real kubelet restarts the
    # container within the sync that finds the back-off over, so no "Error" shows in between).
    ctx.mem["containers"][name]["afterBackoff"] = waited
    ctx.fired.append(f"container {name}: back-off over, restarts")


def _due_final_delete(ctx: _Sync, name, c):
    if ctx.deleting and ctx.mem.get("killing") and not ctx.mem.get("deleteRequested"):
        states = [ctx.mem["containers"][n] for n in ctx.names]
        if all(s["state"] == "stopped" for s in states):
            return max([_at(s["since"]) for s in states] + [_at(ctx.mem["killing"]["at"])])
    return None


def _fire_final_delete(ctx: _Sync, name, c, at):
    ctx.mem["deleteRequested"] = _iso(at)
    ctx.actions.append(DeleteObject("Pod", ctx.meta.get("namespace") or "", ctx.meta.get("name") or "", ctx.uid,
                                    grace_period_seconds=0))
    ctx.fired.append("every container stopped: delete the pod for good (grace 0)")


#: The lifecycle table, in priority order for stages due at the same instant.
STAGES: tuple[Stage, ...] = (
    Stage("pod-delete", "pod", "deletionTimestamp set: Killing, SIGTERM now, SIGKILL at the grace period's end",
          _due_kill_pod, _fire_kill_pod),
    Stage("pod-deadline", "pod", "activeDeadlineSeconds after startTime: fail with DeadlineExceeded",
          _due_deadline, _fire_deadline),
    Stage("container-print", "container", "running: output lines reach the log when printed",
          _due_print, _fire_print),
    Stage("container-start", "container", "creating: after the image pull (or a short start), Created, Started",
          _due_start, _fire_start),
    Stage("container-ready", "container", "running: ready after readinessProbe.initialDelaySeconds",
          _due_ready, _fire_ready),
    Stage("container-exit", "container", "running: the program ends (or is killed)", _due_exit, _fire_exit),
    Stage("container-restart", "container", "exited: restart at once or enter CrashLoopBackOff",
          _due_restart, _fire_restart),
    Stage("container-backoff", "container", "CrashLoopBackOff: restart when the back-off has passed",
          _due_backoff_over, _fire_backoff_over),
    Stage("pod-final-delete", "pod", "deleted and every container stopped: delete with grace 0",
          _due_final_delete, _fire_final_delete),
)


# --- status ------------------------------------------------------------------------------------------------


def _container_status(ctx: _Sync, name: str, c: dict) -> dict:
    container = ctx.containers[name]
    spec_image = container.get("image") or ""
    runs = c["runs"]
    last_state: dict = {}
    state: dict
    restart_count = c["attempt"]
    created = bool(c["containerID"]) or bool(runs)
    if c["unknown"]:
        state = {"terminated": {"exitCode": SIGKILL_EXIT_CODE, "reason": TERMINATED_STATUS_UNKNOWN,
                                "message": MSG_STATUS_UNKNOWN, "startedAt": None, "finishedAt": None}}
        restart_count = runs[-1]["attempt"] if runs else 0
    elif c["state"] == "running":
        state = {"running": {"startedAt": format_rfc3339(_at(c["startedAt"]))}}
        if runs:
            last_state = {"terminated": _terminated(runs[-1])}
    elif c["state"] == "never-pull" and not runs:
        state = {"waiting": {"reason": REASON_ERR_IMAGE_NEVER_PULL,
                             "message": MSG_NEVER_PULL.format(image=spec_image)}}
    elif c["state"] == "creating" and not runs:
        state = {"waiting": {"reason": WAITING_CONTAINER_CREATING}}
    elif c["state"] == "backoff" or (c["state"] == "creating" and runs and c.get("afterBackoff")):
        delay = go_duration_string(c["backoff"]["seconds"] if c["state"] == "backoff" else c["afterBackoff"])
        state = {"waiting": {"reason": WAITING_CRASH_LOOP,
                             "message": MSG_CRASH_LOOP.format(delay=delay, name=name, pod=format_pod(ctx.pod))}}
        last_state = {"terminated": _terminated(runs[-1])}
        restart_count = runs[-1]["attempt"]
    elif c["state"] in ("exited", "creating") and runs[-1]["reason"] == TERMINATED_START_ERROR:
        # To be restarted after a failed start: the kubelet shows the start error it remembers (reasonCache).
        state = {"waiting": {"reason": WAITING_RUN_CONTAINER_ERROR, "message": runs[-1]["message"]}}
        last_state = {"terminated": _terminated(runs[-1])}
        restart_count = runs[-1]["attempt"]
    else:  # exited, stopped, or restarting (creating a new instance): the runtime shows the last run
        state = {"terminated": _terminated(runs[-1])}
        if len(runs) > 1:
            last_state = {"terminated": _terminated(runs[-2])}
        restart_count = runs[-1]["attempt"]
    ready = c["state"] == "running" and c["ready"]
    status = {
        "name": name,
        "state": state,
        "lastState": last_state,
        "ready": ready,
        "restartCount": restart_count,
        "image": normalize_image(spec_image) if created else spec_image,
        "imageID": image_id(spec_image) if created else "",
    }
    container_id = c["containerID"] if c["state"] == "running" else (runs[-1]["containerID"] if runs else "")
    if container_id and not c["unknown"]:
        status["containerID"] = container_id
    status["started"] = c["state"] == "running"
    return status


def _pod_finished(ctx: _Sync) -> bool:
    """The kubelet considers the pod terminal: deadline exceeded, or deleted and every container stopped."""
    if ctx.mem.get("deadline"):
        return True
    if ctx.mem.get("killing"):
        return all(ctx.mem["containers"][n]["state"] == "stopped" for n in ctx.names)
    statuses = [_container_status(ctx, n, ctx.mem["containers"][n]) for n in ctx.names]
    return _phase(ctx, statuses, False) in ("Succeeded", "Failed")


def _phase(ctx: _Sync, statuses: list[dict], pod_is_terminal: bool) -> str:
    """``getPhase`` (``kubelet_pods.go``) for regular containers."""
    if ctx.mem.get("deadline"):
        return "Failed"
    waiting = running = stopped = succeeded = 0
    for status in statuses:
        state = status["state"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"]["exitCode"] == 0
        elif "terminated" in (status.get("lastState") or {}):
            stopped += 1
            succeeded += status["lastState"]["terminated"]["exitCode"] == 0
        else:
            waiting += 1
    if waiting > 0:
        return "Pending"
    if running > 0:
        return "Running"
    if stopped > 0:
        if pod_is_terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if ctx.restart_policy == RESTART_ALWAYS:
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if ctx.restart_policy == RESTART_NEVER:
            return "Failed"
        return "Running"
    return "Pending"


def _update_conditions(ctx: _Sync, at: datetime) -> None:
    """Record condition changes (status flips) at ``at`` in memory."""
    statuses = [_container_status(ctx, n, ctx.mem["containers"][n]) for n in ctx.names]
    terminal = bool(ctx.mem.get("deadline")) or (bool(ctx.mem.get("killing")) and _pod_finished(ctx))
    phase = _phase(ctx, statuses, terminal)
    unready = [s["name"] for s in statuses if not s["ready"]]
    wanted: dict[str, tuple[str, str | None, str | None]] = {}
    finished = phase in ("Succeeded", "Failed")
    wanted[COND_READY_TO_START] = ("False" if finished else "True", None, None)
    wanted[COND_INITIALIZED] = ("True", REASON_POD_COMPLETED if phase == "Succeeded" else None, None)
    # A pod in a terminal phase is not ready, for that reason alone (the kubelet's
    # generateContainersReadyConditionForTerminalPhase): no list of containers.
    if phase == "Succeeded":
        ready = ("False", REASON_POD_COMPLETED, None)
    elif phase == "Failed":
        ready = ("False", REASON_POD_FAILED, None)
    elif unready:
        ready = ("False", REASON_CONTAINERS_NOT_READY, f"containers with unready status: [{' '.join(unready)}]")
    else:
        ready = ("True", None, None)
    wanted[COND_READY] = ready
    wanted[COND_CONTAINERS_READY] = ready
    conditions = ctx.mem.setdefault("conditions", {})
    for kind, (status, reason, message) in wanted.items():
        previous = conditions.get(kind)
        time = previous["time"] if previous and previous["status"] == status else format_rfc3339(at)
        conditions[kind] = {"status": status, "reason": reason, "message": message, "time": time}
    ctx.mem["phase"] = phase


def _build_status(ctx: _Sync) -> dict:
    old = ctx.pod.get("status") or {}
    statuses = [_container_status(ctx, n, ctx.mem["containers"][n]) for n in ctx.names]
    conditions = []
    for kind in (COND_READY_TO_START, COND_INITIALIZED, COND_READY, COND_CONTAINERS_READY):
        recorded = ctx.mem["conditions"][kind]
        condition = {"type": kind, "status": recorded["status"], "lastProbeTime": None,
                     "lastTransitionTime": recorded["time"]}
        if recorded["reason"]:
            condition["reason"] = recorded["reason"]
        if recorded["message"]:
            condition["message"] = recorded["message"]
        conditions.append(condition)
    scheduled = next((c for c in old.get("conditions") or [] if c.get("type") == COND_SCHEDULED), None)
    if scheduled is not None:
        conditions.append(dict(scheduled))
    status: dict = {"phase": ctx.mem["phase"], "conditions": conditions}
    if ctx.mem.get("deadline"):
        status["reason"] = REASON_DEADLINE_EXCEEDED
        status["message"] = MSG_DEADLINE
    status.update(
        hostIP=ctx.mem["hostIP"],
        hostIPs=[{"ip": ctx.mem["hostIP"]}],
        podIP=ctx.mem["podIP"],
        podIPs=[{"ip": ctx.mem["podIP"]}],
        startTime=format_rfc3339(_at(ctx.mem["admittedAt"])),
        containerStatuses=statuses,
    )
    if old.get("qosClass"):
        status["qosClass"] = old["qosClass"]
    return status


# --- admission and the sync loop ---------------------------------------------------------------------------


def _admit(ctx: _Sync) -> None:
    at = ctx.now
    ctx.mem = {
        "version": MEMORY_VERSION,
        "admittedAt": _iso(at),
        "hostIP": node_internal_ip(ctx.node),
        "podIP": pod_ip_for(ctx.node, ctx.uid),
        "containers": {},
        "conditions": {},
    }
    for name in ctx.names:
        ctx.mem["containers"][name] = _new_container(ctx, name, at, 0, [])
    ctx.fired.append(f"admitted on {ctx.node_name}: pod IP {ctx.mem['podIP']}")


def _next_stage(ctx: _Sync, before: datetime | None):
    """The earliest due stage (ties: table order, then container order); only those due by ``before``."""
    best = None
    for stage in STAGES:
        targets = [None] if stage.scope == "pod" else ctx.names
        for name in targets:
            c = ctx.mem["containers"][name] if name is not None else None
            due = stage.due(ctx, name, c)
            if due is None or (before is not None and due > before):
                continue
            if best is None or due < best[0]:
                best = (due, stage, name)
    return best


def _prune_none(value):
    """``value`` without ``None`` members, to compare a status with what the API server kept of it."""
    if isinstance(value, dict):
        return {k: _prune_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune_none(v) for v in value]
    return value


def _plainly_different(status: dict, old: dict) -> bool:
    """A change seen without pruning: another phase, or containers in other states."""
    if status.get("phase") != old.get("phase"):
        return True
    states = [c.get("state") for c in status.get("containerStatuses") or ()]
    return _prune_none(states) != _prune_none([c.get("state") for c in old.get("containerStatuses") or ()])


def _summary(ctx: _Sync) -> str:
    parts = [f"phase {ctx.mem.get('phase', 'Pending')}"]
    for name in ctx.names:
        c = ctx.mem["containers"][name]
        parts.append(f"{name}: {c['state']} (instance {c['attempt']})")
    return "; ".join(parts)


def _working_copy(memory: dict) -> dict:
    """What a sync may change of the memory it was given, copied: the stages assign keys of the memory, of its
    ``containers`` entries and of ``conditions``, and replace every value below those (a program, a run, a
    back-off, a kill) with a new one instead of changing it. So two levels are copied and the rest, the played
    program's output lines included, is shared."""
    mem = dict(memory)
    if "containers" in mem:
        mem["containers"] = {name: dict(c) for name, c in mem["containers"].items()}
    if "conditions" in mem:
        mem["conditions"] = dict(mem["conditions"])
    return mem


def sync_pod(pod: dict, node: dict | None, now: datetime, *, memory=None, seed: str = "") -> SyncResult:
    """One kubelet sync of ``pod`` (bound to ``node``) at ``now``; see the module docstring.

    Returns the pod's full new ``status`` (``None`` when unchanged), the actions (events, ``AppendLog``,
    ``AddNodeImage``, the final ``DeleteObject``), ``requeue_after`` = seconds until the next stage is due
    (``None``: nothing scheduled), a ``Trace`` and the new ``memory``.
    """
    meta = pod.get("metadata") or {}
    key = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
    phase = (pod.get("status") or {}).get("phase")

    def idle(observed: str, decision: str, actions=()) -> SyncResult:
        return SyncResult(tuple(actions), None, None, Trace(CONTROLLER, key, "sync", observed, decision),
                          memory)

    if not (pod.get("spec") or {}).get("nodeName"):
        return idle("the pod is not bound to a node", "nothing to do: the scheduler has not placed it")
    if not node_is_ready(node):
        return idle(f"node {(pod.get('spec') or {}).get('nodeName')} is not Ready",
                    "the kubelet is down: nothing progresses until the node is Ready again")
    if phase in ("Succeeded", "Failed") and not memory:
        if meta.get("deletionTimestamp"):
            action = DeleteObject("Pod", meta.get("namespace") or "", meta.get("name") or "", meta.get("uid") or "",
                                  grace_period_seconds=0)
            return SyncResult((action,), None, None,
                              Trace(CONTROLLER, key, "sync", f"the pod is {phase} and being deleted",
                                    "every container stopped: delete the pod for good (grace 0)",
                                    ("delete pod",)), None)
        return idle(f"the pod is already {phase}", "nothing to do")
    ctx = _Sync(pod, node, now, memory, seed)
    if not memory:
        if ctx.deleting:
            action = DeleteObject("Pod", meta.get("namespace") or "", meta.get("name") or "", ctx.uid,
                                  grace_period_seconds=0)
            return SyncResult((action,), None, None,
                              Trace(CONTROLLER, key, "sync", "deleted before it was started",
                                    "delete it for good (grace 0)", ("delete pod",)), None)
        _admit(ctx)
        _update_conditions(ctx, now)
    for _ in range(10_000):  # a bound: a crash loop at 0 s would otherwise spin for ever
        best = _next_stage(ctx, now)
        if best is None:
            break
        due, stage, name = best
        c = ctx.mem["containers"][name] if name is not None else None
        stage.fire(ctx, name, c, due)
        _update_conditions(ctx, due)
    upcoming = _next_stage(ctx, None)
    requeue = None if upcoming is None else max(0.0, (upcoming[0] - now).total_seconds())
    status = _build_status(ctx)
    old_status = pod.get("status") or {}
    if status == old_status or (not _plainly_different(status, old_status)
                                and _prune_none(status) == _prune_none(old_status)):
        status = None
    if ctx.fired:
        decision = "; ".join(ctx.fired)
    else:
        decision = "nothing due"
    if upcoming is not None:
        decision += f"; next: {upcoming[1].name} in {go_duration_string(round(requeue, 3))}"
    trace = Trace(CONTROLLER, key, "sync", _summary(ctx), decision, tuple(ctx.fired))
    if (phase in ("Succeeded", "Failed") and status is None and upcoming is None and not ctx.actions
            and not ctx.deleting):
        # The API server has the terminal status and nothing is left to happen: forget the pod (see the module
        # docstring); a later deletion is handled without memory.
        return SyncResult((), None, None, trace, None)
    return SyncResult(tuple(ctx.actions), status, requeue, trace, ctx.mem)
