"""The controller-manager: which controllers run, and which changes wake which of them.

Each controller here is a thin adapter between the engine and a pure ``sync_*`` function: it turns watch events
into work-queue keys (upstream's informer event handlers), gathers what the sync function needs from the cache,
and names the object whose status a plan writes. The decisions live in the sync functions.
"""

from __future__ import annotations

import random
from dataclasses import replace

from .apimachinery.ownerrefs import get_controller_of
from .cache import controller_uid
from .cronjob import sync_cronjob
from .daemonset import sync_daemonset
from .daemonset_cache import DaemonSetCache
from .job import (
    cleanup_pod_finalizers,
    has_backoff_limit_per_index,
    has_job_tracking_finalizer,
    is_job_finished,
    sync_job,
    sync_orphan_pod,
)
from .kubelet import node_is_ready, sync_pod
from .nodelifecycle import evict_pods_for_taints, sync_node_lifecycle
from .podgc import gc_pods
from .pods import is_pod_terminal
from .quota import evaluators_for, quota_v1_pod, quota_v1_pod_expiry
from .quota_index import calculate_usage_indexed
from .resourcequota import sync_resource_quota
from .scheduler import NodeInfoCache, SchedulerState, schedule_pod
from .client import WatchEvent
from .ttl import sync_ttl_after_finished


def _ns_name(obj: dict) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def _owner_keys(change: WatchEvent, old: dict | None, engine, owner_kind: str) -> list[tuple[str, str]]:
    """Keys of the ``owner_kind`` objects controlling the changed object, before and after the change."""
    keys = []
    for obj in (change.object, old):
        owner = controller_uid(obj) if obj else None
        found = engine.cache.by_uid(owner) if owner else None
        if found is not None and found[0] == owner_kind:
            key = _ns_name(found[1])
            if key not in keys:
                keys.append(key)
    return keys


class WorkloadController:
    """What the Job, CronJob and DaemonSet controllers share: keyed by their object's namespace/name, woken by
    its own changes (a deleted object's memory is dropped), and writing that object's status."""

    name = ""
    kind = ""

    def initial_keys(self, engine):
        return [_ns_name(obj) for obj in engine.cache.list(self.kind)]

    def keys_for_change(self, change: WatchEvent, old, engine):
        if change.kind == self.kind:
            if change.type == "DELETED":
                engine.forget_memory(self.name, _ns_name(change.object))
                return []
            return [_ns_name(change.object)]
        return self.keys_for_dependent(change, old, engine)

    def keys_for_dependent(self, change: WatchEvent, old, engine):
        """Keys to sync because of a change to another kind (the objects this controller owns, nodes...)."""
        return []

    def subject(self, key, engine):
        obj = engine.cache.get(self.kind, *key)
        return (self.kind, obj) if obj is not None else None

    def sync(self, key, engine, memory):
        obj = engine.cache.get(self.kind, *key)
        if obj is None:
            return None
        return self.sync_object(obj, engine, memory)

    def sync_object(self, obj: dict, engine, memory):
        raise NotImplementedError


# pkg/controller/job: pod events reach a Job at most once per this many seconds.
SYNC_JOB_BATCH_PERIOD = 1.0


# pkg/controller/job: DefaultJobApiBackOff and MaxJobApiBackOff, the rate limiter of both of its queues (a Job whose
# sync failed, e.g. because a pod create was refused by quota, is retried after 1 s, 2 s, 4 s, ... at most 60 s).
DEFAULT_JOB_API_BACKOFF = 1.0
MAX_JOB_API_BACKOFF = 60.0


class JobController(WorkloadController):
    """pkg/controller/job: Jobs, woken by their own changes and by changes of the pods they control."""

    name = "job-controller"
    kind = "Job"
    rate_limiter = (DEFAULT_JOB_API_BACKOFF, MAX_JOB_API_BACKOFF)

    def keys_for_change(self, change: WatchEvent, old, engine):
        if (change.kind == self.kind and change.type == "MODIFIED" and old is not None
                and old["metadata"].get("generation") == change.object["metadata"].get("generation")):
            # updateJob: "Delay the Job sync when no generation change to batch Job status updates"
            engine.enqueue_after(self.name, _ns_name(change.object), SYNC_JOB_BATCH_PERIOD)
            return []
        return super().keys_for_change(change, old, engine)

    def keys_for_dependent(self, change: WatchEvent, old, engine):
        if change.kind == "Pod":
            # Pod events are batched: the Job syncs once a second at most for its pods (syncJobBatchPeriod).
            for key in _owner_keys(change, old, engine, "Job"):
                engine.enqueue_after(self.name, key, SYNC_JOB_BATCH_PERIOD)
        return []

    def sync_object(self, job, engine, memory):
        uid = job["metadata"]["uid"]
        # Settled pods (finished, finalizer removed) are already counted in the Job's status and upstream's sync
        # skips them, except with backoffLimitPerIndex, which deletes failed pods once their index is replaced.
        if has_backoff_limit_per_index(job):
            pods = engine.cache.owned_by(uid, "Pod")
        else:
            pods = engine.cache.owned_pods_in_play(uid)
        return sync_job(job, pods, engine.now, memory=memory)


