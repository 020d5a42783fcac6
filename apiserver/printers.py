"""Server-side printing: the ``meta.k8s.io/v1`` ``Table`` a 1.32 API server returns, and kubectl's text of it.

``kubectl get`` does not format objects itself: it asks the API server for a ``Table`` (``Accept:
application/json;as=Table;v=v1;g=meta.k8s.io``) and prints the cells it gets back. The columns and the cell
rules live in the server, in ``pkg/printers/internalversion/printers.go`` (``printPod``, ``printJob``, ...), so
this module is where kubeviz decides what a student sees in ``kubectl get``. Everything here follows 1.32:

* each kind's columns and ``print_<kind>`` cell function, which ``kinds.py`` pairs into the kind's
  :class:`Printer`; :meth:`Printer.table` builds the Table for a list (or one object). Like the real
  ``TableConvertor`` it always generates the *wide* cells; kubectl hides priority-1 columns unless ``-o wide``.
  Kinds without a printer get the generic ``rest.DefaultTableConvertor`` table (``Name``, ``Created At``), as on a
  real server (:data:`DEFAULT_PRINTER`); ``kinds.table`` finds a kind's printer.
* :func:`render_text` prints a Table the way kubectl's table printer does (cli-runtime ``printers/tableprinter.go``
  through a ``text/tabwriter`` with minwidth 6, padding 3, blank padding), for the simulator's own terminal and
  for tests that compare against real kubectl output.
* :func:`accepts_table` and :func:`include_object_param` are the request side: content negotiation and the
  ``includeObject`` query parameter (``apiserver/pkg/endpoints/handlers/response.go``).

``now`` is always an argument: AGE, DURATION and ``RESTARTS (5m ago)`` are computed against simulated time.
Pure Python: no Django.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from controllers.apimachinery.labels import format_label_selector, format_labels
from controllers.apimachinery.timeutil import format_rfc3339, human_duration, parse_rfc3339
from controllers.pods import pod_ready_text, pod_restarts_text, pod_status_text

__all__ = [
    "INCLUDE_METADATA",
    "INCLUDE_NONE",
    "INCLUDE_OBJECT",
    "TABLE_API_VERSION",
    "Column",
    "DEFAULT_PRINTER",
    "Printer",
    "accepts_table",
    "include_object_param",
    "negotiate_table_version",
    "render_text",
]

TABLE_API_VERSION = "meta.k8s.io/v1"
_TABLE_GROUP = "meta.k8s.io"
_TABLE_VERSIONS = ("v1", "v1beta1")

# metav1.IncludeObjectPolicy values.
INCLUDE_NONE = "None"
INCLUDE_METADATA = "Metadata"
INCLUDE_OBJECT = "Object"
_INCLUDE_POLICIES = (INCLUDE_METADATA, INCLUDE_NONE, INCLUDE_OBJECT)

# --- column descriptions -----------------------------------------------------------------------------------
# printers.go takes most descriptions from the API types' SwaggerDoc(); these are the 1.32 texts of those fields.

_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources may "
    "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
    "for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_CREATION_TIMESTAMP_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this value. "
    "It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. "
    "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_CONTAINERS_DOC = "Names of each container in the template."
_IMAGES_DOC = "Images referenced by each container in the template."
_DS_MORE_INFO = " More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
_SELECTOR_MORE_INFO = (
    " More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
)
_NODE_ADDRESSES_DOC = (
    "List of addresses reachable to the node. Queried from cloud provider, if available. More info: "
    "https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, "
    "but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers "
    "should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should "
    "assume that addresses can change during the lifetime of a Node. However, there are some exceptions where "
    "this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the "
    "downward API (status.hostIP)."
)
_JOB_SELECTOR_DOC = (
    "A label query over pods that should match the pod count. Normally, the system sets this field for you."
    + _SELECTOR_MORE_INFO
)


@dataclass(frozen=True)
class Column:
    """A ``TableColumnDefinition``. ``priority`` 0 is always shown, 1 only with ``-o wide``."""

    name: str
    type: str
    description: str
    format: str = ""
    priority: int = 0

    def as_dict(self) -> dict:
        # Field order of the Go struct; every key is present (none is omitempty).
        return {"name": self.name, "type": self.type, "format": self.format,
                "description": self.description, "priority": self.priority}


_NAME = Column("Name", "string", _NAME_DOC, format="name")
_AGE = Column("Age", "string", _CREATION_TIMESTAMP_DOC)
_CONTAINERS = Column("Containers", "string", _CONTAINERS_DOC, priority=1)
_IMAGES = Column("Images", "string", _IMAGES_DOC, priority=1)

POD_COLUMNS = (
    _NAME,
    Column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", "string", "The aggregate status of the containers in this pod."),
    Column("Restarts", "string", "The number of times the containers in this pod have been restarted and when "
                                 "the last container in this pod has restarted."),
    _AGE,
    Column("IP", "string", "podIP address allocated to the pod. Routable at least within the cluster. Empty if "
                           "not yet allocated.", priority=1),
    Column("Node", "string", "NodeName indicates in which node this pod is scheduled. If empty, this pod is a "
                             "candidate for scheduling by the scheduler defined in schedulerName. Once this field is "
                             "set, the kubelet for this node becomes responsible for the lifecycle of this pod. This "
                             "field should not be used to express a desire for the pod to be scheduled on a specific "
                             "node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
           priority=1),
    Column("Nominated Node", "string", "nominatedNodeName is set only when this pod preempts other pods on the node, "
                                       "but it cannot be scheduled right away as preemption victims receive their "
                                       "graceful termination periods. This field does not guarantee that the pod "
                                       "will be scheduled on this node. Scheduler may decide to place the pod "
                                       "elsewhere if other nodes become available sooner. Scheduler may also decide "
                                       "to give the resources on this node to a higher priority pod that is created "
                                       "after preemption. As a result, this field may be different than "
                                       "PodSpec.nodeName when the pod is scheduled.", priority=1),
    Column("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness. A "
                                        "pod is ready when all its containers are ready AND all conditions specified "
                                        "in the readiness gates have status equal to \"True\" More info: "
                                        "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
           priority=1),
)

NODE_COLUMNS = (
    _NAME,
    Column("Status", "string", "The status of the node"),
    Column("Roles", "string", "The roles of the node"),
    _AGE,
    Column("Version", "string", "Kubelet Version reported by the node."),
    Column("Internal-IP", "string", _NODE_ADDRESSES_DOC, priority=1),
    Column("External-IP", "string", _NODE_ADDRESSES_DOC, priority=1),
    Column("OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 "
                                 "(wheezy)).", priority=1),
    Column("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. "
                                       "3.16.0-0.bpo.4-amd64).", priority=1),
    Column("Container-Runtime", "string", "ContainerRuntime Version reported by the node through runtime remote API "
                                          "(e.g. containerd://1.4.2).", priority=1),
)

JOB_COLUMNS = (
    _NAME,
    Column("Status", "string", "Status of the job."),
    Column("Completions", "string", "The number of pods which reached phase Succeeded. The value increases "
                                    "monotonically for a given spec. However, it may decrease in reaction to scale "
                                    "down of elastic indexed jobs."),
    Column("Duration", "string", "Time required to complete the job."),
    _AGE,
    _CONTAINERS,
    _IMAGES,
    Column("Selector", "string", _JOB_SELECTOR_DOC, priority=1),
)

CRONJOB_COLUMNS = (
    _NAME,
    Column("Schedule", "string", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    Column("Timezone", "string", "The time zone name for the given schedule, see "
                                 "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, "
                                 "this will default to the time zone of the kube-controller-manager process. The set "
                                 "of valid time zone names and the time zone offset is loaded from the system-wide "
                                 "time zone database by the API server during CronJob validation and the controller "
                                 "manager during execution. If no system-wide time zone database can be found a "
                                 "bundled version of the database is used instead. If the time zone name becomes "
                                 "invalid during the lifetime of a CronJob or due to a change in host configuration, "
                                 "the controller will stop creating new new Jobs and will create a system event with "
                                 "the reason UnknownTimeZone. More information can be found in "
                                 "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones"),
    Column("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions, it does not "
                                 "apply to already started executions.  Defaults to false."),
    Column("Active", "integer", "A list of pointers to currently running jobs."),
    Column("Last Schedule", "string", "Information when was the last time the job was successfully scheduled."),
    _AGE,
    _CONTAINERS,
    _IMAGES,
    # Upstream reuses JobSpec's selector doc here.
    Column("Selector", "string", _JOB_SELECTOR_DOC, priority=1),
)

DAEMONSET_COLUMNS = (
    _NAME,
    Column("Desired", "integer", "The total number of nodes that should be running the daemon pod (including "
                                 "nodes correctly running the daemon pod)." + _DS_MORE_INFO),
    Column("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are supposed to "
                                 "run the daemon pod." + _DS_MORE_INFO),
    Column("Ready", "integer", "numberReady is the number of nodes that should be running the daemon pod and have "
                               "one or more of the daemon pod running with a Ready Condition."),
    Column("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    Column("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more "
                                   "of the daemon pod running and available (ready for at least "
                                   "spec.minReadySeconds)"),
    Column("Node Selector", "string", "NodeSelector is a selector which must be true for the pod to fit on a node. "
                                      "Selector which must match a node's labels for the pod to be scheduled on that "
                                      "node. More info: https://kubernetes.io/docs/concepts/configuration/"
                                      "assign-pod-node/"),
    _AGE,
    _CONTAINERS,
    _IMAGES,
    # printers.go documents this column with the frozen extensions/v1beta1 DaemonSetSpec text.
    Column("Selector", "string", "A label query over pods that are managed by the daemon set. Must match in order "
                                 "to be controlled. If empty, defaulted to labels on Pod template."
                                 + _SELECTOR_MORE_INFO, priority=1),
)

EVENT_COLUMNS = (
    Column("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
    Column("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future"),
    Column("Reason", "string", "This should be a short, machine understandable string that gives the reason for "
                               "the transition into the object's current status."),
    Column("Object", "string", "The object that this event is about."),
    Column("Subobject", "string", "If referring to a piece of an object instead of an entire object, this string "
                                  "should contain a valid JSON/Go field access statement, such as "
                                  "desiredState.manifest.containers[2]. For example, if the object reference is to "
                                  "a container within a pod, this would take on a value like: "
                                  "\"spec.containers{name}\" (where \"name\" refers to the name of the container "
                                  "that triggered the event) or if no container name is specified "
                                  "\"spec.containers[2]\" (container with index 2 in this pod). This syntax is "
                                  "chosen only to have some well-defined way of referencing a part of an object.",
           priority=1),
    Column("Source", "string", "The component reporting this event. Should be a short machine understandable "
                               "string.", priority=1),
    Column("Message", "string", "A human-readable description of the status of this operation."),
    Column("First Seen", "string", "The time at which the event was first recorded. (Time of server receipt is in "
                                   "TypeMeta.)", priority=1),
    Column("Count", "string", "The number of times this event has occurred.", priority=1),
    Column("Name", "string", _NAME_DOC, format="name", priority=1),
)

CONTROLLER_REVISION_COLUMNS = (
    _NAME,
    Column("Controller", "string", "Controller of the object"),
    Column("Revision", "string", "Revision indicates the revision of the state represented by Data."),
    _AGE,
)

NAMESPACE_COLUMNS = (
    _NAME,
    Column("Status", "string", "The status of the namespace"),
    _AGE,
)

LEASE_COLUMNS = (
    _NAME,
    Column("Holder", "string", "holderIdentity contains the identity of the holder of a current lease. If "
                               "Coordinated Leader Election is used, the holder identity must be equal to the "
                               "elected LeaseCandidate.metadata.name field."),
    _AGE,
)

RESOURCE_QUOTA_COLUMNS = (
    _NAME,
    _AGE,
    Column("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
    Column("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent "
                              "of contention on the node."),
)

#: ``rest.NewDefaultTableConvertor``: what a real server returns for a kind without a printer.
DEFAULT_COLUMNS = (
    _NAME,
    Column("Created At", "date", _CREATION_TIMESTAMP_DOC),
)


# --- small helpers shared by the printers -------------------------------------------------------------------

_GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=timezone.utc)

def _timestamp(value: Any) -> datetime | None:
    """A ``metav1.Time``/``MicroTime`` field as an aware datetime; None when unset or Go's zero time."""
    if not value:
        return None
    moment = value if isinstance(value, datetime) else parse_rfc3339(value)
    return None if moment == _GO_ZERO_TIME else moment


