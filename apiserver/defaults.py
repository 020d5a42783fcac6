"""Server-side defaulting, admission and registry-strategy hooks, as Kubernetes 1.32 does them.

What a learner sees in ``kubectl get job pi -o yaml`` is mostly written by the
API server, not by them: ``backoffLimit: 6``, ``dnsPolicy: ClusterFirst``, the
generated selector and labels, ``generation: 1``. This module holds each kind's
part of that; ``kinds.py`` names which function serves which kind and runs them
in the order the real server does on a create:

1. the ``set_defaults_*`` functions - the ``SetDefaults_*`` functions of
   ``pkg/apis/{core,batch,apps}/v1/defaults.go`` (plus the generated
   ``+default`` markers such as container port ``protocol: TCP``). They also
   run every time a stored object is read back, so they must be idempotent.
2. :func:`admit_pod` - the mutating admission plugins that touch Pods
   (ServiceAccount, Priority, DefaultTolerationSeconds); :func:`admit_node` - the
   one that touches a Node being created (TaintNodesByCondition).
3. the ``prepare_*_for_create`` / ``prepare_*_for_update`` hooks - the registry
   strategies (``pkg/registry/*/strategy.go``): selector generation for Jobs,
   the DaemonSet template-generation annotation, Pod status on creation. The
   steps every kind shares (uid, ``metadata.generation``, status/spec separation
   on updates) are ``kinds.prepare_for_create`` / ``kinds.prepare_for_update``.

Validation (``validation.py``) runs after all of these. The ``set_defaults_*``
and ``prepare_*`` hooks change the object they are given (the registry copies
each body once, then works on it); :func:`admit_pod` and :func:`admit_node`
return a new dict unless told ``in_place``. Pure Python, no Django.
"""

from __future__ import annotations

from controllers.apimachinery.objcopy import deep_copy
from apiserver.schema import QuantityError, parse_quantity

# Label and annotation keys written by the server.
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
DAEMONSET_TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

DEFAULT_SCHEDULER_NAME = "default-scheduler"
DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30
TERMINATION_MESSAGE_PATH_DEFAULT = "/dev/termination-log"
VOLUME_SOURCE_DEFAULT_MODE = 420  # 0644, for secret/configMap/downwardAPI/projected volumes
MAX_INT32 = 2**31 - 1

# Admission defaults (plugin/pkg/admission/...).
DEFAULT_SERVICE_ACCOUNT_NAME = "default"
DEFAULT_TOLERATION_SECONDS = 300
TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable"

# Pod QoS classes (pkg/apis/core/helper/qos).
QOS_GUARANTEED = "Guaranteed"
QOS_BURSTABLE = "Burstable"
QOS_BEST_EFFORT = "BestEffort"


# ---------------------------------------------------------------------------
# 1. Defaulting
# ---------------------------------------------------------------------------


def _set(d: dict, key: str, value) -> None:
    """Set ``d[key]`` unless a value is already there (``nil``/empty counts as unset)."""
    if d.get(key) in (None, ""):
        d[key] = value


def _dict(d: dict, key: str) -> dict:
    """``d[key]`` as a dict, created when absent or null."""
    value = d.get(key)
    if not isinstance(value, dict):
        value = {}
        d[key] = value
    return value


def set_defaults_job(job: dict) -> None:
    """SetDefaults_Job plus the pod-template defaults the generated defaulter applies."""
    spec = _dict(job, "spec")
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    _set(spec, "parallelism", 1)
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
    template = _dict(spec, "template")
    template_labels = _dict(template, "metadata").get("labels")
    metadata = _dict(job, "metadata")
    if template_labels is not None and not metadata.get("labels"):
        metadata["labels"] = dict(template_labels)
    _set(spec, "completionMode", "NonIndexed")
    _set(spec, "suspend", False)
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if spec.get("podFailurePolicy") is not None else "TerminatingOrFailed"
    # Added by kubernetes PR #120206 (1.29): manualSelector is defaulted, not left unset.
    _set(spec, "manualSelector", False)
    _default_pod_failure_policy(spec)
    _default_pod_template(template)


def _default_pod_failure_policy(job_spec: dict) -> None:
    policy = job_spec.get("podFailurePolicy")
    if not isinstance(policy, dict):
        return
    for rule in policy.get("rules") or []:
        for pattern in (rule or {}).get("onPodConditions") or []:
            if isinstance(pattern, dict):
                _set(pattern, "status", "True")


