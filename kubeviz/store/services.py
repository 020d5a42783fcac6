"""Writes to the cluster store: creating, listing and removing simulated clusters.

A new cluster is what ``kind`` or ``kubeadm`` would give a learner: the system namespaces, a tainted control-plane
node, worker nodes ``node-1..node-N`` with the labels, capacity and conditions of a real kubelet's Node, and a
Lease per node in ``kube-node-lease``; and, as an administrator would give a learner's namespace, the ResourceQuota
``sandbox`` in ``default`` with the limits of ``KUBEVIZ_DEFAULT_QUOTA``.
"""

import re
from datetime import datetime, timezone

from django.conf import settings
from django.db import transaction

from controllers.apimachinery.timeutil import format_rfc3339
from controllers.quota import calculate_usage
from controllers.resourcequota import sync_resource_quota

from apiserver.quota import EVALUATORS
from apiserver.registry import SYSTEM_NAMESPACES, Registry
from apiserver.kinds import resource_for_kind

from . import events
from .actor import acting_as, system
from .models import Cluster
from .storage import DatabaseStorage

KUBELET_VERSION = "v1.32.0"
CLUSTER_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Simulated time stays within these (a Job of a CronJob is named after minutes since the epoch; past the far end
# a month's fast-forward would overflow the calendar). A seed is a signed 64-bit integer, as it is stored.
SIM_TIME_MIN = datetime(1970, 1, 1, tzinfo=timezone.utc)
SIM_TIME_MAX = datetime(9000, 1, 1, tzinfo=timezone.utc)
SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1

NAMESPACE = resource_for_kind("", "Namespace")
NODE = resource_for_kind("", "Node")
LEASE = resource_for_kind("coordination.k8s.io", "Lease")
RESOURCE_QUOTA = resource_for_kind("", "ResourceQuota")
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
#: Who a new cluster's first objects are written by.
BOOTSTRAP = system("cluster bootstrap")
#: The name of the ResourceQuota a new cluster gets in its ``default`` namespace.
DEFAULT_QUOTA_NAME = "sandbox"


class ClusterError(Exception):
    """A request to create or remove a cluster that cannot be honoured; ``code`` is the HTTP status."""

    def __init__(self, message: str, code: int = 422, reason: str = "Invalid"):
        super().__init__(message)
        self.message, self.code, self.reason = message, code, reason


def clock_json(cluster: Cluster) -> dict:
    """The clock as the API answers it: ``{"now": RFC 3339, "paused": bool, "speed": float}``, and while an advance
    goes on in the background ``"advance": {"from": RFC 3339, "target": RFC 3339}``."""
    clock = {"now": format_rfc3339(cluster.sim_now), "paused": cluster.paused, "speed": cluster.speed}
    if cluster.advance_target is not None:
        clock["advance"] = {"from": format_rfc3339(cluster.advance_from or cluster.sim_now),
                            "target": format_rfc3339(cluster.advance_target)}
    return clock


def publish_clock(cluster: Cluster) -> None:
    """Tell the cluster's watchers where its clock is, once the current transaction commits."""
    message = {"type": "clock.changed", "clock": clock_json(cluster)}
    transaction.on_commit(lambda: events.publish(cluster.name, message))


def registry_for(cluster: Cluster) -> Registry:
    return Registry(DatabaseStorage(cluster))


HEALTHY_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)
# What the node lifecycle controller writes when a kubelet stops posting status (NodeStatusUnknown).
STOPPED_REASON = "NodeStatusUnknown"
STOPPED_MESSAGE = "Kubelet stopped posting node status."


def node_conditions(current: list[dict], *, ready: bool, now: str) -> list[dict]:
    """A node's conditions after its kubelet recovered (``ready``) or stopped: transitions stamped ``now``."""
    previous = {c.get("type"): c for c in current}
    conditions = []
    for type_, status, reason, message in HEALTHY_CONDITIONS:
        if not ready:
            status, reason, message = "Unknown", STOPPED_REASON, STOPPED_MESSAGE
        old = previous.get(type_) or {}
        changed = old.get("status") != status
        conditions.append({
            "type": type_, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": now if ready else old.get("lastHeartbeatTime", now),
            "lastTransitionTime": now if changed else old.get("lastTransitionTime", now),
        })
    return conditions