def translate_timestamp_since(value: Any, now: datetime) -> str:
    """``translateTimestampSince``: ``HumanDuration(now - t)``, ``<unknown>`` for an unset time."""
    moment = _timestamp(value)
    if moment is None:
        return "<unknown>"
    return human_duration(now - moment)


def _age(obj: Mapping, now: datetime) -> str:
    return translate_timestamp_since((obj.get("metadata") or {}).get("creationTimestamp"), now)


def _name(obj: Mapping) -> str:
    return (obj.get("metadata") or {}).get("name") or ""


def layout_container_cells(containers: list | None) -> tuple[str, str]:
    """``layoutContainerCells``: comma-joined container names and images."""
    containers = containers or []
    return ",".join(c.get("name") or "" for c in containers), ",".join(c.get("image") or "" for c in containers)


def _template_spec(obj: Mapping) -> Mapping:
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}


def _has_condition(conditions: list | None, condition_type: str) -> bool:
    """``hasJobCondition``: the *first* condition of that type decides."""
    for condition in conditions or []:
        if condition.get("type") == condition_type:
            return condition.get("status") == "True"
    return False


def _print_bool_ptr(value: Any) -> str:
    """``printBoolPtr``: ``True``/``False``, ``<unset>`` for nil."""
    if value is None:
        return "<unset>"
    return "True" if value else "False"


