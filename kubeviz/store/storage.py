"""The database implementation of the registry's ``Storage``: one cluster's objects in ``StoredObject`` rows.

Every write takes the cluster's next resourceVersion inside the caller's transaction, and queues a watch event
that is published to the cluster's channel-layer group only once that transaction commits, so no watcher ever
sees a change that was rolled back.
"""

from contextlib import contextmanager, nullcontext
from datetime import timedelta, timezone as dt_timezone
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from apiserver.kinds import ResourceType, resource_for_kind
from apiserver.storage import (FutureRevision, HistoryCompacted, KeyExists, KeyNotFound, ListRange, VersionConflict,
                               WatchEvent, object_key)

from . import events
from . import actor as actors
from .models import Change, Checkpoint, Cluster, ContainerLog, StoredObject, TraceRecord

# How often (in resourceVersions, at most) the history is looked at for compaction; how much it keeps is a setting
# (KUBEVIZ_HISTORY_CHANGES, KUBEVIZ_HISTORY_SECONDS).
COMPACT_EVERY = 1_000
# How many objects list_range reads at most per query (etcd's maxLimit for one range request).
RANGE_BATCH_MAX = 10_000


@lru_cache(maxsize=None)
def _statements(vendor: str) -> dict[str, str]:
    """The statements of the hot path, in SQL: the engine writes and reads one object at a time, thousands of
    times per simulated minute, and building each query through the ORM cost several times what the database
    took to run it. Placeholders are Django's ``%s`` (its cursor adapts them to the backend); the JSON column
    goes through the model field's own conversions."""
    quote = connection.ops.quote_name
    objects, changes = quote(StoredObject._meta.db_table), quote(Change._meta.db_table)
    clusters, checkpoints = quote(Cluster._meta.db_table), quote(Checkpoint._meta.db_table)
    traces = quote(TraceRecord._meta.db_table)
    key = "cluster_id = %s AND api_group = %s AND kind = %s AND namespace = %s AND name = %s"
    return {
        "get": f"SELECT data FROM {objects} WHERE {key}",
        "get_version": f"SELECT resource_version, data FROM {objects} WHERE {key}",
        "insert": f"INSERT INTO {objects} (cluster_id, api_group, kind, namespace, name, uid, resource_version, "
                  f"owner_uids, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        # the unique key's refusal as a count of 0, with no error to roll back (so no savepoint around it)
        "insert_new": f"INSERT INTO {objects} (cluster_id, api_group, kind, namespace, name, uid, resource_version, "
                      f"owner_uids, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        "update": f"UPDATE {objects} SET resource_version = %s, owner_uids = %s, data = %s "
                  f"WHERE {key} AND resource_version = %s",
        "delete": f"DELETE FROM {objects} WHERE {key}",
        "record": f"INSERT INTO {changes} (cluster_id, resource_version, type, api_group, kind, namespace, name, "
                  f"data, sim_time, actor) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        "record_trace": f"INSERT INTO {traces} (cluster_id, sequence, sim_time, controller, object_key, data) "
                        f"VALUES (%s, %s, %s, %s, %s, %s)",
        "changes": f"SELECT resource_version, type, api_group, kind, data FROM {changes} "
                   f"WHERE cluster_id = %s AND resource_version > %s ORDER BY resource_version",
        # A list and the resourceVersion it is the state at, in one statement (so one snapshot): the cluster's row
        # joined with the objects of a kind (none: one row of nulls), in all namespaces or in one.
        "list": f"SELECT c.resource_version, o.namespace, o.name, o.data FROM {clusters} c LEFT JOIN {objects} o "
                f"ON o.cluster_id = c.id AND o.api_group = %s AND o.kind = %s WHERE c.id = %s",
        "list_in": f"SELECT c.resource_version, o.namespace, o.name, o.data FROM {clusters} c LEFT JOIN {objects} o "
                   f"ON o.cluster_id = c.id AND o.api_group = %s AND o.kind = %s AND o.namespace = %s "
                   f"WHERE c.id = %s",
        "compacted": f"SELECT compacted_version FROM {clusters} WHERE id = %s",
        "versions": f"SELECT resource_version, compacted_version FROM {clusters} WHERE id = %s",
        # SQLite's transactions take the write lock as they begin (BEGIN IMMEDIATE, see settings); PostgreSQL's
        # take the cluster row's when they ask
        "lock": f"SELECT resource_version FROM {clusters} WHERE id = %s"
                + (" FOR UPDATE" if vendor == "postgresql" else ""),
        "take_version": f"UPDATE {clusters} SET resource_version = resource_version + 1 WHERE id = %s",
        "version": f"SELECT resource_version FROM {clusters} WHERE id = %s",
        "version_now": f"SELECT resource_version, sim_now FROM {clusters} WHERE id = %s",
        "save_version": f"UPDATE {clusters} SET resource_version = %s WHERE id = %s",
        "set_now": f"UPDATE {clusters} SET sim_now = %s WHERE id = %s",
        "save_state": f"UPDATE {clusters} SET resource_version = %s, sim_now = %s WHERE id = %s",
        "clock": f"SELECT sim_now, paused, speed, advance_from, advance_target, resource_version FROM {clusters} "
                 f"WHERE id = %s",
        "update_checkpoint": f"UPDATE {checkpoints} SET data = %s WHERE cluster_id = %s AND controller = %s "
                             f"AND {quote('key')} = %s",
        "insert_checkpoint": f"INSERT INTO {checkpoints} (cluster_id, controller, {quote('key')}, data) "
                             f"VALUES (%s, %s, %s, %s)",
        "delete_checkpoint": f"DELETE FROM {checkpoints} WHERE cluster_id = %s AND controller = %s "
                             f"AND {quote('key')} = %s",
    }