def node_pod_cidr(index: int) -> str:
    """The node's /24 of pod addresses: kind's 10.244.<index>.0/24 for its first 256 nodes; past those, /24s of
    10.0.0.0/8 below 10.244 (as a large cluster's --cluster-cidr would hand out)."""
    if index < 256:
        return f"10.244.{index}.0/24"
    return f"10.{index // 256}.{index % 256}.0/24"


def node_internal_address(index: int) -> str:
    """The node's InternalIP on kind's 172.18.0.0/16 network (the gateway is .1)."""
    host = index + 2
    return f"172.18.{host // 256}.{host % 256}"


def node_manifest(name: str, *, index: int, control_plane: bool = False, labels=None, taints=None) -> dict:
    """A Node as a kubelet registers it (kind/kubeadm flavoured), with ``index`` picking its addresses."""
    node_labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    node_taints = list(taints or [])
    if control_plane:
        node_labels[CONTROL_PLANE_LABEL] = ""
        node_labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        node_taints.insert(0, {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
    node_labels.update(labels or {})
    capacity = {
        "cpu": "4",
        "ephemeral-storage": "102626232Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": "8148840Ki",
        "pods": "110",
    }
    pod_cidr = node_pod_cidr(index)
    spec = {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]}
    if node_taints:
        spec["taints"] = node_taints
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": node_labels,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": spec,
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": node_internal_address(index)},
                {"type": "Hostname", "address": name},
            ],
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [
                {"type": t, "status": s, "reason": r, "message": m} for t, s, r, m in HEALTHY_CONDITIONS
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": f"kubeviz-boot-{index}",
                "containerRuntimeVersion": "containerd://1.7.24",
                "kernelVersion": "6.1.0-kubeviz",
                "kubeProxyVersion": KUBELET_VERSION,
                "kubeletVersion": KUBELET_VERSION,
                "machineID": f"kubeviz-machine-{index}",
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "systemUUID": f"kubeviz-system-{index}",
            },
        },
    }


def node_add(*, cluster: Cluster, name: str, control_plane: bool = False, labels=None, taints=None) -> dict:
    """Register a node in a stored cluster (see ``node_register``): a kubelet joins. A worker past
    ``KUBEVIZ_MAX_NODES`` is refused (403)."""
    registry = registry_for(cluster)
    if not control_plane:
        nodes, _ = registry.list(NODE)
        workers = [n for n in nodes if CONTROL_PLANE_LABEL not in ((n.get("metadata") or {}).get("labels") or {})]
        if len(workers) >= settings.KUBEVIZ_MAX_NODES:
            raise ClusterError(
                f'nodes "{name}" is forbidden: this cluster has {len(workers)} worker nodes, the most it may have '
                f"(KUBEVIZ_MAX_NODES)", code=403, reason="Forbidden")
    return node_register(registry, name=name, control_plane=control_plane, labels=labels, taints=taints)


def node_register(registry: Registry, *, name: str, control_plane: bool = False, labels=None, taints=None,
                  index: int | None = None) -> dict:
    """Register a node the way a kubelet does: the Node (with its status and heartbeat times) and its Lease.
    ``index`` picks its addresses (default: the lowest one no node uses)."""
    if index is None:
        index = _next_node_index(registry)
    now = registry.now_rfc3339()
    manifest = node_manifest(name, index=index, control_plane=control_plane, labels=labels, taints=taints)
    for condition in manifest["status"]["conditions"]:
        condition["lastHeartbeatTime"] = now
        condition["lastTransitionTime"] = now
    # The manifest is the server's own unless labels or taints came from a request: only then is it decoded as a
    # request body is (validation runs either way). A real kubelet's Node gets node.kubernetes.io/not-ready:NoSchedule
    # from the TaintNodesByCondition admission plugin, and the node lifecycle controller removes it as soon as the
    # kubelet reports Ready; this kubelet reports Ready from the start, so the Node is stored as it is after that.
    node = registry.create(NODE, "", manifest, trusted=labels is None and taints is None, kubelet_ready=True).object
    registry.create(
        LEASE,
        "kube-node-lease",
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": name,
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "Node", "name": name, "uid": node["metadata"]["uid"]}
                ],
            },
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": now.replace("Z", ".000000Z")},
        },
        trusted=True,
    )
    return node