ORPHAN_POD_TRIGGER = "no running Job tracks the pod any more (deleted, finished, or no controller)"


class JobOrphanPodController:
    """pkg/controller/job's second queue (``orphanQueue``, worked by ``syncOrphanPod``): pods keyed by
    namespace/name whose tracking finalizer no ``sync_job`` will remove, because they have no controller any more
    or their Job is gone or finished. Its handlers are the orphan branches of upstream's ``addPod``, ``updatePod``,
    ``deletePod`` (a pod being deleted counts as deleted), ``updateJob`` and ``deleteJob``."""

    name = "job-orphan-pod"
    rate_limiter = (DEFAULT_JOB_API_BACKOFF, MAX_JOB_API_BACKOFF)

    def initial_keys(self, engine):
        # A restarted controller's informer announces every pod again (addPod).
        return [_ns_name(pod) for pod in engine.cache.list("Pod") if self._orphaned(pod, engine, deleted=False)]

    def keys_for_change(self, change: WatchEvent, old, engine):
        if change.kind == "Pod":
            return [_ns_name(change.object)] if self._orphaned(change.object, engine,
                                                                deleted=change.type == "DELETED") else []
        if change.kind == "Job" and (change.type == "DELETED" or is_job_finished(change.object)):
            # deleteJob, and updateJob of a finished Job (a backup: it should have released its pods itself)
            pods = engine.cache.owned_pods_in_play(change.object["metadata"].get("uid") or "")
            return [_ns_name(pod) for pod in cleanup_pod_finalizers(change.object, pods)]
        return []

    def _orphaned(self, pod: dict, engine, *, deleted: bool) -> bool:
        if not has_job_tracking_finalizer(pod):
            return False
        if get_controller_of(pod) is None:
            return True  # no controller: nobody else will take the finalizer off
        if not (deleted or pod["metadata"].get("deletionTimestamp")):
            return False  # a live pod with a controller is its Job's to count
        job = _controller_job(pod, engine)
        return job is None or is_job_finished(job)  # syncJob will not remove this finalizer

    def sync(self, key, engine, memory):
        pod = engine.cache.get("Pod", *key)
        if pod is None or not has_job_tracking_finalizer(pod):
            return None  # the orphan pod has been deleted, or has been released already
        return sync_orphan_pod(pod, _controller_job(pod, engine), trigger=ORPHAN_POD_TRIGGER)


def _controller_job(pod: dict, engine) -> dict | None:
    """``resolveControllerRef``: the Job the pod's controller reference names, if the cache has it."""
    ref = get_controller_of(pod)
    if ref is None or ref.get("kind") != "Job":
        return None
    found = engine.cache.by_uid(ref.get("uid") or "")
    return found[1] if found is not None and found[0] == "Job" else None


class CronJobController(WorkloadController):
    """pkg/controller/cronjob (v2): CronJobs, woken by their own changes and by the Jobs they control."""

    name = "cronjob-controller"
    kind = "CronJob"

    def keys_for_dependent(self, change: WatchEvent, old, engine):
        return _owner_keys(change, old, engine, "CronJob") if change.kind == "Job" else []

    def sync_object(self, cronjob, engine, memory):
        jobs = engine.cache.owned_by(cronjob["metadata"]["uid"], "Job")
        return sync_cronjob(cronjob, jobs, engine.now, memory=memory)