def set_defaults_cron_job(cron_job: dict) -> None:
    """SetDefaults_CronJob; the job template gets pod defaults only, not SetDefaults_Job."""
    spec = _dict(cron_job, "spec")
    _set(spec, "concurrencyPolicy", "Allow")
    _set(spec, "suspend", False)
    _set(spec, "successfulJobsHistoryLimit", 3)
    _set(spec, "failedJobsHistoryLimit", 1)
    job_template = _dict(spec, "jobTemplate")
    _template_metadata(job_template)
    job_spec = _dict(job_template, "spec")
    _default_pod_failure_policy(job_spec)
    _default_pod_template(_dict(job_spec, "template"))


def set_defaults_daemon_set(daemon_set: dict) -> None:
    """SetDefaults_DaemonSet (apps/v1)."""
    spec = _dict(daemon_set, "spec")
    strategy = _dict(spec, "updateStrategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = 1
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = 0
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    _default_pod_template(_dict(spec, "template"))


def set_defaults_pod(pod: dict) -> None:
    """SetDefaults_Pod + SetDefaults_PodSpec; the Pod-only parts are marked."""
    spec = _dict(pod, "spec")
    # Pod only: requests default to limits, so `limits` alone gives Guaranteed QoS.
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            resources = (container or {}).get("resources") or {}
            limits = resources.get("limits")
            if limits:
                requests = resources.setdefault("requests", {}) or {}
                resources["requests"] = requests
                for name, value in limits.items():
                    requests.setdefault(name, value)
    _set(spec, "enableServiceLinks", True)
    # Pod only (conversion since 1.27): negative grace periods are treated as 1.
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and not isinstance(grace, bool) and grace < 0:
        spec["terminationGracePeriodSeconds"] = 1
    if spec.get("hostNetwork"):
        for key in ("containers", "initContainers"):
            for container in spec.get(key) or []:
                for port in (container or {}).get("ports") or []:
                    if isinstance(port, dict) and not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")
    set_defaults_pod_spec(spec)


def set_defaults_node(node: dict) -> None:
    """SetDefaults_NodeStatus: allocatable defaults to capacity."""
    status = node.get("status")
    if isinstance(status, dict) and status.get("allocatable") is None and status.get("capacity") is not None:
        status["allocatable"] = dict(status["capacity"])
    if isinstance(status, dict):
        for key in ("capacity", "allocatable"):
            if isinstance(status.get(key), dict):
                status[key] = _canonical_resource_list(status[key], round_milli=False)


def set_defaults_namespace(namespace: dict) -> None:
    """SetDefaults_Namespace (name label) and SetDefaults_NamespaceStatus (phase Active)."""
    metadata = _dict(namespace, "metadata")
    if metadata.get("name"):
        labels = _dict(metadata, "labels")
        labels[NAMESPACE_NAME_LABEL] = metadata["name"]
    _set(_dict(namespace, "status"), "phase", "Active")


def set_defaults_resource_quota(quota: dict) -> None:
    """SetObjectDefaults_ResourceQuota: SetDefaults_ResourceList on ``spec.hard``, ``status.hard`` and
    ``status.used`` (rounded up to milli units, stored in canonical form: ``1024Mi`` is ``1Gi``)."""
    for part, keys in (("spec", ("hard",)), ("status", ("hard", "used"))):
        section = quota.get(part)
        if isinstance(section, dict):
            for key in keys:
                if isinstance(section.get(key), dict):
                    section[key] = _canonical_resource_list(section[key])


def _template_metadata(template: dict) -> dict:
    # A zero metav1.Time serialises as null: real servers return `creationTimestamp: null` here.
    metadata = _dict(template, "metadata")
    metadata.setdefault("creationTimestamp", None)
    return metadata


def _default_pod_template(template: dict) -> None:
    _template_metadata(template)
    set_defaults_pod_spec(_dict(template, "spec"))


def set_defaults_pod_spec(spec: dict) -> None:
    """SetDefaults_PodSpec and the defaults of everything nested in a PodSpec."""
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "restartPolicy", "Always")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS
    _set(spec, "schedulerName", DEFAULT_SCHEDULER_NAME)
    # v1 conversion keeps the deprecated serviceAccount field in step with serviceAccountName.
    if not spec.get("serviceAccountName") and spec.get("serviceAccount"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    if spec.get("serviceAccountName"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                set_defaults_container(container)
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            set_defaults_volume(volume)
    if isinstance(spec.get("overhead"), dict):
        spec["overhead"] = _canonical_resource_list(spec["overhead"])


def image_pull_policy_default(image: str | None) -> str:
    """``Always`` for ``:latest`` or untagged images, else ``IfNotPresent`` (parsers.ParseImageName)."""
    image = image or ""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2] if ":" in last else ""
    if not tag and not digest:
        tag = "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def set_defaults_container(container: dict) -> None:
    """SetDefaults_Container plus ports, probes, lifecycle handlers and env defaults."""
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = image_pull_policy_default(container.get("image"))
    _set(container, "terminationMessagePath", TERMINATION_MESSAGE_PATH_DEFAULT)
    _set(container, "terminationMessagePolicy", "File")
    # ResourceRequirements is a struct, not a pointer: it is always serialised, as {}.
    resources = _dict(container, "resources")
    for key in ("limits", "requests"):
        if isinstance(resources.get(key), dict):
            resources[key] = _canonical_resource_list(resources[key])
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            _set(port, "protocol", "TCP")
    for probe_key in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_key)
        if isinstance(probe, dict):
            set_defaults_probe(probe)
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        for hook in ("postStart", "preStop"):
            handler = lifecycle.get(hook)
            if isinstance(handler, dict) and isinstance(handler.get("httpGet"), dict):
                _default_http_get(handler["httpGet"])
    for env in container.get("env") or []:
        field_ref = ((env or {}).get("valueFrom") or {}).get("fieldRef")
        if isinstance(field_ref, dict):
            _set(field_ref, "apiVersion", "v1")


