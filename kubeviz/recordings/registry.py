"""Writing the input log as a cluster runs: the registry every outside write goes through, and the engine host's
two hooks.

``RecordingRegistry`` is the registry of every request that is not the engine's (``registry_for``): it takes the
cluster's write lock for the whole request (SQLite's transaction, PostgreSQL's cluster row, which an engine slice
holds while it runs), reads where the engine is (the last input's position) and the cluster's clock and
resourceVersion as they are now, makes the write, and, when it changed the store, appends an ``Input`` in the same
transaction. Only the outermost call is recorded (a patch that creates, a collection's deletes, the garbage
collection a delete starts are part of it), dry runs are not, nor are clusters without an ``Origin`` (made before
input logs existed), nor the bootstrap of a new cluster (its origin is written after it).

The engine host calls ``before_slice`` and ``after_slice`` inside each slice's transaction: the first records an
engine restart (a new server process starts the cluster's engine afresh, with a full resync), the second where the
engine got to, on the last input when that is already a clock move. A playing cluster's slices follow each other
with nothing from outside between them, so each engine remembers the last input as its last slice left it, and
reads it again only when the cluster's resourceVersion says someone else wrote since (an outside write that records
an input always changes the cluster).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction

from apiserver.registry import Registry
from apiserver.kinds import ResourceType

from kubeviz.store import actor as actors
from .models import Input, Origin
from kubeviz.store.models import Cluster

#: The keyword arguments of each write verb that a recording keeps, by their names in the recording.
VERB_OPTIONS = {
    "create": {"fieldValidation": "field_validation"},
    "update": {"subresource": "subresource", "fieldValidation": "field_validation",
               "requireResourceVersion": "require_resource_version"},
    "patch": {"subresource": "subresource", "fieldValidation": "field_validation", "force": "force"},
    "delete": {"propagationPolicy": "propagation_policy", "gracePeriodSeconds": "grace_period_seconds",
               "preconditions": "preconditions"},
    "deletecollection": {"labelSelector": "label_selector", "fieldSelector": "field_selector",
                         "propagationPolicy": "propagation_policy", "gracePeriodSeconds": "grace_period_seconds"},
}


def last_input(cluster_id: int) -> Input | None:
    return Input.objects.filter(cluster_id=cluster_id).order_by("-seq").first()


class RecordingRegistry(Registry):
    """A cluster's registry for requests from outside the engine, recording each write (module docstring) with
    its actor (``kubeviz.store.actor.current``) and door: the user actor's, else ``door`` and ``who`` (a node
    joining is the simulator's own write, through the door its request came by)."""

    def __init__(self, storage, *, door: str = "api", who: str = ""):
        super().__init__(storage)
        self.door, self.who = door, who
        self._depth = 0

    @contextmanager
    def _recorded(self, type_: str, request: dict | None):
        """Run one outside request as a recorded input; the block's body makes the write."""
        if self._depth or getattr(self.storage, "_locked", False):
            yield
            return
        self._depth += 1
        cluster = self.storage.cluster
        try:
            with transaction.atomic():
                rv, now = Cluster.objects.select_for_update().filter(pk=cluster.pk) \
                    .values_list("resource_version", "sim_now").get()
                # the write is made at the clock and resourceVersion of now, not of when the request began
                cluster.resource_version, cluster.sim_now = rv, now
                last = last_input(cluster.pk)
                failure = None
                try:
                    yield
                except Exception as exc:  # noqa: BLE001 - what it wrote before it failed is kept, and recorded
                    failure = exc
                if self.storage.current_resource_version() != rv and (
                        last is not None or Origin.objects.filter(cluster_id=cluster.pk).exists()):
                    acting = actors.current()
                    door, who = (acting["door"], acting.get("who")) if acting.get("type") == "user" \
                        else (self.door, self.who)
                    position = (last.time, last.syncs, last.started) if last is not None else (now, 0, False)
                    Input.objects.create(
                        cluster_id=cluster.pk, seq=(last.seq + 1) if last is not None else 1, type=type_,
                        time=position[0], syncs=position[1], started=position[2],
                        resource_version=self.storage.current_resource_version(), door=door, who=who or "",
                        actor=acting, request=request)
        finally:
            self._depth -= 1
        if failure is not None:
            raise failure

    def _write(self, verb: str, resource: ResourceType, namespace, name, body, options: dict, call):
        if self._depth or options.get("dry_run"):
            return call()
        request = {"verb": verb, "apiGroup": resource.group, "kind": resource.kind, "namespace": namespace or ""}
        if name is not None:
            request["name"] = name
        if body is not None:
            if verb == "patch":
                request["patch"] = body.decode() if isinstance(body, bytes) else body
            else:
                request["object"] = json.loads(json.dumps(body))  # as sent, before the registry's defaults
        for key, argument in VERB_OPTIONS[verb].items():
            if options.get(argument) not in (None, ""):
                request[key] = options[argument]
        result = None
        with self._recorded(Input.Type.WRITE, request):
            result = call()
        return result

    def create(self, resource, namespace, body, **options):
        return self._write("create", resource, namespace, None, body, options,
                           lambda: super(RecordingRegistry, self).create(resource, namespace, body, **options))

    def update(self, resource, namespace, name, body, **options):
        return self._write("update", resource, namespace, name, body, options,
                           lambda: super(RecordingRegistry, self).update(resource, namespace, name, body, **options))

    def patch(self, resource, namespace, name, body, content_type, **options):
        def call():
            return super(RecordingRegistry, self).patch(resource, namespace, name, body, content_type, **options)
        return self._write("patch", resource, namespace, name, body, dict(options, content_type=content_type), call)

    def delete(self, resource, namespace, name, **options):
        return self._write("delete", resource, namespace, name, None, options,
                           lambda: super(RecordingRegistry, self).delete(resource, namespace, name, **options))

    def delete_collection(self, resource, namespace, **options):
        return self._write("deletecollection", resource, namespace, None, None, options,
                           lambda: super(RecordingRegistry, self).delete_collection(resource, namespace, **options))

    def node_joining(self, request: dict):
        """The block registers a node the way a kubelet does (``node_register``): recorded as one ``node``
        input, replayed by registering it again."""
        return self._recorded(Input.Type.NODE, request)


