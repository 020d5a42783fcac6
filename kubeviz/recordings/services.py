"""Recordings, imports and forks: a cluster's input log written out, and replayed from the seed into a new cluster.

A replay builds the cluster a recording starts from (``cluster_create`` with its seed, nodes, start and quota) and
plays its inputs in order: for each, it runs the engine to the input's position (``Engine.position``: the instant,
and the syncs run there), then makes the write (through the same registry calls, under the same door), registers
the node, or starts the engine afresh. With the recording's own seed the replay is exact (``strict``): every input
must find the engine at its position and leave the cluster at its resourceVersion, or the replay stops with
``ReplayDiverged`` naming the input. With another seed (a fork that asks for one) names, uids and timings differ,
so each input is played at its instant as well as it can be, and a write the new cluster refuses is skipped.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from datetime import datetime
from typing import Callable

from django.db import transaction

from controllers.apimachinery.timeutil import format_rfc3339, format_rfc3339_micro

from apiserver import errors
from apiserver.kinds import resource_for_kind
from kubeviz.store.models import Cluster
from kubeviz.store.services import ClusterError, cluster_create, cluster_delete, node_register

from kubeviz.store import actor as actors
from .format import Recording, RecordingError, Step
from .models import Input, Origin
from .registry import VERB_OPTIONS


class ReplayDiverged(RecordingError):
    """A strict replay that did not do what the recording says the cluster did."""


# -- export ------------------------------------------------------------------------------------------------------


def recording_of(cluster: Cluster) -> Recording:
    """The cluster's origin and every input so far (``format.recording_json`` writes it)."""
    origin = Origin.objects.filter(cluster=cluster).first()
    if origin is None:
        raise RecordingError(f'cluster "{cluster.name}" has no input log: it was made before recordings existed',
                             code=409)
    recording = Recording(name=cluster.name, seed=origin.seed, nodes=origin.nodes,
                          control_plane=origin.control_plane, start=origin.start, quota=origin.quota)
    for row in Input.objects.filter(cluster=cluster).order_by("seq"):
        recording.steps.append(Step(type=row.type, time=row.time, syncs=row.syncs, started=row.started,
                                    resource_version=row.resource_version, door=row.door, who=row.who,
                                    actor=row.actor, request=row.request))
    return recording


# -- replay ------------------------------------------------------------------------------------------------------


def apply_write(registry, request: dict) -> None:
    """Make a recorded write through ``registry`` as the registry first received it."""
    resource = resource_for_kind(request.get("apiGroup", ""), request["kind"])
    verb = request["verb"]
    namespace = request.get("namespace", "")
    options = {argument: request[key] for key, argument in VERB_OPTIONS[verb].items() if key in request}
    if verb == "create":
        registry.create(resource, namespace, request["object"], **options)
    elif verb == "update":
        registry.update(resource, namespace, request["name"], request["object"], **options)
    elif verb == "patch":
        content_type = options.pop("content_type")
        registry.patch(resource, namespace, request["name"], request["patch"], content_type, **options)
    elif verb == "delete":
        registry.delete(resource, namespace, request["name"], **options)
    else:
        registry.delete_collection(resource, namespace or None, **options)


def _reached(when: datetime, syncs: int, started: bool) -> Callable:
    def until(engine) -> bool:
        now, done, is_started = engine.position()
        return now > when or (now == when and (done, is_started) >= (syncs, started))
    return until


