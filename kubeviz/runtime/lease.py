"""Engine leases: exactly one engine per cluster when several server processes share one PostgreSQL database.

A cluster's engine runs only in the process that holds the cluster's lease (``EngineLease``: holder, term,
expiry), the way a controller-manager runs only while it holds its leader-election Lease. The holder renews its
leases in the background (``renewer``, every third of ``KUBEVIZ_LEASE_SECONDS``); a lease nobody renewed before
its expiry is free, and the next process to take it bumps its ``term``. Expiry is always compared with the
database's clock, so the processes of several machines agree on it.

Taking is atomic: the lease row is locked (``SELECT ... FOR UPDATE``) while it is read and written. Every engine
slice locks it too, inside the slice's transaction, and goes on only if this process still holds the lease with
the term its engine was built under (``LeaseGuard.lock_if_held``): so a process that was paused or slow past its expiry
writes nothing once another has taken over, and the new holder, whose take waited for that slice to commit,
builds its engine from everything the old one stored.

Processes that run engines say they are alive in ``EngineProcess`` (renewed with their leases); a cluster nobody
holds goes to the live one holding the fewest leases (``place``, ``claim_unowned``). A web process
(``KUBEVIZ_ENGINES=false``) is not among them: it sends what drives an engine to them, takes a lease itself only
while none of them is alive, and gives what it took back once one is. With SQLite (one process) none of this runs:
``KUBEVIZ_LEASES`` is off and the engine host asks nothing more per slice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.db.models.functions import Now

from kubeviz.store.models import Cluster

from . import shutdown
from .models import EngineLease, EngineProcess

logger = logging.getLogger(__name__)

#: The expiry of a lease row made before anyone held it: long past.
NEVER = datetime(2000, 1, 1, tzinfo=timezone.utc)

_identity: str | None = None


def identity() -> str:
    """This process's name among the holders: host, pid and a random part (a restarted process with the same
    pid is another holder)."""
    global _identity
    if _identity is None:
        host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:40] or "host"
        _identity = f"{host}-{os.getpid()}-{secrets.token_hex(4)}"
    return _identity


def duration() -> timedelta:
    return timedelta(seconds=settings.KUBEVIZ_LEASE_SECONDS)


def _expiry():
    return ExpressionWrapper(Now() + duration(), output_field=EngineLease._meta.get_field("expires_at"))


_LIVE = ExpressionWrapper(Q(expires_at__gt=Now()), output_field=BooleanField())


@dataclass(frozen=True)
class Holding:
    """A lease as it stands: who holds it, under which term, and whether it is live (not expired)."""

    holder: str
    term: int
    live: bool

    @property
    def mine(self) -> bool:
        return self.holder == identity()


def lease_of(cluster_pk: int) -> Holding | None:
    """The cluster's lease as it stands now (None: nobody ever took it)."""
    row = (EngineLease.objects.filter(cluster_id=cluster_pk).annotate(live=_LIVE)
           .values_list("holder", "term", "live").first())
    return Holding(*row) if row else None


def lease_take(cluster_pk: int, *, holder: str | None = None) -> Holding | None:
    """Take the cluster's lease for ``holder`` (this process by default) unless another holds a live one; answers
    the lease as it stands afterwards, whoever holds it (None: the cluster is gone). Taking it from another
    (expired) holder bumps the term; the holder taking its own again only renews it."""
    holder = holder or identity()
    try:
        with transaction.atomic():
            if not EngineLease.objects.filter(cluster_id=cluster_pk).exists():
                if not Cluster.objects.filter(pk=cluster_pk).exists():
                    return None
                # Made expired, then taken below like any other: two processes making it at once both get here.
                EngineLease.objects.bulk_create(
                    [EngineLease(cluster_id=cluster_pk, holder="", term=0, expires_at=NEVER)], ignore_conflicts=True)
            row = (EngineLease.objects.select_for_update().filter(cluster_id=cluster_pk).annotate(live=_LIVE)
                   .values_list("holder", "term", "live").first())
            if row is None:
                return None
            current, term, live = row
            if live and current != holder:
                return Holding(current, term, True)
            if current != holder:
                term += 1
            EngineLease.objects.filter(cluster_id=cluster_pk).update(holder=holder, term=term, expires_at=_expiry())
    except IntegrityError:  # the cluster was deleted meanwhile (its key is checked as the transaction commits)
        return None
    return Holding(holder, term, True)


def leases_renew() -> int:
    """Renew every lease this process holds, and its own liveness (a web process says nothing of its own); answers
    how many leases it holds. A lease that expired and was not taken is still this process's: nobody else wrote
    meanwhile, so renewing it is safe."""
    me = identity()
    with transaction.atomic():
        if settings.KUBEVIZ_ENGINES:
            if not EngineProcess.objects.filter(identity=me).update(expires_at=_expiry()):
                EngineProcess.objects.create(identity=me, expires_at=timezone_now() + duration())
        # not those it gave up (``leases_give_back``, ``leases_release``): they are for others to take
        return EngineLease.objects.filter(holder=me).exclude(expires_at=NEVER).update(expires_at=_expiry())