_DATA = StoredObject._meta.get_field("data")


def _run(statement: str, params) -> int:
    """Execute one statement of :func:`_statements`; answers the rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(_statements(connection.vendor)[statement], params)
        return cursor.rowcount


def _fetch(statement: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_statements(connection.vendor)[statement], params)
        return cursor.fetchall()


def _to_db(obj: dict):
    return _DATA.get_db_prep_save(obj, connection)


def _from_db(value) -> dict:
    return _DATA.from_db_value(value, None, connection)


_SIM_NOW = Cluster._meta.get_field("sim_now")


def _time_from_db(value):
    """A datetime column read through a raw cursor (SQLite's: naive UTC, or text) as an aware datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and is_naive(value):
        value = make_aware(value, dt_timezone.utc)
    return value


_ACTOR = Change._meta.get_field("actor")


class DatabaseStorage:
    """A cluster's objects and history in the database.

    ``changes_since`` is asked after every engine sync. ``sole_writer()`` (one transaction of the engine host)
    takes the cluster's resourceVersion lock as it begins and holds it until the transaction ends (SQLite locks
    the database, PostgreSQL the cluster row); so every change after the version it read then is one this
    storage makes, and it answers from its own log instead of asking again, counts resourceVersions in memory
    and remembers what it read and wrote. Outside it, every write takes the next resourceVersion from the
    database in a savepoint and every question goes to the database.
    """

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.seed = cluster.seed
        self._keep_changes = settings.KUBEVIZ_HISTORY_CHANGES
        self._keep_time = timedelta(seconds=settings.KUBEVIZ_HISTORY_SECONDS)
        self._compact_every = min(COMPACT_EVERY, max(1, self._keep_changes // 4))
        self._reset()

    def _reset(self) -> None:
        """Enter or leave ``sole_writer()``: what this storage remembers of a transaction starts afresh."""
        self._locked = False  # inside sole_writer(): holding the resourceVersion lock
        # Changes made since the database last answered; every change up to _log_base was in that answer.
        self._log: list[tuple[int, WatchEvent]] = []
        self._log_base: int | None = None
        # Objects read or written while holding the lock, by (group, kind, namespace, name); None: absent.
        self._known: dict[tuple, dict | None] = {}
        self._rv_unsaved = False  # resourceVersions counted in memory since the lock was taken
        # The history rows written since the lock was taken and not yet sent: sent together (``_send_changes``)
        # before anything reads the history, and as the block ends.
        self._changes_unsent: list[tuple] = []
        self._now_unsaved = False  # the clock moved in memory since the lock was taken
        # The last sim time and actor written, as the database takes them: an engine writes many changes at one
        # instant, by one actor.
        self._time_db: tuple = (None, None)
        self._actor_db: tuple = (None, None)

    @contextmanager
    def sole_writer(self, *, version: int | None = None):
        """Wrap one transaction (inside it) in which this storage is the cluster's only writer: it takes the
        cluster's resourceVersion lock as the block begins, so other connections' writes wait for the
        transaction to end, and nothing else may write to the cluster on this connection inside the block. It
        then counts resourceVersions in memory, moves the clock in memory, answers ``changes_since`` from its own
        log once the database has answered, and remembers what it read and wrote; the resourceVersion and the
        clock are written once, as the block ends. ``version``: the caller locked the cluster's row already, in this
        transaction, and read this resourceVersion under the lock (with a lease, ``kubeviz.runtime.lease``)."""
        self._reset()
        self.cluster.resource_version = _fetch("lock", (self.cluster.pk,))[0][0] if version is None else version
        self._locked, self._log_base = True, self.cluster.resource_version
        try:
            yield
            self._send_changes()
            if self._now_unsaved:
                _run("save_state", (self.cluster.resource_version, _SIM_NOW.get_db_prep_save(self.cluster.sim_now,
                                                                                               connection),
                                    self.cluster.pk))
            elif self._rv_unsaved:
                _run("save_version", (self.cluster.resource_version, self.cluster.pk))
        finally:
            self._reset()

    def refresh_clock(self) -> None:
        """Read the cluster's clock again (its time, pause, speed and advance) and its resourceVersion: in one
        statement, as a run asks before every slice."""
        (self.cluster.sim_now, self.cluster.paused, self.cluster.speed, advance_from, advance_target,
         self.cluster.resource_version) = _fetch("clock", (self.cluster.pk,))[0]
        self.cluster.sim_now = _time_from_db(self.cluster.sim_now)
        self.cluster.advance_from, self.cluster.advance_target = _time_from_db(advance_from), \
            _time_from_db(advance_target)

    def now(self):
        return self.cluster.sim_now

    def set_now(self, now) -> None:
        self.cluster.sim_now = now
        if self._locked:  # written as the block ends
            self._now_unsaved = True
            return
        _run("set_now", (_SIM_NOW.get_db_prep_save(now, connection), self.cluster.pk))

    def checkpoints(self) -> list[tuple[str, str, dict]]:
        """Every (controller, key, data) kept by ``save_checkpoint``: what an engine restarts from."""
        return list(Checkpoint.objects.filter(cluster=self.cluster).values_list("controller", "key", "data"))

    def save_checkpoint(self, controller: str, key: str, data: dict | None) -> None:
        """Keep (or, with ``None``, drop) a controller's private state for one key."""
        where = (self.cluster.pk, controller, key)
        if data is None:
            _run("delete_checkpoint", where)
        elif not _run("update_checkpoint", (_to_db(data), *where)):
            _run("insert_checkpoint", (*where, _to_db(data)))

    def append_log(self, namespace, pod, uid, container, restart_count, lines) -> None:
        with transaction.atomic():
            entry, _ = ContainerLog.objects.get_or_create(
                cluster=self.cluster, pod_uid=uid, container=container, restart_count=restart_count,
                defaults={"namespace": namespace, "pod": pod, "lines": []},
            )
            entry.lines = list(entry.lines) + [list(line) for line in lines]
            entry.save(update_fields=["lines"])

    def read_log(self, namespace, pod, uid, container, restart_count):
        return (
            ContainerLog.objects.filter(cluster=self.cluster, pod_uid=uid, container=container,
                                        restart_count=restart_count)
            .values_list("lines", flat=True)
            .first()
        )

    def current_resource_version(self) -> int:
        if not self._locked:  # another connection may have written since
            self.cluster.resource_version = _fetch("version", (self.cluster.pk,))[0][0]
        return self.cluster.resource_version

    def _next_rv(self) -> int:
        if self._locked:
            # Holding the lock: count on, and write the cluster's resourceVersion once, as the block ends.
            self.cluster.resource_version += 1
            self._rv_unsaved = True
            return self.cluster.resource_version
        _run("take_version", (self.cluster.pk,))
        # The clock too: an engine's slice may have moved it since this storage's cluster was read, and the change
        # records the instant it is written at.
        version, now = _fetch("version_now", (self.cluster.pk,))[0]
        self.cluster.resource_version = version
        self.cluster.sim_now = _time_from_db(now)
        return self.cluster.resource_version

    def _rows(self, resource: ResourceType):
        return StoredObject.objects.filter(cluster=self.cluster, api_group=resource.group, kind=resource.kind)

    def _key(self, resource: ResourceType, namespace: str, name: str) -> tuple:
        return self.cluster.pk, resource.group, resource.kind, namespace, name

    def _publish(self, type_: str, resource: ResourceType, obj: dict, encoded=None) -> None:
        """Record the change in the history and queue its watch event; ``encoded``: the object as the JSON
        column takes it, when the caller has it already."""
        meta = obj["metadata"]
        rv = int(meta["resourceVersion"])
        row = (self.cluster.pk, rv, type_, resource.group, resource.kind, meta.get("namespace", ""), meta["name"],
               _to_db(obj) if encoded is None else encoded, self._sim_time_db(), self._actor_for_db())
        if self._locked:
            self._changes_unsent.append(row)
        else:
            _run("record", row)
        if rv % self._compact_every == 0 and rv > self._keep_changes:
            self._compact_kept(rv)
        event = WatchEvent(type_, resource, obj)
        if self._locked:
            self._log.append((rv, event))
        transaction.on_commit(lambda: events.publish_watch_event(self.cluster.name, event))

    def _send_changes(self) -> None:
        """Write the history rows kept back inside ``sole_writer()``, in one batch (one round trip: psycopg
        pipelines ``executemany``)."""
        if self._changes_unsent:
            rows, self._changes_unsent = self._changes_unsent, []
            with connection.cursor() as cursor:
                cursor.executemany(_statements(connection.vendor)["record"], rows)

    def _sim_time_db(self):
        now = self.cluster.sim_now
        if self._time_db[0] is not now:
            self._time_db = (now, _SIM_NOW.get_db_prep_save(now, connection))
        return self._time_db[1]

    def _actor_for_db(self):
        actor = actors.current()
        if self._actor_db[0] is not actor:
            self._actor_db = (actor, _ACTOR.get_db_prep_save(actor, connection))
        return self._actor_db[1]

    def record_traces(self, records) -> None:
        """Keep reconcile traces (``controllers.engine.TraceRecord``) with the history, in one batch."""
        if not records:
            return
        rows = [(self.cluster.pk, r.sequence, _SIM_NOW.get_db_prep_save(r.time, connection), r.trace.controller,
                 r.trace.object_key, _to_db(r.as_json())) for r in records]
        with connection.cursor() as cursor:
            cursor.executemany(_statements(connection.vendor)["record_trace"], rows)

    def last_trace_sequence(self) -> int:
        """The sequence of the last trace kept (0: none): where an engine's numbering goes on after a restart."""
        return TraceRecord.objects.filter(cluster=self.cluster).aggregate(m=Max("sequence"))["m"] or 0

    def _compact_kept(self, rv: int) -> None:
        """Compact what the settings do not keep: the history keeps the last ``KUBEVIZ_HISTORY_CHANGES`` changes
        and every change of the last ``KUBEVIZ_HISTORY_SECONDS`` simulated seconds, whichever reaches further
        back."""
        self._send_changes()
        revision = rv - self._keep_changes
        cutoff = self.cluster.sim_now - self._keep_time
        # the state at the last change before the cutoff is still needed to rebuild the cluster at the cutoff
        before = Change.objects.filter(Q(sim_time__lt=cutoff) | Q(sim_time__isnull=True), cluster=self.cluster,
                                       resource_version__lte=revision).order_by("-resource_version") \
            .values_list("resource_version", flat=True).first()
        if before is None:
            return
        if before > _fetch("compacted", (self.cluster.pk,))[0][0]:
            self.compact(before)

    def compact(self, revision: int) -> None:
        """Compact the history at ``revision`` as etcd does: forget every change at or before it that a later one
        at or before it replaces, and every deletion at or before it. Each object's state at ``revision`` stays
        known (``list_range``); reads and watches from before it answer 410 Gone."""
        self._send_changes()
        replaced = Change.objects.filter(
            cluster_id=OuterRef("cluster_id"), api_group=OuterRef("api_group"), kind=OuterRef("kind"),
            namespace=OuterRef("namespace"), name=OuterRef("name"),
            resource_version__gt=OuterRef("resource_version"), resource_version__lte=revision,
        )
        at = Change.objects.filter(cluster=self.cluster, resource_version__lte=revision).order_by(
            "-resource_version").values_list("sim_time", flat=True).first()
        Change.objects.filter(cluster=self.cluster, resource_version__lte=revision).filter(
            Q(type="DELETED") | Exists(replaced)).delete()
        if Cluster.objects.filter(pk=self.cluster.pk, compacted_version__lt=revision).update(
                compacted_version=revision, compacted_time=at) and at is not None:
            # A trace explains changes of its instant: those before the oldest instant kept go.
            TraceRecord.objects.filter(cluster=self.cluster, sim_time__lt=at).delete()

    def changes_since(self, resource_version: int, limit: int | None = None) -> list[WatchEvent]:
        """Committed changes after ``resource_version``, oldest first. Raises ``HistoryCompacted`` when the
        history no longer reaches back that far."""
        if limit is None and self._locked and resource_version >= self._log_base:
            return [event for rv, event in self._log if rv > resource_version]
        found = self._changes_from_database(resource_version, limit)
        if self._locked:
            # Nobody else writes until this transaction ends: from here on, the log is the whole story.
            self._log, self._log_base = [], self.cluster.resource_version
        return found

    def _changes_from_database(self, resource_version: int, limit: int | None) -> list[WatchEvent]:
        self._send_changes()
        if limit is not None:
            rows = Change.objects.filter(cluster=self.cluster, resource_version__gt=resource_version).order_by(
                "resource_version"
            )[:limit]
            found = list(rows.values_list("resource_version", "type", "api_group", "kind", "data"))
        else:
            found = [(rv, type_, group, kind, _from_db(data))
                     for rv, type_, group, kind, data in _fetch("changes", (self.cluster.pk, resource_version))]
        # Asked after the changes were read: a compaction meanwhile may have taken some of them.
        if resource_version and resource_version < _fetch("compacted", (self.cluster.pk,))[0][0]:
            raise HistoryCompacted(resource_version)
        return [WatchEvent(type_, resource_for_kind(group, kind), data) for _, type_, group, kind, data in found]

    def get(self, resource, namespace, name):
        key = (resource.group, resource.kind, namespace, name)
        if self._locked and key in self._known:
            return self._known[key]
        rows = _fetch("get", self._key(resource, namespace, name))
        row = _from_db(rows[0][0]) if rows else None
        if self._locked:
            self._known[key] = row
        return row

    def _remember(self, resource, namespace, name, obj) -> None:
        if self._locked:
            self._known[(resource.group, resource.kind, namespace, name)] = obj

    def list(self, resource, namespace=None):
        """The objects and the resourceVersion they are the state at, read in one statement: a write committed
        between two reads would make the version newer than the objects (and a watch started from it miss that
        write). Inside ``sole_writer()`` the version is the one counted in memory."""
        if namespace is None:
            rows = _fetch("list", (resource.group, resource.kind, self.cluster.pk))
        else:
            rows = _fetch("list_in", (resource.group, resource.kind, namespace, self.cluster.pk))
        rv = self.cluster.resource_version if self._locked else rows[0][0]
        found = sorted((row[1:] for row in rows if row[2] is not None), key=lambda row: (row[0] + "/", row[1]))
        return [_from_db(data) for _, _, data in found], str(rv)

    def list_range(self, resource, namespace=None, *, start="", revision=None, size_hint=0):
        """The objects at ``revision``: those whose row has not changed since, and, for those changed (or deleted)
        since, their last version at or before it from the history. Only keys are read here; the objects are
        read as the caller goes (``_read_range``), each checked again against ``revision``."""
        self._send_changes()
        current, compacted = _fetch("versions", (self.cluster.pk,))[0]
        if self._locked:
            current = self.cluster.resource_version
        if revision is None:
            revision = current
        elif revision > current:
            raise FutureRevision(revision)
        if revision < compacted:
            raise HistoryCompacted(revision)
        of_kind = {"cluster_id": self.cluster.pk, "api_group": resource.group, "kind": resource.kind}
        if namespace is not None:
            of_kind["namespace"] = namespace
        source: dict[tuple, tuple] = {
            (ns, name): (StoredObject, pk) for pk, ns, name in StoredObject.objects.filter(
                **of_kind, resource_version__lte=revision).values_list("pk", "namespace", "name")
        }
        # Read after the rows: every object whose row had moved past the revision has its change in here.
        first_after: dict[tuple, str] = {}
        for ns, name, type_ in Change.objects.filter(**of_kind, resource_version__gt=revision).order_by(
                "resource_version").values_list("namespace", "name", "type"):
            if (ns, name) not in source:
                first_after.setdefault((ns, name), type_)
        for key, pk in self._versions_at(of_kind, revision, first_after).items():
            source[key] = (Change, pk)
        keys = sorted((k for k in source if object_key(*k) >= start), key=lambda k: (k[0] + "/", k[1]))
        return ListRange(revision, len(keys), self._read_range(of_kind, keys, source, revision, size_hint))

    def _versions_at(self, of_kind: dict, revision: int, wanted: dict[tuple, str | None]) -> dict[tuple, int]:
        """The change holding each wanted object's state at ``revision`` (none: it did not exist then). ``wanted``
        maps each key to the type of its first change after the revision (None: known to exist then). Raises
        HistoryCompacted when an object existed then but no version of it from then is left."""
        if not wanted:
            return {}
        found: dict[tuple, tuple[int, int, str]] = {}
        keys = list(wanted)
        for i in range(0, len(keys), 400):
            either = Q()
            for ns, name in keys[i:i + 400]:
                either |= Q(namespace=ns, name=name)
            for pk, ns, name, rv, type_ in Change.objects.filter(either, **of_kind, resource_version__lte=revision) \
                    .values_list("pk", "namespace", "name", "resource_version", "type"):
                if (ns, name) not in found or rv > found[(ns, name)][1]:
                    found[(ns, name)] = (pk, rv, type_)
        if revision < _fetch("compacted", (self.cluster.pk,))[0][0]:
            raise HistoryCompacted(revision)  # compacted while reading
        versions = {}
        for key, first_type in wanted.items():
            if key not in found:
                if first_type != "ADDED":
                    raise HistoryCompacted(revision)
            elif found[key][2] != "DELETED":
                versions[key] = found[key][0]
        return versions

    def _read_range(self, of_kind, keys, source, revision, size_hint):
        """The objects of ``keys`` at ``revision``, in order, read in growing batches. A row changed since the
        keys were read no longer holds the state at ``revision``: that object is read from the history."""
        size = max(size_hint, 100)
        done = 0
        while done < len(keys):
            batch = keys[done:done + size]
            done += len(batch)
            size = min(size * 2, RANGE_BATCH_MAX)
            rows = [source[key][1] for key in batch if source[key][0] is StoredObject]
            current = dict(StoredObject.objects.filter(pk__in=rows, resource_version__lte=revision)
                           .values_list("pk", "data"))
            moved = {key: None for key in batch if source[key][0] is StoredObject and source[key][1] not in current}
            changes = [source[key][1] for key in batch if source[key][0] is Change]
            versions = self._versions_at(of_kind, revision, moved) if moved else {}
            older = dict(Change.objects.filter(pk__in=changes + list(versions.values())).values_list("pk", "data"))
            for key in batch:
                if key in versions:
                    yield older[versions[key]]
                else:
                    table, pk = source[key]
                    yield current[pk] if table is StoredObject else older[pk]

    def _write(self):
        """The block of one write: a savepoint, whose rollback gives a refused write's resourceVersion back. Not
        inside ``sole_writer()``: the count is in memory there and nothing is written before the write is known
        to succeed, so there is nothing to take back (a refused write leaves a gap, which resourceVersions may
        have)."""
        return nullcontext() if self._locked else transaction.atomic()

    def create(self, resource, obj):
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        key = (resource.group, resource.kind, namespace, name)
        if self._locked and self._known.get(key) is not None:
            raise KeyExists(name)
        with self._write():
            rv = self._next_rv()
            stored = dict(obj, metadata=dict(meta, resourceVersion=str(rv)))
            encoded = _to_db(stored)
            row = (*self._key(resource, namespace, name), meta.get("uid", ""), rv, _owner_uids(stored), encoded)
            if self._locked and key in self._known:  # known to be absent: nothing to refuse it
                _run("insert", row)
            elif not _run("insert_new", row):  # the unique key refuses a second object of that name
                raise KeyExists(name)
            self._publish("ADDED", resource, stored, encoded)
        self._remember(resource, namespace, name, stored)
        return stored

    def update(self, resource, obj, expected_rv):
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        try:
            expected = int(expected_rv)
        except (TypeError, ValueError):
            expected = None
        key = self._key(resource, namespace, name)
        with self._write():
            rv = self._next_rv()
            stored = dict(obj, metadata=dict(meta, resourceVersion=str(rv)))
            encoded = _to_db(stored)
            changed = expected is not None and _run("update", (rv, _owner_uids(stored), encoded, *key, expected))
            if not changed:
                raise KeyNotFound(name) if not _fetch("get_version", key) else VersionConflict(name)
            self._publish("MODIFIED", resource, stored, encoded)
        self._remember(resource, namespace, name, stored)
        return stored

    def delete(self, resource, namespace, name, expected_rv=None):
        key = self._key(resource, namespace, name)
        with self._write():
            found = _fetch("get_version", key)
            if not found:
                raise KeyNotFound(name)
            current, data = found[0]
            if expected_rv is not None and str(current) != str(expected_rv):
                raise VersionConflict(name)
            _run("delete", key)
            rv = self._next_rv()
            data = _from_db(data)
            gone = dict(data, metadata=dict(data["metadata"], resourceVersion=str(rv)))
            self._publish("DELETED", resource, gone)
        self._remember(resource, namespace, name, None)
        return gone

    def find_by_uid(self, uid):
        if not uid:
            return None
        row = (
            StoredObject.objects.filter(cluster=self.cluster, uid=uid)
            .values_list("api_group", "kind", "data")
            .first()
        )
        if row is None:
            return None
        return resource_for_kind(row[0], row[1]), row[2]

    def dependents_of(self, uid):
        if not uid:
            return []
        rows = StoredObject.objects.filter(cluster=self.cluster, owner_uids__contains=uid).values_list(
            "api_group", "kind", "data"
        )
        found = []
        for group, kind, data in rows:
            refs = data.get("metadata", {}).get("ownerReferences") or ()
            if any(ref.get("uid") == uid for ref in refs):
                found.append((resource_for_kind(group, kind), data))
        return found


def _owner_uids(obj: dict) -> str:
    return " ".join(ref.get("uid", "") for ref in obj["metadata"].get("ownerReferences") or ())