def set_defaults_probe(probe: dict) -> None:
    """SetDefaults_Probe: timeout 1, period 10, success 1, failure 3 (zero counts as unset)."""
    for key, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)):
        if not probe.get(key):
            probe[key] = value
    if isinstance(probe.get("httpGet"), dict):
        _default_http_get(probe["httpGet"])
    grpc = probe.get("grpc")
    if isinstance(grpc, dict) and grpc.get("service") is None:
        grpc["service"] = ""


def _default_http_get(action: dict) -> None:
    _set(action, "path", "/")
    _set(action, "scheme", "HTTP")


_VOLUME_SOURCES = (
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi",
    "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc",
    "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected",
    "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image",
)


def set_defaults_volume(volume: dict) -> None:
    """SetDefaults_Volume (no source -> emptyDir) and the per-source defaults."""
    if not any(volume.get(source) is not None for source in _VOLUME_SOURCES):
        volume["emptyDir"] = {}
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict) and host_path.get("type") is None:
        host_path["type"] = ""
    for source in ("secret", "configMap", "downwardAPI", "projected"):
        value = volume.get(source)
        if isinstance(value, dict) and value.get("defaultMode") is None:
            value["defaultMode"] = VOLUME_SOURCE_DEFAULT_MODE
    for item in (volume.get("downwardAPI") or {}).get("items") or []:
        if isinstance((item or {}).get("fieldRef"), dict):
            _set(item["fieldRef"], "apiVersion", "v1")


def _canonical_resource_list(resources: dict, round_milli: bool = True) -> dict:
    """Quantities as the server stores them: rounded up to milli units, canonical text."""
    out = {}
    for name, value in resources.items():
        if value is None or isinstance(value, bool) or not isinstance(value, (str, int, float)):
            out[name] = value
            continue
        text = value.strip() if isinstance(value, str) else _number_text(value)
        try:
            quantity = parse_quantity(text)
        except QuantityError:
            out[name] = value  # schema.structural_errors reports it
            continue
        out[name] = (quantity.round_up_milli() if round_milli else quantity).canonical()
    return out


def _number_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------
# 2. Admission (Pods, and Nodes being created)
# ---------------------------------------------------------------------------