def leases_give_back(busy: set[str]) -> list[str]:
    """A web process, while an engine process is alive: let the leases it took meanwhile expire at once, but for
    those of the ``busy`` clusters (a run or a replay of this process under way: they go back at a later renewal);
    answers the clusters given back, whose engines this process drops. The engine processes take them over
    (``clusters_to_play``, ``place``)."""
    if settings.KUBEVIZ_ENGINES or not _engine_processes().exists():
        return []
    given = (EngineLease.objects.filter(holder=identity()).exclude(expires_at=NEVER)
             .exclude(cluster__name__in=list(busy)))
    names = list(given.values_list("cluster__name", flat=True))
    EngineLease.objects.filter(holder=identity(), cluster__name__in=names).update(expires_at=NEVER)
    return names


def _engine_processes(within: timedelta = timedelta(0)):
    """The processes that run engines and are alive, or were less than ``within`` ago."""
    return EngineProcess.objects.filter(expires_at__gt=Now() - within)


def timezone_now() -> datetime:
    return datetime.now(timezone.utc)


def leases_release() -> int:
    """Give up every lease of this process at once (a clean shutdown): another takes them over without waiting
    for them to expire."""
    me = identity()
    EngineProcess.objects.filter(identity=me).delete()
    return EngineLease.objects.filter(holder=me).update(expires_at=NEVER)


def loads() -> dict[str, int]:
    """The live processes that run engines and how many live leases each holds: this one always among them, unless
    it is a web process and an engine process is alive."""
    counts = {identity: 0 for identity in _engine_processes().values_list("identity", flat=True)}
    if settings.KUBEVIZ_ENGINES or not counts:
        counts.setdefault(identity(), 0)
    held = (EngineLease.objects.filter(expires_at__gt=Now(), holder__in=list(counts))
            .values("holder").annotate(n=Count("pk")).values_list("holder", "n"))
    for holder, n in held:
        counts[holder] = n
    return counts


def least_loaded(counts: dict[str, int]) -> str:
    """The process holding the fewest leases; this one among equals, else the first by name (so that processes
    deciding at the same time agree)."""
    fewest = min(counts.values())
    if counts.get(identity()) == fewest:
        return identity()
    return min(name for name, n in counts.items() if n == fewest)


def place(cluster_pk: int) -> Holding | None:
    """The cluster's lease, given to the least loaded live process if nobody holds a live one."""
    lease = lease_of(cluster_pk)
    if lease is not None and lease.live:
        return lease
    return lease_take(cluster_pk, holder=least_loaded(loads()))


def claim_unowned(candidates: list[Cluster]) -> list[Cluster]:
    """Take the leases of those ``candidates`` nobody holds live, one after another for as long as this process
    is (one of) the least loaded; answers the clusters taken. A web process takes none until no engine process has
    been alive for a lease's time: one that missed a renewal or two under load is not relieved of every cluster at
    once, only to be given them all back a moment later."""
    if not settings.KUBEVIZ_ENGINES and _engine_processes(within=duration()).exists():
        return []
    counts = loads()
    taken = []
    for cluster in candidates:
        if least_loaded(counts) != identity():
            break
        lease = lease_take(cluster.pk)
        if lease is not None and lease.mine:
            taken.append(cluster)
            counts[identity()] += 1
    return taken


def held_here() -> set[int]:
    """The clusters (pks) whose lease this process holds."""
    return set(EngineLease.objects.filter(holder=identity()).values_list("cluster_id", flat=True))


def clusters_to_play(playing: list[Cluster], host) -> list[Cluster]:
    """The player's share of the playing clusters: those whose lease this process holds, after taking (least
    loaded first) those nobody holds live, and going on with a background advance of a cluster taken over."""
    leases = {pk: (holder, live, term) for pk, holder, live, term in
              EngineLease.objects.annotate(live=_LIVE).values_list("cluster_id", "holder", "live", "term")}
    me = identity()
    orphans = list(Cluster.objects.filter(advance_target__isnull=False))
    seen = {c.pk for c in playing}
    candidates = [c for c in playing + [c for c in orphans if c.pk not in seen]
                  if c.pk not in leases or (leases[c.pk][0] != me and not leases[c.pk][1])]
    for cluster in claim_unowned(candidates) if candidates else ():
        logger.info("took over the engine of cluster %s", cluster.name)
        holding = lease_of(cluster.pk)
        if holding is None or not holding.mine:
            continue
        leases[cluster.pk] = (me, True, holding.term)
        host.leases.align(cluster.name, holding.term)
        if cluster.advance_target is not None:
            host.resume_advance(cluster)
    mine = [c for c in playing if c.pk in leases and leases[c.pk][0] == me]
    for cluster in mine:
        host.leases.align(cluster.name, leases[cluster.pk][2])
    return mine