class DatabaseReplay:
    """Replaying into a stored cluster, with the server's engine host (its slices record the new cluster's own
    input log as they go). Used as a context: the replay runs inside its request, so the cluster's engine runs in
    this process for the whole of it (with several processes, this one takes the new cluster's lease, a web process
    too, and keeps it until the replay ends)."""

    def __init__(self, cluster: Cluster):
        from django.conf import settings

        from kubeviz.runtime.host import host

        self.cluster, self.host = cluster, host
        # A replay runs inside its request: it may take as long as an advance may wait (KUBEVIZ_ADVANCE_MAX_WAIT),
        # not for ever (a recording can ask for a month of a busy cluster in one clock move).
        self.budget = settings.KUBEVIZ_ADVANCE_MAX_WAIT
        self.deadline = time.monotonic() + self.budget
        self._held = ExitStack()

    def __enter__(self):
        self._held.enter_context(self.host.pinned(self.cluster.name))
        if self.host.leases is not None:
            self.host.leases.take_here(self.cluster)
        return self

    def __exit__(self, *exc):
        return self._held.__exit__(*exc)

    def _run_to(self, when: datetime, until: Callable | None):
        from kubeviz.runtime.host import RunTimedOut

        try:
            return self.host.run_to(self.cluster, when, until=until, deadline=self.deadline)
        except RunTimedOut:
            raise RecordingError(f"the replay did not end within {self.budget} s of wall time "
                                 f"(KUBEVIZ_ADVANCE_MAX_WAIT), running to {format_rfc3339_micro(when)}; "
                                 f"no cluster was made", code=504) from None

    def reach(self, when: datetime, syncs: int, started: bool) -> tuple:
        return self._run_to(when, _reached(when, syncs, started)).position()

    def run_until(self, when: datetime, until: Callable | None = None) -> None:
        self._run_to(when, until)

    def restart(self) -> None:
        self.host.restart_engine(self.cluster)

    def registry(self, door: str, who: str):
        from kubeviz.store.services import registry_for

        return registry_for(Cluster.objects.get(pk=self.cluster.pk), door=door, who=who)

    def resource_version(self) -> int:
        return Cluster.objects.filter(pk=self.cluster.pk).values_list("resource_version", flat=True).get()

    def position(self) -> tuple:
        with self.host.lock(self.cluster.name):
            return self.host.engine_for(self.cluster).position()


class MemoryReplay:
    """Replaying into an in-memory cluster (``kubeviz.runtime.memory``: ``simulate --recording``, a lesson checked
    headlessly). A recorded restart starts a new engine, without the checkpoints a stored cluster keeps."""

    def __init__(self, memory):
        self.memory = memory

    def reach(self, when: datetime, syncs: int, started: bool) -> tuple:
        until = _reached(when, syncs, started)
        self.run_until(when, until)
        return self.memory.engine.position()

    def run_until(self, when: datetime, until: Callable | None = None) -> None:
        engine = self.memory.engine
        if until is not None and until(engine):
            return
        while not engine.run_until(when, stop=None if until is None else (lambda: until(engine))):
            if until is not None and until(engine):
                return

    def restart(self) -> None:
        from controllers.engine import Engine
        from controllers.manager import default_controllers

        old = self.memory.engine
        self.memory.engine = Engine(old.client, default_controllers(), seed=old.seed)

    def registry(self, door: str, who: str):
        return self.memory.registry

    def resource_version(self) -> int:
        return self.memory.storage.current_resource_version()

    def position(self) -> tuple:
        return self.memory.engine.position()


def replay(target, steps: list[Step], *, strict: bool, first_index: int = 0) -> None:
    """Play ``steps`` into ``target`` (``DatabaseReplay`` or ``MemoryReplay``), see the module docstring."""
    for offset, step in enumerate(steps):
        path = f"inputs[{first_index + offset}]"
        if step.type == "restart":
            target.restart()
        else:
            reached = target.reach(*step.position)
            if strict and reached != step.position:
                raise ReplayDiverged(
                    f"{path}: the replay's engine is at {_where(reached)}, the recording's was at {_where(step.position)}")
        refused = None
        if step.type in ("write", "node"):
            registry = target.registry(step.door, step.who)
            try:
                with actors.acting_as(step.actor or actors.user(step.door, step.who or None)):
                    if step.type == "write":
                        apply_write(registry, step.request)
                    else:
                        request = step.request
                        node_register(registry, name=request["name"], control_plane=request["controlPlane"],
                                      labels=request.get("labels"), taints=request.get("taints"),
                                      index=request.get("index"))
            except errors.StatusError as error:
                refused = error.message
        if strict and target.resource_version() != step.resource_version:
            what = f"the {step.request.get('verb')} of {step.request.get('kind')} was refused: {refused}" if refused \
                else f"the cluster is at resourceVersion {target.resource_version()}, the recording says " \
                     f"{step.resource_version}"
            raise ReplayDiverged(f"{path}: {what}")


def memory_replay(recording: Recording):
    """An in-memory cluster rebuilt from ``recording`` (``kubeviz.runtime.memory``): its seed, nodes, start and
    quota, then its inputs (``simulate --recording``, a lesson that starts from a recording, checked headlessly).
    Raises ``RecordingError`` when it does not replay."""
    from kubeviz.runtime.memory import memory_cluster
    from kubeviz.store.services import default_quota_create

    cluster = memory_cluster(nodes=recording.nodes, seed=recording.seed, start=recording.start,
                             control_plane=recording.control_plane)
    if recording.quota:
        default_quota_create(cluster.registry, hard=recording.quota)
    replay(MemoryReplay(cluster), recording.steps, strict=True)
    return cluster