class DaemonSetController(WorkloadController):
    """pkg/controller/daemon: DaemonSets, woken by their pods, revisions and by nodes joining or changing.

    Its syncs go through one ``DaemonSetCache`` (``controllers/daemonset_cache.py``), which follows the change
    stream and tells each sync what changed since that DaemonSet's previous one, so that a sync looks at those
    nodes and pods alone; the plans are the same without it.
    """

    name = "daemonset-controller"
    kind = "DaemonSet"

    def __init__(self):
        self.daemonset_cache = DaemonSetCache()

    def keys_for_change(self, change: WatchEvent, old, engine):
        self.daemonset_cache.observe(change, old, engine.cache)
        return super().keys_for_change(change, old, engine)

    def keys_for_dependent(self, change: WatchEvent, old, engine):
        if change.kind in ("Pod", "ControllerRevision"):
            return _owner_keys(change, old, engine, "DaemonSet")
        if change.kind == "Node" and change.type != "DELETED":
            # addNode / updateNode: the DaemonSets for which NodeShouldRunDaemonPod changed
            should_run = self.daemonset_cache.node_should_run_daemon_pod
            keys = []
            for ds in engine.cache.list("DaemonSet"):
                now_runs = should_run(change.object, ds)
                if old is None and now_runs[0] or old is not None and should_run(old, ds) != now_runs:
                    keys.append(_ns_name(ds))
            return keys
        return []

    def sync_object(self, ds, engine, memory):
        nodes, pods, changes = self.daemonset_cache.inputs(ds, engine.cache)
        return sync_daemonset(ds, nodes, pods, engine.cache.owned_by(ds["metadata"]["uid"], "ControllerRevision"),
                              engine.now, memory=memory, cache=self.daemonset_cache, changes=changes)


# Replenishment reaches a quota at most once per this many seconds (kubeviz's; upstream's workers just run as fast
# as they can): a namespace whose pods finish by the hundred is recalculated once, not a hundred times.
QUOTA_REPLENISHMENT_BATCH_PERIOD = 1.0


class ResourceQuotaController:
    """pkg/controller/resourcequota: quotas, woken by their own spec changes and by replenishment (a pod that
    stops being charged, any counted object deleted) in their namespace."""

    name = "resourcequota-controller"
    kind = "ResourceQuota"

    def __init__(self):
        self._registry = None

    def registry(self, engine):
        """The quota registry of what the API server serves (upstream's QuotaMonitor reads discovery)."""
        if self._registry is None:
            self._registry = evaluators_for(engine.client.api_resources())
        return self._registry

    def initial_keys(self, engine):
        return [_ns_name(q) for q in engine.cache.list(self.kind)]

    def keys_for_change(self, change: WatchEvent, old, engine):
        if change.kind == self.kind and change.type != "DELETED":
            if change.type == "MODIFIED" and old is not None and (
                    (old.get("spec") or {}).get("hard") == (change.object.get("spec") or {}).get("hard")):
                return []  # a status write, this controller's own or the admission plugin's
            return [_ns_name(change.object)]
        if self._replenishes(change, old, engine):
            namespace = change.object["metadata"].get("namespace") or ""
            evaluator = self.registry(engine).get(change.kind)
            for quota in engine.cache.list_in_namespace(self.kind, namespace):
                if evaluator.matching_resources(((quota.get("status") or {}).get("hard") or {}).keys()):
                    engine.enqueue_after(self.name, _ns_name(quota), QUOTA_REPLENISHMENT_BATCH_PERIOD)
        return []

    def _replenishes(self, change: WatchEvent, old, engine) -> bool:
        """QuotaMonitor's handlers: a counted object deleted, or a pod that stopped being charged."""
        if change.kind not in self.registry(engine) or not engine.cache.count_in_namespace(
                self.kind, change.object["metadata"].get("namespace") or ""):
            return False
        if change.type == "DELETED":
            return True
        if change.kind != "Pod" or change.type != "MODIFIED" or old is None:
            return False
        if quota_v1_pod(old, engine.now) and not quota_v1_pod(change.object, engine.now):
            return True
        # kubeviz's stand-in for the 5-minute resync: a pod starting to terminate gets its quotas a timer for the
        # moment it outlives its grace period (see sync)
        return bool(change.object["metadata"].get("deletionTimestamp")) and not old["metadata"].get(
            "deletionTimestamp")

    def subject(self, key, engine):
        obj = engine.cache.get(self.kind, *key)
        return (self.kind, obj) if obj is not None else None

    def sync(self, key, engine, memory):
        quota = engine.cache.get(self.kind, *key)
        if quota is None:
            return None
        registry = self.registry(engine)
        usage = calculate_usage_indexed(quota, registry, engine.cache, engine.now)
        return sync_resource_quota(quota, usage, engine.now, requeue_after=self._next_expiry(quota, engine))

    def _next_expiry(self, quota, engine) -> float | None:
        """Seconds until the next charged pod of the namespace outlives its grace period, if the quota tracks
        pods (upstream's 5-minute resync would catch it later)."""
        if not self.registry(engine)["Pod"].matching_resources(((quota.get("spec") or {}).get("hard") or {}).keys()):
            return None
        expiries = []
        for pod in engine.cache.unfinished_pods_in_namespace(quota["metadata"].get("namespace") or ""):
            expiry = quota_v1_pod_expiry(pod)
            if expiry is not None and expiry >= engine.now:
                expiries.append(expiry)
        if not expiries:
            return None
        # QuotaV1Pod stops charging a pod strictly after its expiry: look just past it.
        return (min(expiries) - engine.now).total_seconds() + 0.001


