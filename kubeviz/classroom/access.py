"""Who is asking, and what they may do with a cluster: the one policy every endpoint family asks.

Laptop mode (``KUBEVIZ_CLASSROOM`` off) is open: everyone may do everything, and nothing here is consulted.
In classroom mode a request comes from

- a **teacher**: a logged-in Django user (the session);
- a **learner**: the session of a browser that joined a class (``LEARNER_SESSION_KEY``);
- a **capability**: a token for one cluster (``/k/<token>/...``, or ``Authorization: Bearer <token>``), which is
  how kubectl, the Python client and the console reach the Kubernetes API; the Kubernetes API takes nothing else;
- **nobody** (``system:anonymous``).

The rules (``cluster_access``): a learner reaches their own sandboxes, read and write; a teacher reaches the
sandboxes of their own classes and every cluster that is no learner's sandbox (``default`` and those a teacher
made), read and write; a capability reaches its one cluster with its access; nobody reaches nothing. A cluster's
name grants nothing: an unknown cluster and a forbidden one are answered alike.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apiserver.requestinfo import ANONYMOUS
from kubeviz.store.models import Cluster

from .models import Capability, Learner, Sandbox

LEARNER_SESSION_KEY = "kubeviz.learner"
#: How often (wall seconds) one process writes that a sandbox is in use: at most once a minute per sandbox, so that
#: a learner polling every second does not queue a write per request behind the engines' (SQLite has one writer).
TOUCH_EVERY = 60.0


class Access(enum.IntEnum):
    NONE = 0
    READ = 1
    WRITE = 2


def classroom_mode() -> bool:
    return settings.KUBEVIZ_CLASSROOM


@dataclass(frozen=True)
class Principal:
    """Who a request comes from (see the module docstring)."""

    kind: str  # "anonymous", "teacher", "learner", "capability"
    user: object = None
    learner: Learner | None = None
    capability: Capability | None = None

    @property
    def username(self) -> str:
        """The user as the Kubernetes API names it in a Forbidden message."""
        if self.kind == "teacher":
            return f"kubeviz:teacher:{self.user.get_username()}"
        if self.kind == "learner":
            return self.learner.username
        if self.kind == "capability":
            holder = self.capability
            return holder.learner.username if holder.learner_id else f"kubeviz:teacher:{holder.teacher.get_username()}"
        return ANONYMOUS

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def is_teacher(self) -> bool:
        return self.kind == "teacher"

    @property
    def is_learner(self) -> bool:
        return self.kind == "learner"


NOBODY = Principal("anonymous")


def session_principal(session, user) -> Principal:
    """The principal of a browser session: a logged-in teacher, else a learner who joined, else nobody."""
    if user is not None and user.is_authenticated and user.is_active:
        return Principal("teacher", user=user)
    learner_id = session.get(LEARNER_SESSION_KEY) if session is not None else None
    if learner_id is not None:
        learner = Learner.objects.select_related("classroom").filter(pk=learner_id).first()
        if learner is not None:
            return Principal("learner", learner=learner)
    return NOBODY


def request_principal(request) -> Principal:
    """``session_principal`` of a Django request (kept on it once found); nobody in laptop mode, where no one
    needs to be anybody (and the session is never read)."""
    if not classroom_mode():
        return NOBODY
    principal = getattr(request, "_kubeviz_principal", None)
    if principal is None:
        principal = session_principal(getattr(request, "session", None), getattr(request, "user", None))
        request._kubeviz_principal = principal
    return principal


def find_capability(token: str) -> Capability | None:
    """The capability a token names, if its holder may still use it."""
    if not token or len(token) > 64:
        return None
    capability = (Capability.objects.select_related("cluster", "learner", "teacher").filter(token=token).first())
    if capability is None or (capability.teacher_id and not capability.teacher.is_active):
        return None
    return capability


def capability_principal(capability: Capability) -> Principal:
    return Principal("capability", capability=capability)


def bearer_token(request) -> str | None:
    """The token of an ``Authorization: Bearer`` header (None when there is none)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def cluster_access(principal: Principal, cluster: Cluster | None) -> Access:
    """What ``principal`` may do with ``cluster`` (None: a cluster that does not exist, which no one reaches)."""
    if cluster is None or not principal.authenticated:
        return Access.NONE
    if principal.kind == "capability":
        capability = principal.capability
        if capability.cluster_id != cluster.pk:
            return Access.NONE
        return Access.WRITE if capability.access == Capability.Access.WRITE else Access.READ
    sandbox = Sandbox.objects.select_related("learner__classroom").filter(cluster_id=cluster.pk).first()
    learner = sandbox.learner if sandbox is not None else _fork_owner(cluster)
    if principal.is_learner:
        return Access.WRITE if learner is not None and learner.pk == principal.learner.pk else Access.NONE
    if learner is None:
        return Access.WRITE  # default, and the clusters teachers made (and their forks): the teachers'
    return Access.WRITE if learner.classroom.teacher_id == principal.user.pk else Access.NONE