def admit_pod(pod: dict, *, in_place: bool = False) -> dict:
    """The mutating admission plugins a Pod create passes through, on a copy.

    * ServiceAccount: ``serviceAccountName: default`` (and the deprecated
      ``serviceAccount`` mirror) when unset. The real plugin also mounts a
      projected ``kube-api-access-<random>`` token volume; not simulated.
    * Priority: ``priority: 0`` and ``preemptionPolicy: PreemptLowerPriority``
      when no PriorityClass is named (there is no default class).
    * DefaultTolerationSeconds: tolerate ``not-ready`` and ``unreachable``
      NoExecute taints for 300 s unless the pod already tolerates them.

    ``in_place``: change ``pod`` itself rather than a copy.
    """
    out = pod if in_place else deep_copy(pod)
    if out.get("kind") != "Pod":
        return out
    spec = _dict(out, "spec")
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec.get("serviceAccount") or DEFAULT_SERVICE_ACCOUNT_NAME
    spec["serviceAccount"] = spec["serviceAccountName"]
    if not spec.get("priorityClassName") and spec.get("priority") is None:
        spec["priority"] = 0
    _set(spec, "preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.get("tolerations") or []
    for key in (TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE):
        if not any(_tolerates_no_execute(t, key) for t in tolerations):
            tolerations.append(
                {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": DEFAULT_TOLERATION_SECONDS}
            )
    spec["tolerations"] = tolerations
    return out


def admit_node(node: dict, *, in_place: bool = False) -> dict:
    """The TaintNodesByCondition admission plugin (``plugin/pkg/admission/nodetaint``), on a copy: a Node being
    created gets ``node.kubernetes.io/not-ready:NoSchedule`` unless a taint with that key and effect is already
    there, so no pod is placed on it before the node lifecycle controller has seen its conditions (it removes the
    taint once they do not call for it, e.g. when the kubelet reports Ready). Updates are not touched.

    ``in_place``: change ``node`` itself rather than a copy.
    """
    out = node if in_place else deep_copy(node)
    if out.get("kind") != "Node":
        return out
    spec = _dict(out, "spec")
    taints = list(spec.get("taints") or [])
    if not any(isinstance(t, dict) and t.get("key") == TAINT_NODE_NOT_READY and t.get("effect") == "NoSchedule"
               for t in taints):
        taints.append({"key": TAINT_NODE_NOT_READY, "effect": "NoSchedule"})
    spec["taints"] = taints
    return out


def _tolerates_no_execute(toleration, key: str) -> bool:
    toleration = toleration or {}
    return toleration.get("key", "") in ("", key) and toleration.get("effect", "") in ("", "NoExecute")


# ---------------------------------------------------------------------------
# 3. Registry strategies
# ---------------------------------------------------------------------------


def prepare_job_for_create(job: dict) -> None:
    """jobStrategy.PrepareForCreate: status reset, then the generated selector and labels."""
    job["status"] = {}
    spec = _dict(job, "spec")
    metadata = job["metadata"]
    had_labels = bool(metadata.get("labels"))
    if not spec.get("manualSelector"):
        generate_selector(job)
    # Defaulting copied the template labels into the Job (sharing one Go map), so the
    # Job's own labels end up with the generated ones too when it had none of its own.
    template_labels = _dict(_dict(spec, "template"), "metadata").get("labels")
    if template_labels and (not had_labels or metadata.get("labels") == _user_template_labels(job)):
        metadata["labels"] = dict(template_labels)


def prepare_cron_job_for_create(cron_job: dict) -> None:
    """cronJobStrategy.PrepareForCreate: status reset."""
    cron_job["status"] = {}


def prepare_daemon_set_for_create(daemon_set: dict) -> None:
    """daemonSetStrategy.PrepareForCreate: status reset, template generation 1."""
    daemon_set["status"] = {}
    annotations = _dict(_dict(daemon_set, "metadata"), "annotations")
    annotations[DAEMONSET_TEMPLATE_GENERATION_ANNOTATION] = "1"
    # DaemonSetStatus's counters are not omitempty: a fresh status serialises them as zeros.
    daemon_set["status"] = {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                            "numberReady": 0}


def prepare_resource_quota_for_create(quota: dict) -> None:
    """resourcequotaStrategy.PrepareForCreate: status reset (the quota controller fills it in)."""
    quota["status"] = {}


def prepare_namespace_for_create(namespace: dict) -> None:
    """namespaceStrategy.PrepareForCreate: the ``kubernetes`` finalizer, phase Active."""
    spec = _dict(namespace, "spec")
    finalizers = list(spec.get("finalizers") or [])
    if "kubernetes" not in finalizers:
        finalizers.append("kubernetes")
    spec["finalizers"] = finalizers
    namespace["status"] = {"phase": "Active"}


def _user_template_labels(job: dict) -> dict:
    generated = {JOB_NAME_LABEL, CONTROLLER_UID_LABEL, LEGACY_JOB_NAME_LABEL, LEGACY_CONTROLLER_UID_LABEL}
    labels = job["spec"]["template"]["metadata"].get("labels") or {}
    return {k: v for k, v in labels.items() if k not in generated}


def generate_selector(job: dict) -> None:
    """generateSelector (pkg/registry/batch/job/strategy.go), in place.

    Adds the four template labels unless the user set them (a conflicting value
    is rejected by validation) and selects on ``batch.kubernetes.io/controller-uid``.
    """
    metadata = job["metadata"]
    name, uid = metadata.get("name", ""), metadata.get("uid", "")
    template_metadata = _dict(_dict(job["spec"], "template"), "metadata")
    labels = _dict(template_metadata, "labels")
    for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(key, name)
    for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(key, uid)
    selector = _dict(job["spec"], "selector")
    match_labels = _dict(selector, "matchLabels")
    match_labels.setdefault(CONTROLLER_UID_LABEL, uid)


def prepare_pod_for_create(pod: dict) -> None:
    """podStrategy.PrepareForCreate: phase Pending, the QoS class, the scheduling-gated condition."""
    spec = _dict(pod, "spec")
    status = {"phase": "Pending", "qosClass": compute_qos_class(spec)}
    if spec.get("schedulingGates"):
        status["conditions"] = [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "SchedulingGated",
                "message": "Scheduling is blocked due to non-empty scheduling gates",
                "lastProbeTime": None,
                "lastTransitionTime": None,
            }
        ]
    pod["status"] = status


def compute_qos_class(pod_spec: dict) -> str:
    """ComputePodQOS: Guaranteed, Burstable or BestEffort from cpu/memory requests and limits."""
    requests: dict = {}
    limits: dict = {}
    guaranteed = True
    containers = list(pod_spec.get("containers") or []) + list(pod_spec.get("initContainers") or [])
    for container in containers:
        resources = (container or {}).get("resources") or {}
        for name, value in (resources.get("requests") or {}).items():
            quantity = _quantity_or_none(value)
            if name in ("cpu", "memory") and quantity is not None and quantity > 0:
                requests[name] = requests.get(name, 0) + quantity
        found = set()
        for name, value in (resources.get("limits") or {}).items():
            quantity = _quantity_or_none(value)
            if name in ("cpu", "memory") and quantity is not None and quantity > 0:
                found.add(name)
                limits[name] = limits.get(name, 0) + quantity
        if found != {"cpu", "memory"}:
            guaranteed = False
    if not requests and not limits:
        return QOS_BEST_EFFORT
    if guaranteed:
        for name, value in requests.items():
            if limits.get(name) != value:
                guaranteed = False
                break
    if guaranteed and len(requests) == len(limits):
        return QOS_GUARANTEED
    return QOS_BURSTABLE


def _quantity_or_none(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        return parse_quantity(value.strip() if isinstance(value, str) else _number_text(value)).value
    except (QuantityError, AttributeError):
        return None


def reset_status_for_update(new: dict, old: dict, *, in_place: bool = False) -> dict:
    """A copy of ``new`` whose status is ``old``'s: the main endpoint cannot write status.

    ``in_place``: ``new`` itself, given ``old``'s status object (shared, not copied: stored objects are never
    changed in place)."""
    out = new if in_place else deep_copy(new)
    if "status" in old:
        out["status"] = old["status"] if in_place else deep_copy(old["status"])
    else:
        out.pop("status", None)
    return out


def prepare_daemon_set_for_update(new: dict, old: dict, status_update: bool) -> None:
    """daemonSetStrategy.PrepareForUpdate: a template change bumps the template generation annotation."""
    old_annotations = (old.get("metadata") or {}).get("annotations") or {}
    try:
        template_generation = int(old_annotations.get(DAEMONSET_TEMPLATE_GENERATION_ANNOTATION, "1"))
    except ValueError:
        template_generation = 1
    new_template = (new.get("spec") or {}).get("template")
    old_template = (old.get("spec") or {}).get("template")
    if not status_update and new_template != old_template:
        template_generation += 1
    annotations = _dict(new["metadata"], "annotations")
    annotations[DAEMONSET_TEMPLATE_GENERATION_ANNOTATION] = str(template_generation)


def prepare_namespace_for_update(new: dict, old: dict, status_update: bool) -> None:
    """namespaceStrategy.PrepareForUpdate: finalizers change only through the /finalize subresource."""
    if status_update:
        return
    old_finalizers = (old.get("spec") or {}).get("finalizers")
    if old_finalizers is not None:
        _dict(new, "spec")["finalizers"] = list(old_finalizers)