VERB_OPTIONS["patch"]["patchType"] = "content_type"


# -- the engine host's hooks (inside a slice's transaction) ------------------------------------------------------


@dataclass
class _Known:
    """The cluster's last input (None: none yet) and whether it has an origin, as an engine's last slice left them,
    and the cluster's resourceVersion then."""

    last: Input | None
    origin: bool
    version: int


# What an engine's last committed slice knew (``_Known``) is kept on the engine, under this attribute.
_KNOWN = "recording_known"


def _last_known(cluster: Cluster, engine) -> _Known:
    """The cluster's last input, from what the engine's last slice knew (``before_slice`` forgot it if someone else
    wrote since), else read."""
    known = getattr(engine, _KNOWN, None)
    setattr(engine, _KNOWN, None)
    if known is None:
        last = last_input(cluster.pk)
        known = _Known(last, last is not None or Origin.objects.filter(cluster_id=cluster.pk).exists(),
                       cluster.resource_version)
    return known


def _move_clock(pk: int, now, syncs: int, started: bool, rv: int) -> None:
    """Update a clock move's position: as an ``UPDATE`` of the ORM would, in the statement alone (every slice of a
    playing cluster makes one)."""
    quote = connection.ops.quote_name
    time = Input._meta.get_field("time").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(Input._meta.db_table)} SET {quote('time')} = %s, syncs = %s, started = %s, "
                       f"resource_version = %s WHERE id = %s", (time, syncs, started, rv, pk))


def before_slice(cluster: Cluster, engine) -> None:
    """A fresh engine (this process built it) about to run a cluster whose engine had run before: the replay
    must start its engine afresh here too."""
    entry = getattr(engine, _KNOWN, None)
    if entry is not None and entry.version != cluster.resource_version:
        setattr(engine, _KNOWN, None)  # someone else wrote since the engine's last slice
    now, syncs, started = engine.position()
    if started:
        return
    last = last_input(cluster.pk)
    if last is not None and last.started:
        Input.objects.create(cluster_id=cluster.pk, seq=last.seq + 1, type=Input.Type.RESTART, time=now,
                             syncs=syncs, started=False, resource_version=cluster.resource_version)
    setattr(engine, _KNOWN, None)


def after_slice(cluster: Cluster, engine) -> None:
    """Where the engine got to: the last input when that is a clock move, a new clock move otherwise. What it
    leaves is remembered once the slice commits."""
    now, syncs, started = engine.position()
    rv = cluster.resource_version
    known = _last_known(cluster, engine)
    last = known.last
    position = (now, syncs, started, rv)
    if last is None and not known.origin:
        pass  # made before input logs existed: nothing to record
    elif last is not None and (last.time, last.syncs, last.started, last.resource_version) == position:
        pass  # the engine did not move since the last input
    elif last is not None and last.type == Input.Type.CLOCK:
        _move_clock(last.pk, *position)
        last.time, last.syncs, last.started, last.resource_version = position
    else:
        last = Input.objects.create(cluster_id=cluster.pk, seq=(last.seq + 1) if last is not None else 1,
                                    type=Input.Type.CLOCK, time=now, syncs=syncs, started=started,
                                    resource_version=rv)
    remembered = _Known(last, known.origin, rv)
    transaction.on_commit(lambda: setattr(engine, _KNOWN, remembered))