def _pending(pod: dict | None) -> bool:
    """A pod the default scheduler still has to place."""
    if pod is None:
        return False
    spec = pod.get("spec") or {}
    return (not spec.get("nodeName") and not pod["metadata"].get("deletionTimestamp")
            and spec.get("schedulerName", "default-scheduler") == "default-scheduler" and not is_pod_terminal(pod))


def _frees_room(change: WatchEvent, old: dict | None) -> bool:
    """Whether a change may let a pending pod fit somewhere: a node appeared or changed, or a bound pod went."""
    if change.kind == "Node":
        return change.type in ("ADDED", "MODIFIED")
    if change.kind == "Pod" and (change.object.get("spec") or {}).get("nodeName"):
        if change.type == "DELETED":
            return True
        return is_pod_terminal(change.object) and not (old is not None and is_pod_terminal(old))
    return False


class Scheduler:
    """kube-scheduler: places pending pods; retries them when the cluster changes and every 5 minutes."""

    name = "default-scheduler"

    def __init__(self):
        self.pending: set[tuple[str, str]] = set()
        self.state = SchedulerState()
        self.node_infos = NodeInfoCache()

    def initial_keys(self, engine):
        self.pending = {_ns_name(p) for p in engine.cache.list("Pod") if _pending(p)}
        return sorted(self.pending)

    def keys_for_change(self, change: WatchEvent, old, engine):
        if change.kind == "Pod":
            key = _ns_name(change.object)
            if change.type != "DELETED" and _pending(change.object):
                self.pending.add(key)
                keys = [key]
            else:
                self.pending.discard(key)
                keys = []
            if _frees_room(change, old) and self.pending:
                keys.extend(sorted(self.pending - {key}))
            return keys
        if _frees_room(change, old):
            return sorted(self.pending)
        return []

    def subject(self, key, engine):
        pod = engine.cache.get("Pod", *key)
        return ("Pod", pod) if pod is not None else None

    def sync(self, key, engine, memory):
        pod = engine.cache.get("Pod", *key)
        if not _pending(pod):
            return None
        cache = engine.cache
        infos = self.node_infos.infos(cache)
        rng = _SeededOnUse(f"{engine.seed}/schedule/{pod['metadata']['uid']}/{pod['metadata']['resourceVersion']}")
        return schedule_pod(pod, (), {}, engine.now, rng=rng, state=self.state, node_infos=infos)


class _SeededOnUse:
    """What ``select_host`` draws from (``randrange``): a ``random.Random(seed)`` made when first drawn from. Most
    scheduling cycles break no tie (a daemon pod has one node), and seeding costs more than the rest of such a
    cycle's arithmetic."""

    def __init__(self, seed: str):
        self._seed = seed
        self._rng: random.Random | None = None

    def randrange(self, *args) -> int:
        if self._rng is None:
            self._rng = random.Random(self._seed)
        return self._rng.randrange(*args)


class PodGarbageCollector:
    """The PodGC controller: pods left on deleted nodes, terminating pods that were never scheduled."""

    name = "pod-garbage-collector"
    KEY = "podgc"

    def initial_keys(self, engine):
        return [self.KEY]

    def keys_for_change(self, change: WatchEvent, old, engine):
        if change.kind == "Node" and change.type == "DELETED":
            return [self.KEY]
        if change.kind == "Pod" and change.object["metadata"].get("deletionTimestamp") and not (
            change.object.get("spec") or {}
        ).get("nodeName"):
            return [self.KEY]
        return []

    def sync(self, key, engine, memory):
        result = gc_pods(engine.cache.list("Pod"), engine.cache.list("Node"), engine.now, memory=memory)
        if not result.actions and not result.memory:
            # Nothing in quarantine: wait for the next node deletion instead of ticking every 20 s forever.
            return replace(result, requeue_after=None)
        return result