def populate_cluster(registry: Registry, *, nodes: int, control_plane: bool = True) -> None:
    """What a fresh cluster has: the system namespaces, the control-plane node and ``nodes`` workers."""
    for namespace in SYSTEM_NAMESPACES:
        registry.create(NAMESPACE, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    if control_plane:
        node_register(registry, name="control-plane", control_plane=True, index=0)
    first = 1 if control_plane else 0
    for i in range(1, nodes + 1):
        node_register(registry, name=f"node-{i}", index=first + i - 1)


def default_quota_create(registry: Registry, *, hard: dict, namespace: str = "default") -> dict:
    """The ResourceQuota ``sandbox`` with ``hard`` limits, its status written as the resource quota controller's
    first sync writes it (the namespace is empty yet), so that it is enforced from the cluster's first request
    rather than from its clock's first tick."""
    quota = registry.create(RESOURCE_QUOTA, namespace, {
        "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": DEFAULT_QUOTA_NAME},
        "spec": {"hard": dict(hard)}}).object
    now = registry.storage.now()
    status = sync_resource_quota(quota, calculate_usage(quota, EVALUATORS, {}, now), now).status
    return registry.update(RESOURCE_QUOTA, namespace, DEFAULT_QUOTA_NAME, dict(quota, status=status),
                           subresource="status").object


def _next_node_index(registry: Registry) -> int:
    nodes, _ = registry.list(NODE)
    by_cidr = {node_pod_cidr(i): i for i in range(len(nodes) + 1)}
    used = {by_cidr.get((node.get("spec") or {}).get("podCIDR", "")) for node in nodes}
    index = 0
    while index in used:
        index += 1
    return index


def cluster_create(
    *,
    name: str,
    nodes: int = 3,
    seed: int = 0,
    start: datetime | None = None,
    paused: bool = True,
    speed: float = 1.0,
    control_plane: bool = True,
) -> Cluster:
    if not isinstance(name, str) or len(name) > 63 or not CLUSTER_NAME_RE.match(name):
        raise ClusterError(
            f'cluster name "{name}" is invalid: a lowercase RFC 1123 label must consist of lower case alphanumeric '
            f"characters or '-', and must start and end with an alphanumeric character"
        )
    max_nodes = settings.KUBEVIZ_MAX_NODES
    if not isinstance(nodes, int) or isinstance(nodes, bool) or not 0 <= nodes <= max_nodes:
        raise ClusterError(f"nodes must be an integer from 0 to {max_nodes}")
    if not isinstance(seed, int) or isinstance(seed, bool) or not SEED_MIN <= seed <= SEED_MAX:
        raise ClusterError(f"seed must be an integer from {SEED_MIN} to {SEED_MAX}")
    if start is None:
        start = datetime.now(timezone.utc).replace(microsecond=0)
    if not SIM_TIME_MIN <= start <= SIM_TIME_MAX:
        raise ClusterError(f'start: Invalid value: "{format_rfc3339(start)}": must be from '
                           f"{format_rfc3339(SIM_TIME_MIN)} to {format_rfc3339(SIM_TIME_MAX)}")
    with transaction.atomic(), acting_as(BOOTSTRAP):
        if Cluster.objects.filter(name=name).exists():
            raise ClusterError(f'clusters "{name}" already exists', code=409, reason="AlreadyExists")
        cluster = Cluster.objects.create(name=name, seed=seed, sim_now=start, paused=paused, speed=speed)
        registry = registry_for(cluster)
        populate_cluster(registry, nodes=nodes, control_plane=control_plane)
        if settings.KUBEVIZ_DEFAULT_QUOTA:
            default_quota_create(registry, hard=settings.KUBEVIZ_DEFAULT_QUOTA)
    return cluster


def cluster_delete(*, name: str) -> None:
    """Delete the cluster and everything in it; its watchers are told once the deletion commits."""
    with transaction.atomic():
        cluster = Cluster.objects.filter(name=name).first()
        if cluster is None:
            raise ClusterError(f'clusters "{name}" not found', code=404, reason="NotFound")
        message = events.deleted_message(str(cluster.uid))
        cluster.delete()
        transaction.on_commit(lambda: events.publish(name, message))


def cluster_ensure_default(*, nodes: int) -> Cluster:
    """The ``default`` cluster that ``make run`` promises, created on first start."""
    existing = Cluster.objects.filter(name="default").first()
    if existing is not None:
        return existing
    return cluster_create(name="default", nodes=nodes)