def _lock_statement() -> str:
    quote = connection.ops.quote_name
    clusters, leases = quote(Cluster._meta.db_table), quote(EngineLease._meta.db_table)
    return (f"SELECT c.resource_version, l.holder, l.term FROM {clusters} c JOIN {leases} l ON l.cluster_id = c.id "
            f"WHERE c.id = %s FOR UPDATE")


class LeaseGuard:
    """The engine host's seam (``host.leases``): which term an engine was built under, and whether it may still
    write. The host asks nothing of it when leases are off.

    Where this process begins to run a cluster (the player's share, a request it serves as the holder) the engine
    it has is ``align``-ed with the lease's term: one built under another term (before a take-over, or while
    another process held the lease) is dropped, and the next use builds it afresh from what is stored."""

    def __init__(self, host):
        self._host = host
        self._terms: dict[str, int | None] = {}  # the term each cluster's engine here was built under

    def take_here(self, cluster: Cluster) -> None:
        """This process is to run the cluster now, whatever it is (a replay inside its request, into the new cluster
        it made: a web process too). Nobody runs a new cluster yet: its lease is free."""
        lease_take(cluster.pk)

    def built(self, cluster: Cluster, engine) -> None:
        """An engine was just built for the cluster: it belongs to the lease's current term if this process holds
        it (taking it when nobody holds it live; a web process, only when no engine process is alive), else to
        none, and then it writes nothing."""
        lease = lease_take(cluster.pk) if settings.KUBEVIZ_ENGINES else place(cluster.pk)
        engine.lease_term = lease.term if lease is not None and lease.mine else None
        self._terms[cluster.name] = engine.lease_term

    def align(self, name: str, term: int) -> None:
        """This process holds the cluster's lease under ``term``: drop an engine built under another."""
        if name in self._terms and self._terms[name] != term:
            self._terms.pop(name, None)
            self._host.forget(name)

    def lock_if_held(self, engine) -> int | None:
        """Inside a slice's transaction, as it begins: lock the cluster's row and its lease's, and answer the
        cluster's resourceVersion if this process still holds the lease with the engine's term (None: it does
        not, and the slice must write nothing). One statement for both rows, as every slice asks. They stay locked
        until the slice commits: a take-over waits for it, and so do the cluster's other writers
        (``DatabaseStorage.sole_writer``, which is given the version)."""
        term = getattr(engine, "lease_term", None)
        if term is None:
            return None
        with connection.cursor() as cursor:
            cursor.execute(_lock_statement(), (engine.client.storage.cluster.pk,))
            row = cursor.fetchone()
        if row is None or row[1] != identity() or row[2] != term:
            return None
        return row[0]

    def mine(self, cluster: Cluster) -> bool:
        lease = lease_of(cluster.pk)
        return lease is not None and lease.mine

    def clock_changed(self, cluster: Cluster) -> None:
        """A pause or speed change was stored here: when another process runs the cluster's engine, tell it once
        the change commits, so that its runs stop as this process's would."""
        lease = lease_of(cluster.pk)
        if lease is None or lease.mine or not lease.live:
            return
        from .forwarding import notify_clock_changed

        transaction.on_commit(lambda: notify_clock_changed(lease.holder, cluster.name))


class Renewer:
    """Renews this process's leases every third of their duration, as a task of the server's event loop; on a
    clean shutdown gives them up for others to take at once."""

    def __init__(self):
        self._task: asyncio.Task | None = None

    def ensure_started(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="kubeviz-lease-renewer")

    async def _run(self) -> None:
        renew = sync_to_async(self._renew, thread_sensitive=False)
        while not shutdown.requested():
            try:
                await renew()
            except Exception:  # noqa: BLE001 - the next round tries again; a missed one costs nothing yet
                logger.exception("renewing the engine leases failed")
            await asyncio.sleep(settings.KUBEVIZ_LEASE_SECONDS / 3)

    @staticmethod
    def _renew() -> None:
        from .host import host

        try:
            leases_renew()
            for name in leases_give_back(host.busy()):
                host.drop_idle(name)
        finally:
            connection.close()


renewer = Renewer()


def release_when_idle(wait_until_idle):
    """What the server's shutdown waits for (``shutdown.follow_reactor``): the runs under way to stop, then this
    process's leases given up."""

    def wait(timeout: float | None = None) -> bool:
        idle = wait_until_idle(timeout)
        try:
            leases_release()
        except Exception:  # noqa: BLE001 - they expire by themselves
            logger.exception("giving up the engine leases failed")
        finally:
            connection.close()
        return idle

    return wait