def _where(position: tuple) -> str:
    when, syncs, started = position
    return f"{format_rfc3339_micro(when)} after {syncs} syncs{'' if started else ' (not started)'}"


def _new_cluster(recording: Recording, *, name: str, seed: int | None = None) -> Cluster:
    try:
        return cluster_create(name=name, nodes=recording.nodes, seed=recording.seed if seed is None else seed,
                              start=recording.start, paused=True, control_plane=recording.control_plane,
                              quota=recording.quota or {})
    except ClusterError as exc:
        raise RecordingError(exc.message if exc.code == 409 else f"cluster: {exc.message}", code=exc.code) from None


def _discard(cluster: Cluster) -> None:
    from kubeviz.runtime.host import host

    try:
        cluster_delete(name=cluster.name)
    except ClusterError:
        pass
    host.forget(cluster.name)


def recording_import(recording: Recording, *, name: str | None = None, learner=None) -> Cluster:
    """A new cluster rebuilt from ``recording`` (named ``name``, else as recorded), object for object; a recording
    that does not replay is refused (``ReplayDiverged``) and leaves no cluster behind."""
    cluster = _new_cluster(recording, name=name or recording.name)
    try:
        if learner is not None:
            Origin.objects.filter(cluster=cluster).update(learner=learner)
        with DatabaseReplay(cluster) as target:
            replay(target, recording.steps, strict=True)
    except BaseException:
        _discard(cluster)
        raise
    cluster.refresh_from_db()
    return cluster


def cluster_fork(source: Cluster, *, name: str, at: datetime | None = None, resource_version: int | None = None,
                 seed: int | None = None, learner=None) -> Cluster:
    """A new sandbox replaying ``source``'s inputs up to the instant ``at`` (everything due then included), or up
    to the reconcile that wrote ``resource_version``; with ``seed``, from another seed. Neither: the live instant."""
    source.refresh_from_db()
    recording = recording_of(source)
    if at is not None and resource_version is not None:
        raise RecordingError("give either at or resourceVersion, not both")
    if resource_version is not None:
        if resource_version > source.resource_version:
            raise RecordingError(f"resourceVersion: {resource_version} is after the cluster's current "
                                 f"({source.resource_version})")
    else:
        at = source.sim_now if at is None else at
        if at > source.sim_now:
            raise RecordingError(f'at: "{format_rfc3339_micro(at)}" is after the cluster\'s now '
                                 f'({format_rfc3339_micro(source.sim_now)})')
        if at < recording.start:
            raise RecordingError(f'at: "{format_rfc3339_micro(at)}" is before the cluster began '
                                 f'({format_rfc3339(recording.start)})')
    strict = seed is None or seed == recording.seed
    cluster = _new_cluster(recording, name=name, seed=seed)
    try:
        with DatabaseReplay(cluster) as target:
            if resource_version is not None:
                steps = [s for s in recording.steps if s.resource_version <= resource_version]
                replay(target, steps, strict=strict)
                rest = recording.steps[len(steps):]
                if rest and rest[0].type == "clock":
                    target.run_until(rest[0].time, until=lambda engine: engine.client.resource_version()
                                     >= resource_version or _reached(*rest[0].position)(engine))
            else:
                steps = [s for s in recording.steps if s.time <= at]
                replay(target, steps, strict=strict)
                target.run_until(at)
        cluster.refresh_from_db()
        with transaction.atomic():
            Origin.objects.filter(cluster=cluster).update(
                source=source, source_name=source.name, forked_at=cluster.sim_now,
                learner=learner if learner is not None else _learner_of(source))
    except BaseException:
        _discard(cluster)
        raise
    return cluster


def _learner_of(cluster: Cluster):
    """The learner whose sandbox (or fork of one) ``cluster`` is, or None."""
    from kubeviz.classroom.models import Sandbox

    sandbox = Sandbox.objects.filter(cluster=cluster).select_related("learner").first()
    if sandbox is not None:
        return sandbox.learner
    origin = Origin.objects.filter(cluster=cluster).select_related("learner").first()
    return origin.learner if origin is not None else None


def free_fork_name(source: str) -> str:
    """``<source>-fork-N``, the first N no cluster has, within 63 characters."""
    number = 1
    while True:
        suffix = f"-fork-{number}"
        name = source[:63 - len(suffix)].rstrip("-") + suffix
        if not Cluster.objects.filter(name=name).exists():
            return name
        number += 1