def _fork_owner(cluster: Cluster) -> Learner | None:
    """The learner a fork of their sandbox (or a recording they imported) belongs to (``kubeviz.recordings``)."""
    from kubeviz.recordings.models import Origin

    origin = Origin.objects.select_related("learner__classroom").filter(cluster_id=cluster.pk,
                                                                          learner__isnull=False).first()
    return origin.learner if origin is not None else None


def visible_clusters(principal: Principal):
    """The clusters ``principal`` may see, as a queryset (every cluster in laptop mode)."""
    clusters = Cluster.objects.all()
    if not classroom_mode():
        return clusters
    if principal.kind == "capability":
        return clusters.filter(pk=principal.capability.cluster_id)
    if principal.is_learner:
        return clusters.filter(Q(sandbox__learner=principal.learner) | Q(origin__learner=principal.learner)).distinct()
    if principal.is_teacher:
        return clusters.filter(Q(sandbox__isnull=True, origin__learner__isnull=True)
                               | Q(sandbox__learner__classroom__teacher=principal.user)
                               | Q(origin__learner__classroom__teacher=principal.user)).distinct()
    return clusters.none()


def capability_for(principal: Principal, cluster: Cluster, access: Access = Access.WRITE) -> Capability:
    """The token ``principal`` reaches ``cluster``'s API with (made on first use): a learner's is their sandbox's,
    a teacher's is their own. ``access`` is at most what the principal may do."""
    if principal.kind == "capability":
        return principal.capability
    level = Capability.Access.WRITE if access >= Access.WRITE else Capability.Access.READ
    holder = {"learner": principal.learner} if principal.is_learner else {"teacher": principal.user}
    capability = Capability.objects.filter(cluster=cluster, access=level, **holder).first()
    if capability is None:
        capability = Capability.objects.create(cluster=cluster, access=level, **holder)
    return capability


def kube_api_prefix(principal: Principal, cluster: Cluster) -> str:
    """The path a page or the console reaches the cluster's Kubernetes API under: ``/clusters/<name>`` in laptop
    mode, the principal's capability ``/k/<token>`` in classroom mode."""
    if not classroom_mode():
        return f"/clusters/{cluster.name}"
    return f"/k/{capability_for(principal, cluster).token}"


_touched: dict[int, float] = {}


def touch_cluster(cluster_id: int) -> None:
    """The sandbox of this cluster (if it is one) is in use now: written at most every ``TOUCH_EVERY`` seconds per
    process. A sandbox the sweep paused for being idle stays paused (its learner plays it again)."""
    now = time.monotonic()
    last = _touched.get(cluster_id)
    if last is not None and now - last < TOUCH_EVERY:
        return
    _touched[cluster_id] = now
    Sandbox.objects.filter(cluster_id=cluster_id).update(last_active=timezone.now(), idle_paused_at=None)