# --- the printers (one per kind, named after printers.go) ---------------------------------------------------

def print_pod(pod: Mapping, now: datetime) -> list:
    """``printPod`` with ``Wide: true``: NAME READY STATUS RESTARTS AGE IP NODE NOMINATED-NODE READINESS-GATES."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    # The internal type keeps only podIPs; v1->internal conversion makes status.podIP authoritative.
    pod_ip = status.get("podIP") or ""
    if not pod_ip and status.get("podIPs"):
        pod_ip = (status["podIPs"][0] or {}).get("ip") or ""
    readiness_gates = "<none>"
    gates = spec.get("readinessGates") or []
    if gates:
        true_conditions = 0
        for gate in gates:
            for condition in status.get("conditions") or []:
                if condition.get("type") == gate.get("conditionType"):
                    if condition.get("status") == "True":
                        true_conditions += 1
                    break
        readiness_gates = f"{true_conditions}/{len(gates)}"
    return [
        _name(pod),
        pod_ready_text(pod),
        pod_status_text(pod),
        pod_restarts_text(pod, now),
        _age(pod, now),
        pod_ip or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        readiness_gates,
    ]


_POD_SUCCEEDED_CONDITIONS = [{"type": "Completed", "status": "True", "reason": "Succeeded",
                              "message": "The pod has completed successfully."}]
_POD_FAILED_CONDITIONS = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]


def pod_row_conditions(pod: Mapping) -> list | None:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return copy.deepcopy(_POD_SUCCEEDED_CONDITIONS)
    if phase == "Failed":
        return copy.deepcopy(_POD_FAILED_CONDITIONS)
    return None


LABEL_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
NODE_LABEL_ROLE = "kubernetes.io/role"


def find_node_roles(node: Mapping) -> list[str]:
    """``findNodeRoles``: ``node-role.kubernetes.io/<role>`` keys and ``kubernetes.io/role=<role>``, sorted."""
    roles: set[str] = set()
    for key, value in ((node.get("metadata") or {}).get("labels") or {}).items():
        if key.startswith(LABEL_NODE_ROLE_PREFIX):
            role = key[len(LABEL_NODE_ROLE_PREFIX):]
            if role:
                roles.add(role)
        elif key == NODE_LABEL_ROLE and value:
            roles.add(value)
    return sorted(roles)


def _node_address(node: Mapping, address_type: str) -> str:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == address_type:
            return address.get("address") or ""
    return "<none>"


def print_node(node: Mapping, now: datetime) -> list:
    """``printNode``: STATUS from the Ready condition only, then ``SchedulingDisabled`` when cordoned."""
    status: list[str] = []
    ready = None
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            ready = condition  # a map keyed by type: the last one wins
    if ready is not None:
        status.append("Ready" if ready.get("status") == "True" else "NotReady")
    if not status:
        status.append("Unknown")
    if (node.get("spec") or {}).get("unschedulable"):
        status.append("SchedulingDisabled")
    info = (node.get("status") or {}).get("nodeInfo") or {}
    return [
        _name(node),
        ",".join(status),
        ",".join(find_node_roles(node)) or "<none>",
        _age(node, now),
        info.get("kubeletVersion") or "",
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def job_status_text(job: Mapping) -> str:
    """printJob's STATUS: the first of Complete, Failed, Terminating, Suspended, FailureTarget, else Running."""
    conditions = (job.get("status") or {}).get("conditions")
    if _has_condition(conditions, "Complete"):
        return "Complete"
    if _has_condition(conditions, "Failed"):
        return "Failed"
    if (job.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    if _has_condition(conditions, "Suspended"):
        return "Suspended"
    if _has_condition(conditions, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def job_completions_text(job: Mapping) -> str:
    """printJob's COMPLETIONS: ``3/5``; with no completions ``0/1 of 3`` (parallelism > 1) or ``0/1``."""
    spec = job.get("spec") or {}
    succeeded = int((job.get("status") or {}).get("succeeded") or 0)
    if spec.get("completions") is not None:
        return f"{succeeded}/{int(spec['completions'])}"
    parallelism = int(spec.get("parallelism") or 0)
    if parallelism > 1:
        return f"{succeeded}/1 of {parallelism}"
    return f"{succeeded}/1"


def job_duration_text(job: Mapping, now: datetime) -> str:
    """printJob's DURATION: empty before start; counts up until completionTime (failed Jobs never stop)."""
    status = job.get("status") or {}
    start = _timestamp(status.get("startTime"))
    if start is None:
        return ""
    completion = _timestamp(status.get("completionTime"))
    if completion is None:
        return human_duration(now - start)
    return human_duration(completion - start)


def print_job(job: Mapping, now: datetime) -> list:
    """``printJob``: NAME STATUS COMPLETIONS DURATION AGE CONTAINERS IMAGES SELECTOR."""
    names, images = layout_container_cells(_template_spec(job).get("containers"))
    return [
        _name(job),
        job_status_text(job),
        job_completions_text(job),
        job_duration_text(job, now),
        _age(job, now),
        names,
        images,
        format_label_selector((job.get("spec") or {}).get("selector")),
    ]


def print_cronjob(cronjob: Mapping, now: datetime) -> list:
    """``printCronJob``: NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST-SCHEDULE AGE CONTAINERS IMAGES SELECTOR."""
    spec = cronjob.get("spec") or {}
    status = cronjob.get("status") or {}
    last_schedule = "<none>"
    if status.get("lastScheduleTime") is not None:
        last_schedule = translate_timestamp_since(status["lastScheduleTime"], now)
    timezone_name = spec["timeZone"] if spec.get("timeZone") is not None else "<none>"
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    names, images = layout_container_cells(((job_spec.get("template") or {}).get("spec") or {}).get("containers"))
    return [
        _name(cronjob),
        spec.get("schedule") or "",
        timezone_name,
        _print_bool_ptr(spec.get("suspend")),
        len(status.get("active") or []),
        last_schedule,
        _age(cronjob, now),
        names,
        images,
        format_label_selector(job_spec.get("selector")),
    ]


def print_daemonset(daemonset: Mapping, now: datetime) -> list:
    """``printDaemonSet``: the five status counts (integers), NODE SELECTOR, AGE, then the wide columns."""
    status = daemonset.get("status") or {}
    template_spec = _template_spec(daemonset)
    names, images = layout_container_cells(template_spec.get("containers"))
    return [
        _name(daemonset),
        int(status.get("desiredNumberScheduled") or 0),
        int(status.get("currentNumberScheduled") or 0),
        int(status.get("numberReady") or 0),
        int(status.get("updatedNumberScheduled") or 0),
        int(status.get("numberAvailable") or 0),
        format_labels(template_spec.get("nodeSelector")),
        _age(daemonset, now),
        names,
        images,
        format_label_selector((daemonset.get("spec") or {}).get("selector")),
    ]


def format_event_source(event: Mapping) -> str:
    """``formatEventSource``: ``component, host``; falls back to reportingController / reportingInstance."""
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingController") or ""
    host = source.get("host") or event.get("reportingInstance") or ""
    return f"{component}, {host}" if host else component


def print_event(event: Mapping, now: datetime) -> list:
    """``printEvent``: LAST SEEN, TYPE, REASON, OBJECT, SUBOBJECT, SOURCE, MESSAGE, FIRST SEEN, COUNT, NAME.

    First seen falls back to ``eventTime``; last seen to first seen; a ``series`` overrides last seen and count;
    a count of 0 (events.k8s.io singletons) prints as 1.
    """
    if _timestamp(event.get("firstTimestamp")) is not None:
        first_seen = translate_timestamp_since(event["firstTimestamp"], now)
    else:
        first_seen = translate_timestamp_since(event.get("eventTime"), now)
    if _timestamp(event.get("lastTimestamp")) is not None:
        last_seen = translate_timestamp_since(event["lastTimestamp"], now)
    else:
        last_seen = first_seen
    count = int(event.get("count") or 0)
    series = event.get("series")
    if series is not None:
        last_seen = translate_timestamp_since(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1
    involved = event.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return [
        last_seen,
        event.get("type") or "",
        event.get("reason") or "",
        target,
        involved.get("fieldPath") or "",
        format_event_source(event),
        (event.get("message") or "").strip(),
        first_seen,
        count,
        _name(event),
    ]


def _controller_of(obj: Mapping) -> Mapping | None:
    """``metav1.GetControllerOf``: the first ownerReference with ``controller: true``."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def print_controller_revision(revision: Mapping, now: datetime) -> list:
    """``printControllerRevision``: CONTROLLER is ``<kind>.<group>/<name>`` lower-cased (``daemonset.apps/agent``)."""
    controller = "<none>"
    ref = _controller_of(revision)
    if ref is not None:
        api_version = ref.get("apiVersion") or ""
        parts = api_version.split("/")
        if len(parts) > 2:
            # schema.ParseGroupVersion fails, and so does the whole request upstream.
            raise ValueError(f"unexpected GroupVersion string: {api_version}")
        group = parts[0] if len(parts) == 2 else ""
        kind = ref.get("kind") or ""
        group_kind = f"{kind}.{group}" if group else kind
        controller = f"{group_kind.lower()}/{ref.get('name') or ''}" if (kind or group) else ref.get("name") or ""
    return [_name(revision), controller, int(revision.get("revision") or 0), _age(revision, now)]


def print_namespace(namespace: Mapping, now: datetime) -> list:
    """``printNamespace``: NAME STATUS (``status.phase``) AGE."""
    return [_name(namespace), (namespace.get("status") or {}).get("phase") or "", _age(namespace, now)]


def print_lease(lease: Mapping, now: datetime) -> list:
    """``printLease``: NAME HOLDER (``spec.holderIdentity``, empty if unset) AGE."""
    return [_name(lease), (lease.get("spec") or {}).get("holderIdentity") or "", _age(lease, now)]


def print_resource_quota(quota: Mapping, now: datetime) -> list:
    """``printResourceQuota``: NAME AGE REQUEST LIMIT. Each resource of ``status.hard``, in name order, as
    ``<name>: <used>/<hard>``: those named ``limits.*`` in LIMIT, the others in REQUEST (a quota the controller
    has not synced yet shows nothing)."""
    status = quota.get("status") or {}
    hard, used = status.get("hard") or {}, status.get("used") or {}
    request, limit = [], []
    for name in sorted(hard):
        column = limit if name.split(".")[0] == "limits" and "." in name else request
        column.append(f"{name}: {_quantity_text(used.get(name))}/{_quantity_text(hard.get(name))}")
    return [_name(quota), _age(quota, now), ", ".join(request), ", ".join(limit)]


def _quantity_text(value: Any) -> str:
    """``Quantity.String()`` of a stored quantity (already canonical); a missing one is the zero Quantity, ``0``."""
    return "0" if value is None else str(value)


def _format_rfc3339_go(value: Any) -> str:
    """``time.Time.UTC().Format(time.RFC3339)`` of a metav1.Time, Go's zero time when unset."""
    return format_rfc3339(parse_rfc3339(value) if value else _GO_ZERO_TIME)


def print_default(obj: Mapping, now: datetime) -> list:
    """``rest.DefaultTableConvertor``: NAME and ``Created At`` as an RFC 3339 timestamp (not an age)."""
    return [_name(obj), _format_rfc3339_go((obj.get("metadata") or {}).get("creationTimestamp"))]


def _row_object(obj: Mapping, include_object: str, api_version: str) -> dict | None:
    """``asTable``'s per-row object: PartialObjectMetadata, the object itself, or nothing."""
    if include_object == INCLUDE_NONE:
        return None
    if include_object == INCLUDE_OBJECT:
        return copy.deepcopy(dict(obj))
    return {"kind": "PartialObjectMetadata", "apiVersion": api_version,
            "metadata": copy.deepcopy(obj.get("metadata") or {})}


@dataclass(frozen=True)
class Printer:
    """A kind's table convertor: its columns, the cells of one object, and (Pods) the row's conditions.

    ``kinds.py`` names each kind's printer, as upstream's ``AddHandlers`` does; a kind without one gets
    :data:`DEFAULT_PRINTER`.
    """

    columns: tuple[Column, ...]
    cells: Callable[[Mapping, datetime], list]
    conditions: Callable[[Mapping], list | None] | None = None

    def column_definitions(self) -> list[dict]:
        """The ``columnDefinitions`` a 1.32 server sends (all of them, wide included)."""
        return [column.as_dict() for column in self.columns]

    def table(self, objects: list[dict], now: datetime, *, include_object: str = INCLUDE_METADATA,
              resource_version: str = "", api_version: str = "") -> dict:
        """The ``Table`` a 1.32 API server returns for ``objects`` at simulated time ``now``.

        Rows carry every cell, wide ones included (the server prints with ``Wide: true``), in ``objects`` order.
        ``include_object`` is ``Metadata`` (default, also ``""``), ``Object`` or ``None``; anything else raises
        ``ValueError`` with the 400 message. ``api_version`` is ``meta.k8s.io/v1`` (default) or ``.../v1beta1``,
        the version content negotiation picked; PartialObjectMetadata rows use the same. ``resource_version``
        becomes ``metadata.resourceVersion`` (omitted when empty, as ``omitempty`` does).
        """
        policy = include_object_param(include_object)
        api_version = api_version or TABLE_API_VERSION
        rows = []
        for obj in objects:
            row: dict[str, Any] = {"cells": self.cells(obj, now)}
            conditions = self.conditions(obj) if self.conditions else None
            if conditions:
                row["conditions"] = conditions
            row_object = _row_object(obj, policy, api_version)
            if row_object is not None:
                row["object"] = row_object
            rows.append(row)
        metadata = {"resourceVersion": resource_version} if resource_version else {}
        return {
            "kind": "Table",
            "apiVersion": api_version,
            "metadata": metadata,
            "columnDefinitions": self.column_definitions(),
            "rows": rows,
        }


#: ``rest.DefaultTableConvertor``, for kinds without a printer of their own.
DEFAULT_PRINTER = Printer(DEFAULT_COLUMNS, print_default)


# --- request side: Accept and includeObject -----------------------------------------------------------------

def _parse_accept(accept_header: str) -> list[tuple[str, dict[str, str]]]:
    """Media ranges in preference order (q descending, stable), without q=0 ones."""
    clauses = []
    for index, part in enumerate((accept_header or "").split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media_type = pieces[0].lower()
        if not media_type:
            continue
        params: dict[str, str] = {}
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 1.0
        if q > 0:
            clauses.append((-q, index, media_type, params))
    clauses.sort()
    return [(media_type, params) for _, _, media_type, params in clauses]


_PLAIN_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf",
                "application/*", "*/*")


def negotiate_table_version(accept_header: str) -> str | None:
    """The Table apiVersion content negotiation picks for ``accept_header``, or None for a plain object.

    The first acceptable media range wins, as in the apiserver's ``NegotiateOutputMediaType``: a Table range
    needs ``as=Table;g=meta.k8s.io;v=v1|v1beta1`` on ``application/json`` (others are skipped, like the 406
    cases upstream); a range without ``as`` selects the plain object.
    """
    for media_type, params in _parse_accept(accept_header):
        target = params.get("as")
        if target is None:
            if media_type in _PLAIN_TYPES:
                return None
            continue
        if (target == "Table" and media_type == "application/json" and params.get("g") == _TABLE_GROUP
                and params.get("v") in _TABLE_VERSIONS):
            return f"{_TABLE_GROUP}/{params['v']}"
    return None


def accepts_table(accept_header: str) -> bool:
    """True when kubectl's Accept asks for a Table (``application/json;as=Table;v=v1;g=meta.k8s.io,...``)."""
    return negotiate_table_version(accept_header) is not None


def include_object_param(query_value: str | None) -> str:
    """Validate ``?includeObject=``: ``None``/``Metadata``/``Object``; absent or empty means ``Metadata``.

    Anything else raises ``ValueError`` whose text is the real 400 Status message.
    """
    if query_value is None or query_value == "":
        return INCLUDE_METADATA
    if query_value in _INCLUDE_POLICIES:
        return query_value
    shown = json.dumps(query_value, ensure_ascii=False)
    raise ValueError(
        f"Unable to convert to Table as requested: includeObject: Invalid value: {shown}: "
        "must be 'Metadata', 'Object', 'None', or empty"
    )


# --- kubectl's side: printing a Table -----------------------------------------------------------------------

# cli-runtime printers/tabwriter.go: tabwriter.NewWriter(out, 6, 4, 3, ' ', tabwriter.RememberWidths).
TABWRITER_MIN_WIDTH = 6
TABWRITER_PADDING = 3

_ESCAPES = str.maketrans({"\x1b": "^[", "\r": "\\r"})  # printers.WriteEscaped


def _cell_text(cell: Any) -> str:
    """How ``printTable`` writes one cell: strings cut at the first line break (then ``...``), else fmt.Sprint."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        cut = min((i for i in (cell.find("\f"), cell.find("\n"), cell.find("\r")) if i >= 0), default=-1)
        if cut >= 0:
            return cell[:cut].translate(_ESCAPES) + "..."
        return cell.translate(_ESCAPES)
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return str(cell).translate(_ESCAPES)


def _tabwrite(text: str, minwidth: int = TABWRITER_MIN_WIDTH, padding: int = TABWRITER_PADDING) -> str:
    """Go's ``text/tabwriter`` (left-aligned, blank padding) over ``text``.

    A cell is text terminated by a tab; the last cell of a line is not part of any column, so it is never padded.
    A column block is a run of consecutive lines that have a cell in that column; its width is the widest cell
    plus ``padding``, but at least ``minwidth``.
    """
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []

    def write_lines(line0: int, line1: int, widths: list[int]) -> None:
        for i in range(line0, line1):
            line = lines[i]
            parts = []
            for j, cell in enumerate(line):
                parts.append(cell)
                if j < len(widths):
                    parts.append(" " * (widths[j] - len(cell)))
            out.append("".join(parts))

    def format_block(line0: int, line1: int, widths: list[int]) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this, widths)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            format_block(line0, this, widths + [width])
            line0 = this
        write_lines(line0, line1, widths)

    format_block(0, len(lines), [])
    return "\n".join(out)


def render_text(table: Mapping, *, wide: bool = False, show_kind: str | None = None, no_headers: bool = False,
                with_namespace: bool = False) -> str:
    """Print ``table`` exactly as ``kubectl get`` does (headers upper-cased, tabwriter-aligned, ``\\n``-ended).

    ``wide`` shows priority-1 columns (``-o wide``); ``with_namespace`` prepends NAMESPACE from each row's
    object metadata (``-A``); ``show_kind`` (``job.batch``, ``pod``) prefixes the first name-format column as
    ``kubectl get all`` does (``job.batch/pi``). A table without rows prints nothing, headers included.
    """
    columns = [dict(c) for c in table.get("columnDefinitions") or []]
    rows = [list(row.get("cells") or []) for row in table.get("rows") or []]
    objects = [row.get("object") for row in table.get("rows") or []]

    # decorateTable: the kind prefix, then the namespace column.
    if show_kind:
        for index, column in enumerate(columns):
            if column.get("format") == "name" and column.get("type") == "string":
                for cells in rows:
                    if index < len(cells):
                        cells[index] = f"{show_kind.lower()}/{_cell_text(cells[index])}"
                break
    if with_namespace:
        columns.insert(0, {"name": "Namespace", "type": "string", "format": "", "description": "", "priority": 0})
        for cells, obj in zip(rows, objects):
            namespace = ((obj or {}).get("metadata") or {}).get("namespace") if obj else None
            cells.insert(0, namespace)

    lines = []
    if not no_headers:
        if not rows:
            return ""
        lines.append("\t".join(str(c.get("name") or "").upper() for c in columns
                               if wide or not c.get("priority")))
    for cells in rows:
        shown = []
        for index, cell in enumerate(cells):
            if index >= len(columns):
                break  # more cells than columns: kubectl stops (issue 66379)
            if not wide and columns[index].get("priority"):
                continue
            shown.append(_cell_text(cell))
        lines.append("\t".join(shown))
    return _tabwrite("".join(line + "\n" for line in lines))