class TTLAfterFinishedController:
    """Deletes finished Jobs whose ``ttlSecondsAfterFinished`` has passed."""

    name = "ttl-after-finished-controller"

    def initial_keys(self, engine):
        return [_ns_name(j) for j in engine.cache.list("Job") if (j.get("spec") or {}).get(
            "ttlSecondsAfterFinished") is not None]

    def keys_for_change(self, change: WatchEvent, old, engine):
        if change.kind == "Job" and change.type != "DELETED" and (change.object.get("spec") or {}).get(
                "ttlSecondsAfterFinished") is not None:
            return [_ns_name(change.object)]
        return []

    def sync(self, key, engine, memory):
        job = engine.cache.get("Job", *key)
        if job is None:
            return None
        return sync_ttl_after_finished(job, engine.now)


class NodeLifecycleController:
    """Taints that follow node conditions and cordons (TaintNodeByCondition, not-ready/unreachable)."""

    name = "node-lifecycle-controller"

    def initial_keys(self, engine):
        return [n["metadata"]["name"] for n in engine.cache.list("Node")]

    def keys_for_change(self, change: WatchEvent, old, engine):
        if change.kind == "Node" and change.type != "DELETED":
            return [change.object["metadata"]["name"]]
        return []

    def sync(self, key, engine, memory):
        node = engine.cache.get("Node", "", key)
        if node is None:
            return None
        return sync_node_lifecycle(node, engine.now)


def _no_execute_taints(node: dict | None) -> bool:
    return node is not None and any(
        t.get("effect") == "NoExecute" for t in (node.get("spec") or {}).get("taints") or ())


class TaintEvictionController:
    """Evicts pods that do not tolerate a node's NoExecute taints (after their tolerationSeconds)."""

    name = "taint-eviction-controller"

    def initial_keys(self, engine):
        return [n["metadata"]["name"] for n in engine.cache.list("Node") if _no_execute_taints(n)]

    def keys_for_change(self, change: WatchEvent, old, engine):
        if change.kind == "Node" and change.type != "DELETED":
            if _no_execute_taints(change.object) or _no_execute_taints(old):
                return [change.object["metadata"]["name"]]
            return []
        if change.kind == "Pod" and change.type == "ADDED":
            node = (change.object.get("spec") or {}).get("nodeName")
            if node and _no_execute_taints(engine.cache.get("Node", "", node)):
                return [node]
        if change.kind == "Pod" and change.type == "MODIFIED" and old is not None:
            node = (change.object.get("spec") or {}).get("nodeName")
            if node and not (old.get("spec") or {}).get("nodeName") and _no_execute_taints(
                    engine.cache.get("Node", "", node)):
                return [node]
        return []

    def sync(self, key, engine, memory):
        node = engine.cache.get("Node", "", key)
        if node is None:
            return None
        return evict_pods_for_taints(node, engine.cache.pods_on_node(key), engine.now, memory=memory)


class Kubelet:
    """Every node's kubelet: runs the pods bound to it (image pulls, containers, restarts, termination)."""

    name = "kubelet"
    # What a kubelet knows of its running containers survives a server restart (its checkpoint files).
    checkpoint = True

    def initial_keys(self, engine):
        return [_ns_name(p) for p in engine.cache.list("Pod") if (p.get("spec") or {}).get("nodeName")]

    def keys_for_change(self, change: WatchEvent, old, engine):
        if change.kind == "Pod":
            key = _ns_name(change.object)
            if change.type == "DELETED":
                engine.forget_memory(self.name, key)
                return []
            return [key] if (change.object.get("spec") or {}).get("nodeName") else []
        if change.kind == "Node" and change.type == "MODIFIED" and old is not None:
            if node_is_ready(change.object) != node_is_ready(old):
                return [_ns_name(p) for p in engine.cache.pods_on_node(change.object["metadata"]["name"])]
        return []

    def subject(self, key, engine):
        pod = engine.cache.get("Pod", *key)
        return ("Pod", pod) if pod is not None else None

    def sync(self, key, engine, memory):
        pod = engine.cache.get("Pod", *key)
        if pod is None:
            return None
        node = engine.cache.get("Node", "", (pod.get("spec") or {}).get("nodeName", ""))
        return sync_pod(pod, node, engine.now, memory=memory, seed=f"{engine.seed}/{pod['metadata']['uid']}")


def default_controllers() -> list:
    """The controllers of a kubeviz cluster, in the order their keys are first queued."""
    return [
        ResourceQuotaController(),
        NodeLifecycleController(),
        TaintEvictionController(),
        DaemonSetController(),
        JobController(),
        JobOrphanPodController(),
        CronJobController(),
        TTLAfterFinishedController(),
        Scheduler(),
        Kubelet(),
        PodGarbageCollector(),
    ]
