"""API validation for the simulated kinds, with Kubernetes 1.32's exact messages.

The rules come from ``pkg/apis/{core,batch,apps}/validation``,
``k8s.io/apimachinery/pkg/api/validation`` and the registry strategies; each
function here is named after its upstream counterpart so a learner can read
both side by side. Errors are :class:`~apiserver.fielderrors.FieldError`
values in upstream's order; ``str(error)`` is the line kubectl prints.

Each kind's validators are named in its declaration (``kinds.py``), which runs
them in the real API server's order: ``kinds.apply_defaults`` -> admission
(Pods, Nodes) -> ``kinds.prepare_for_create`` / ``prepare_for_update`` ->
``kinds.validate_create`` / ``validate_update``. Validation needs the prepared
object: a Job's generated selector, for instance, is checked here.

Pure Python, no Django.
"""

from __future__ import annotations

import re
import zoneinfo

from controllers.apimachinery.labels import is_qualified_name, is_valid_label_value
from apiserver import fielderrors as fe
from apiserver.defaults import (
    CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
)
from apiserver.fielderrors import OMIT, FieldError, GoValue, go_quote, go_sharp_v
from apiserver.schema import QuantityError, parse_quantity

Errors = list[FieldError]

# ---------------------------------------------------------------------------
# Paths (field.Path): Child -> ".name", Index -> "[i]", Key -> "[key]"
# ---------------------------------------------------------------------------


def _child(path: str, *names: str) -> str:
    for name in names:
        path = f"{path}.{name}" if path else name
    return path


def _index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def _key(path: str, key: str) -> str:
    return f"{path}[{key}]"


def _blen(s: str) -> int:
    """Go's len(): bytes, not characters."""
    return len(s.encode("utf-8"))


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------
# k8s.io/apimachinery/pkg/util/validation
# ---------------------------------------------------------------------------

IS_NEGATIVE_ERROR_MSG = "must be greater than or equal to 0"
FIELD_IMMUTABLE_ERROR_MSG = "field is immutable"
TOTAL_ANNOTATION_SIZE_LIMIT_B = 256 * (1 << 10)

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_ERR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_ERR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_PERCENT_FMT = "[0-9]+%"
_PERCENT_ERR = "a valid percent string must be a numeric string followed by an ending '%'"
_ENV_RELAXED_ERR = "a valid environment variable name must consist only of printable ASCII characters other than '='"

_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
_PERCENT_RE = re.compile(_PERCENT_FMT)
_PORT_NAME_CHARSET_RE = re.compile("[-a-z0-9]+")


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """RegexError: the message with examples and the regex."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def empty_error() -> str:
    return "must be non-empty"


def inclusive_range_error(lo: int, hi: int) -> str:
    return f"must be between {lo} and {hi}, inclusive"


def is_dns1123_label(value: str) -> list[str]:
    errs = []
    if _blen(value) > 63:
        errs.append(max_len_error(63))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        if _DNS1123_SUBDOMAIN_RE.fullmatch(value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(_DNS1123_LABEL_ERR, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs = []
    if _blen(value) > 253:
        errs.append(max_len_error(253))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_ERR, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_valid_percent(value: str) -> list[str]:
    if not _PERCENT_RE.fullmatch(value):
        return [regex_error(_PERCENT_ERR, _PERCENT_FMT, "1%", "93%")]
    return []


def is_valid_port_num(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else [inclusive_range_error(1, 65535)]


def is_valid_port_name(port: str) -> list[str]:
    errs = []
    if _blen(port) > 15:
        errs.append(max_len_error(15))
    if not _PORT_NAME_CHARSET_RE.fullmatch(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def is_relaxed_env_var_name(value: str) -> list[str]:
    errs = []
    if not value:
        errs.append("environment variable name " + empty_error())
    if any(ord(c) > 127 or not c.isprintable() or c == "=" for c in value):
        errs.append(_ENV_RELAXED_ERR)
    return errs


# ---------------------------------------------------------------------------
# apimachinery/pkg/api/validation: names, ObjectMeta
# ---------------------------------------------------------------------------


def _mask_trailing_dash(name: str) -> str:
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def name_is_dns_subdomain(name: str, prefix: bool) -> list[str]:
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool) -> list[str]:
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def validate_nonnegative_field(value, path: str) -> Errors:
    if _is_int(value) and value < 0:
        return [fe.invalid(path, value, IS_NEGATIVE_ERROR_MSG)]
    return []


def validate_immutable_field(new, old, path: str, value=None) -> Errors:
    """ValidateImmutableField; ``value`` overrides how the new value is printed."""
    if new != old:
        return [fe.invalid(path, new if value is None else value, FIELD_IMMUTABLE_ERROR_MSG)]
    return []


def validate_label_name(name: str, path: str) -> Errors:
    return [fe.invalid(path, name, m) for m in is_qualified_name(name)]


def validate_labels(labels, path: str) -> Errors:
    errs: Errors = []
    for key, value in (labels or {}).items():
        errs += validate_label_name(key, path)
        errs += [fe.invalid(path, value, m) for m in is_valid_label_value(value if isinstance(value, str) else "")]
    return errs


def validate_annotations(annotations, path: str) -> Errors:
    errs: Errors = []
    total = 0
    for key, value in (annotations or {}).items():
        errs += [fe.invalid(path, key, m) for m in is_qualified_name(key.lower())]
        total += _blen(key) + _blen(value or "")
    if total > TOTAL_ANNOTATION_SIZE_LIMIT_B:
        errs.append(fe.too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT_B))
    return errs


def validate_owner_references(refs, path: str) -> Errors:
    errs: Errors = []
    first_controller = ""
    for ref in refs or []:
        ref = ref or {}
        api_version = ref.get("apiVersion", "")
        version = api_version.rsplit("/", 1)[-1] if api_version else ""
        if not version:
            errs.append(fe.invalid(_child(path, "apiVersion"), api_version, "version must not be empty"))
        if not ref.get("kind"):
            errs.append(fe.invalid(_child(path, "kind"), ref.get("kind", ""), "kind must not be empty"))
        if not ref.get("name"):
            errs.append(fe.invalid(_child(path, "name"), ref.get("name", ""), "name must not be empty"))
        if not ref.get("uid"):
            errs.append(fe.invalid(_child(path, "uid"), ref.get("uid", ""), "uid must not be empty"))
        if ref.get("controller"):
            current = f"{ref.get('kind', '')}/{ref.get('name', '')}"
            if first_controller:
                errs.append(
                    fe.invalid(
                        path,
                        GoValue("[]v1.OwnerReference{...}"),
                        'Only one reference can have Controller set to true. Found "true" in references for '
                        f"{first_controller} and {current}",
                    )
                )
            else:
                first_controller = current
    return errs


def validate_finalizers(finalizers, path: str) -> Errors:
    errs: Errors = []
    for finalizer in finalizers or []:
        errs += [fe.invalid(path, finalizer, m) for m in is_qualified_name(finalizer)]
    if "orphan" in (finalizers or []) and "foregroundDeletion" in (finalizers or []):
        errs.append(
            fe.invalid(path, finalizers, "finalizer orphan and foregroundDeletion cannot be both set")
        )
    return errs


def validate_object_meta(metadata: dict, requires_namespace: bool, name_fn, path: str = "metadata") -> Errors:
    """ValidateObjectMetaAccessor."""
    metadata = metadata or {}
    errs: Errors = []
    generate_name = metadata.get("generateName") or ""
    name = metadata.get("name") or ""
    if generate_name:
        errs += [fe.invalid(_child(path, "generateName"), generate_name, m) for m in name_fn(generate_name, True)]
    if not name:
        errs.append(fe.required(_child(path, "name"), "name or generateName is required"))
    else:
        errs += [fe.invalid(_child(path, "name"), name, m) for m in name_fn(name, False)]
    namespace = metadata.get("namespace") or ""
    if requires_namespace:
        if not namespace:
            errs.append(fe.required(_child(path, "namespace")))
        else:
            errs += [fe.invalid(_child(path, "namespace"), namespace, m) for m in name_is_dns_label(namespace, False)]
    elif namespace:
        errs.append(fe.forbidden(_child(path, "namespace"), "not allowed on this type"))
    errs += validate_nonnegative_field(metadata.get("generation") or 0, _child(path, "generation"))
    errs += validate_labels(metadata.get("labels"), _child(path, "labels"))
    errs += validate_annotations(metadata.get("annotations"), _child(path, "annotations"))
    errs += validate_owner_references(metadata.get("ownerReferences"), _child(path, "ownerReferences"))
    errs += validate_finalizers(metadata.get("finalizers"), _child(path, "finalizers"))
    return errs


def validate_object_meta_update(new: dict, old: dict, path: str = "metadata") -> Errors:
    """ValidateObjectMetaAccessorUpdate (the resourceVersion check is the storage layer's)."""
    new, old = new or {}, old or {}
    errs: Errors = []
    if old.get("deletionTimestamp"):
        extra = sorted(set(new.get("finalizers") or []) - set(old.get("finalizers") or []))
        if extra:
            shown = "[]string{" + ", ".join(go_quote(f) for f in extra) + "}"
            errs.append(
                fe.forbidden(
                    _child(path, "finalizers"),
                    f"no new finalizers can be added if the object is being deleted, found new finalizers {shown}",
                )
            )
    if (new.get("generation") or 0) < (old.get("generation") or 0):
        errs.append(fe.invalid(_child(path, "generation"), new.get("generation") or 0, "must not be decremented"))
    for key in ("name", "namespace", "uid"):
        errs += validate_immutable_field(new.get(key) or "", old.get(key) or "", _child(path, key))
    # What is unchanged was valid when it was stored: only changed labels, annotations and owners are checked
    # again (a status write shares them with the stored object).
    if _changed(new, old, "labels"):
        errs += validate_labels(new.get("labels"), _child(path, "labels"))
    if _changed(new, old, "annotations"):
        errs += validate_annotations(new.get("annotations"), _child(path, "annotations"))
    if _changed(new, old, "ownerReferences"):
        errs += validate_owner_references(new.get("ownerReferences"), _child(path, "ownerReferences"))
    return errs


def _changed(new: dict, old: dict, key: str) -> bool:
    value = new.get(key)
    return value is not old.get(key) and value != old.get(key)


# ---------------------------------------------------------------------------
# Label selectors (apimachinery meta/v1/validation, labels)
# ---------------------------------------------------------------------------

_SELECTOR_OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist"}


def validate_label_selector(selector, path: str) -> Errors:
    errs: Errors = []
    if selector is None:
        return errs
    errs += validate_labels(selector.get("matchLabels"), _child(path, "matchLabels"))
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        expr = expr or {}
        expr_path = _index(_child(path, "matchExpressions"), i)
        operator, values = expr.get("operator", ""), expr.get("values") or []
        if operator in ("In", "NotIn"):
            if not values:
                errs.append(
                    fe.required(_child(expr_path, "values"), "must be specified when `operator` is 'In' or 'NotIn'")
                )
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.append(
                    fe.forbidden(
                        _child(expr_path, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                    )
                )
        else:
            errs.append(fe.invalid(_child(expr_path, "operator"), operator, "not a valid selector operator"))
        errs += validate_label_name(expr.get("key", ""), _child(expr_path, "key"))
        for j, value in enumerate(values):
            errs += [fe.invalid(_index(_child(expr_path, "values"), j), value, m) for m in is_valid_label_value(value)]
    return errs


def selector_matches(selector, labels) -> bool | None:
    """LabelSelectorAsSelector(selector).Matches(labels); None when the selector cannot be built.

    A nil selector matches nothing; an empty one matches everything.
    """
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        expr = expr or {}
        key, operator, values = expr.get("key", ""), expr.get("operator"), expr.get("values") or []
        if operator not in _SELECTOR_OPERATORS or (operator in ("In", "NotIn") and not values):
            return None
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def label_selector_go_value(selector) -> GoValue:
    """``%#v`` of a metav1.LabelSelector, as upstream prints it in Invalid errors."""
    selector = selector or {}
    match_labels = selector.get("matchLabels")
    expressions = selector.get("matchExpressions")
    if expressions is None:
        exprs = "[]v1.LabelSelectorRequirement(nil)"
    else:
        items = []
        for expr in expressions:
            expr = expr or {}
            values = expr.get("values")
            items.append(
                "v1.LabelSelectorRequirement{"
                f"Key:{go_quote(expr.get('key', ''))}, Operator:{go_quote(expr.get('operator', ''))}, "
                f"Values:{go_sharp_v(values, '[]string')}}}"
            )
        exprs = "[]v1.LabelSelectorRequirement{" + ", ".join(items) + "}"
    labels = go_sharp_v(match_labels, "map[string]string")
    return GoValue(f"v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{exprs}}}")


def int_or_string_go_value(value) -> GoValue:
    """``%#v`` of an intstr.IntOrString (Type 0 = Int, 1 = String)."""
    if isinstance(value, str):
        return GoValue(f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}")
    return GoValue(f'intstr.IntOrString{{Type:0, IntVal:{int(value or 0)}, StrVal:""}}')


# ---------------------------------------------------------------------------
# Quantities and resources
# ---------------------------------------------------------------------------

_STANDARD_CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
_OVERCOMMIT_FORBIDDEN_PREFIXES = ("hugepages-",)


def _quantity(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        text = value.strip() if isinstance(value, str) else str(int(value) if float(value).is_integer() else value)
        return parse_quantity(text)
    except (QuantityError, ValueError, TypeError):
        return None


def _is_native_resource(name: str) -> bool:
    return "/" not in name or name.startswith("kubernetes.io/") or ".kubernetes.io/" in name.split("/")[0]


def _is_overcommit_allowed(name: str) -> bool:
    return _is_native_resource(name) and not name.startswith(_OVERCOMMIT_FORBIDDEN_PREFIXES)


def validate_container_resource_name(name: str, path: str) -> Errors:
    errs = [fe.invalid(path, name, m) for m in is_qualified_name(name)]
    if errs:
        return errs
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            return [fe.invalid(path, name, "must be a standard resource for containers")]
    return []


def validate_resource_quantity_value(value, path: str, resource: str | None = None) -> Errors:
    """ValidateResourceQuantityValue: not negative, and a whole number for integer resources (``pods``, extended
    resources). Without ``resource``: ValidateNonnegativeQuantity alone."""
    quantity = _quantity(value)
    if quantity is None:
        return []
    errs: Errors = []
    if quantity.value < 0:
        errs.append(fe.invalid(path, quantity.canonical(), IS_NEGATIVE_ERROR_MSG))
    if resource is not None and (resource in _INTEGER_RESOURCES or _is_extended_resource_name(resource)):
        if quantity.milli_value() % 1000 != 0:
            errs.append(fe.invalid(path, go_quantity_value(quantity.canonical()), IS_NOT_INTEGER_ERROR_MSG))
    return errs


_DECIMAL_SUFFIX_EXPONENTS = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIX_EXPONENTS = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}


def go_quantity_value(text: str) -> GoValue:
    """``%#v`` of the ``resource.Quantity`` ParseQuantity makes of ``text`` (a canonical quantity without a
    fraction): how upstream prints a Quantity in an Invalid error, since only its pointer has a String method.
    ParseQuantity keeps the text it parsed (``s``) when it is already canonical."""
    quantity = parse_quantity(text)
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits[-2:] in _BINARY_SUFFIX_EXPONENTS:
        number = int(digits[:-2])
        value, scale = sign * (number << _BINARY_SUFFIX_EXPONENTS[digits[-2:]]), 0
        cached = number & 0x07 != 0
    else:
        if "e" in digits or "E" in digits:
            number_text, _, exponent = digits.replace("E", "e").partition("e")
            scale = int(exponent)
        elif digits[-1] in _DECIMAL_SUFFIX_EXPONENTS:
            number_text, scale = digits[:-1], _DECIMAL_SUFFIX_EXPONENTS[digits[-1]]
        else:
            number_text, scale = digits, 0
        value = sign * int(number_text)
        cached = scale % 3 == 0 and not number_text.endswith("000") and number_text[0] != "0"
    return GoValue(
        f"resource.Quantity{{i:resource.int64Amount{{value:{value}, scale:{scale}}}, "
        f"d:resource.infDecAmount{{Dec:(*inf.Dec)(nil)}}, s:{go_quote(text if cached else '')}, "
        f"Format:{go_quote(quantity.format)}}}"
    )


def validate_container_resource_requirements(resources, path: str) -> Errors:
    """ValidateContainerResourceRequirements: names, non-negative, requests <= limits."""
    resources = resources or {}
    limits = resources.get("limits") or {}
    requests = resources.get("requests") or {}
    lim_path, req_path = _child(path, "limits"), _child(path, "requests")
    errs: Errors = []
    for name, value in limits.items():
        errs += validate_container_resource_name(name, _key(lim_path, name))
        errs += validate_resource_quantity_value(value, _key(lim_path, name))
    for name, value in requests.items():
        errs += validate_container_resource_name(name, _key(req_path, name))
        errs += validate_resource_quantity_value(value, _key(req_path, name))
        request, limit = _quantity(value), _quantity(limits.get(name))
        if name in limits and request is not None and limit is not None:
            if request.value != limit.value and not _is_overcommit_allowed(name):
                errs.append(
                    fe.invalid(req_path, request.canonical(), f"must be equal to {name} limit of {limit.canonical()}")
                )
            elif request.value > limit.value:
                errs.append(
                    fe.invalid(
                        req_path, request.canonical(), f"must be less than or equal to {name} limit of {limit.canonical()}"
                    )
                )
        elif name not in limits and not _is_overcommit_allowed(name):
            errs.append(fe.required(lim_path, "Limit must be set for non overcommitable resources"))
    return errs


# ---------------------------------------------------------------------------
# Pod spec (pkg/apis/core/validation)
# ---------------------------------------------------------------------------

_RESTART_POLICIES = ["Always", "OnFailure", "Never"]
_DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
_PULL_POLICIES = ["Always", "IfNotPresent", "Never"]  # sets.List: sorted
_TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"]
_PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"]  # sets.List: sorted
_TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
_TOLERATION_OPERATORS = ["Equal", "Exists"]
_HOST_PATH_TYPES = [
    "", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice",
]
_VOLUME_SOURCES = (
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi",
    "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc",
    "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected",
    "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image",
)
MAX_INT32 = 2**31 - 1


def validate_pod_template_spec(template, path: str) -> Errors:
    """ValidatePodTemplateSpec: template labels/annotations, then the pod spec."""
    template = template or {}
    metadata = template.get("metadata") or {}
    errs = validate_labels(metadata.get("labels"), _child(path, "labels"))
    errs += validate_annotations(metadata.get("annotations"), _child(path, "annotations"))
    spec = template.get("spec") or {}
    errs += validate_pod_spec(spec, _child(path, "spec"), is_pod=False)
    if spec.get("ephemeralContainers"):
        errs.append(
            fe.forbidden(_child(path, "spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template")
        )
    return errs


def validate_pod_spec(spec: dict, path: str, is_pod: bool) -> Errors:
    """ValidatePodSpec, the parts learners meet (volumes, containers, policies, tolerations)."""
    errs: Errors = []
    if spec.get("terminationGracePeriodSeconds") is None:
        errs.append(fe.required(_child(path, "terminationGracePeriodSeconds")))
    volume_names, volume_errs = validate_volumes(spec.get("volumes"), _child(path, "volumes"))
    errs += volume_errs
    errs += validate_containers(spec.get("containers"), volume_names, _child(path, "containers"))
    errs += validate_init_containers(
        spec.get("initContainers"), spec.get("containers"), volume_names, _child(path, "initContainers")
    )
    errs += validate_pod_host_network_deps(spec, path, is_pod)
    errs += validate_restart_policy(spec.get("restartPolicy", ""), _child(path, "restartPolicy"))
    errs += validate_dns_policy(spec.get("dnsPolicy", ""), _child(path, "dnsPolicy"))
    errs += validate_labels(spec.get("nodeSelector"), _child(path, "nodeSelector"))
    if spec.get("serviceAccountName"):
        errs += [
            fe.invalid(_child(path, "serviceAccountName"), spec["serviceAccountName"], m)
            for m in name_is_dns_subdomain(spec["serviceAccountName"], False)
        ]
    if spec.get("nodeName"):
        errs += [fe.invalid(_child(path, "nodeName"), spec["nodeName"], m) for m in name_is_dns_subdomain(spec["nodeName"], False)]
    deadline = spec.get("activeDeadlineSeconds")
    if _is_int(deadline) and not 1 <= deadline <= MAX_INT32:
        errs.append(fe.invalid(_child(path, "activeDeadlineSeconds"), deadline, inclusive_range_error(1, MAX_INT32)))
    for key in ("hostname", "subdomain"):
        if spec.get(key):
            errs += [fe.invalid(_child(path, key), spec[key], m) for m in is_dns1123_label(spec[key])]
    if spec.get("tolerations"):
        errs += validate_tolerations(spec["tolerations"], _child(path, "tolerations"))
    if spec.get("priorityClassName"):
        errs += [
            fe.invalid(_child(path, "priorityClassName"), spec["priorityClassName"], m)
            for m in name_is_dns_subdomain(spec["priorityClassName"], False)
        ]
    if spec.get("preemptionPolicy") is not None and spec["preemptionPolicy"] not in ("PreemptLowerPriority", "Never"):
        if spec["preemptionPolicy"] == "":
            errs.append(fe.required(_child(path, "preemptionPolicy")))
        else:
            errs.append(
                fe.not_supported(_child(path, "preemptionPolicy"), spec["preemptionPolicy"], ["PreemptLowerPriority", "Never"])
            )
    return errs


def validate_volumes(volumes, path: str) -> tuple[set[str], Errors]:
    """ValidateVolumes: unique DNS-label names, exactly one source, hostPath rules."""
    errs: Errors = []
    names: set[str] = set()
    for i, volume in enumerate(volumes or []):
        volume = volume or {}
        idx_path = _index(path, i)
        name = volume.get("name") or ""
        errs += validate_volume_source(volume, idx_path)
        if not name:
            errs.append(fe.required(_child(idx_path, "name")))
        else:
            errs += [fe.invalid(_child(idx_path, "name"), name, m) for m in is_dns1123_label(name)]
        if name in names:
            errs.append(fe.duplicate(_child(idx_path, "name"), name))
        elif name:
            names.add(name)
    return names, errs


def validate_volume_source(volume: dict, path: str) -> Errors:
    errs: Errors = []
    sources = [s for s in _VOLUME_SOURCES if volume.get(s) is not None]
    if not sources:
        return [fe.required(path, "must specify a volume type")]
    for extra in sources[1:]:
        errs.append(fe.forbidden(_child(path, extra), "may not specify more than 1 volume type"))
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict):
        hp_path = _child(path, "hostPath")
        if not host_path.get("path"):
            errs.append(fe.required(_child(hp_path, "path")))
        elif ".." in host_path["path"].split("/"):
            errs.append(fe.invalid(_child(hp_path, "path"), host_path["path"], "must not contain '..'"))
        host_type = host_path.get("type")
        if host_type is not None and host_type not in _HOST_PATH_TYPES:
            errs.append(fe.not_supported(_child(hp_path, "type"), host_type, _HOST_PATH_TYPES))
    return errs


def validate_containers(containers, volume_names: set[str], path: str) -> Errors:
    """validateContainers: required, common checks, unique names, probes, host ports."""
    if not containers:
        return [fe.required(path)]
    errs: Errors = []
    seen: set[str] = set()
    for i, container in enumerate(containers):
        container = container or {}
        idx_path = _index(path, i)
        errs += validate_container_common(container, volume_names, idx_path)
        name = container.get("name") or ""
        if name in seen:
            errs.append(fe.duplicate(_child(idx_path, "name"), name))
        else:
            seen.add(name)
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            errs += validate_probe(container.get(probe), _child(idx_path, probe), probe)
        if container.get("restartPolicy") is not None:
            errs.append(fe.forbidden(_child(idx_path, "restartPolicy"), "may not be set for non-init containers"))
    errs += check_host_port_conflicts(containers, path)
    return errs


def validate_init_containers(init_containers, containers, volume_names: set[str], path: str) -> Errors:
    errs: Errors = []
    names = {(c or {}).get("name") for c in containers or []}
    for i, container in enumerate(init_containers or []):
        container = container or {}
        idx_path = _index(path, i)
        errs += validate_container_common(container, volume_names, idx_path)
        restart_policy = container.get("restartPolicy")
        if restart_policy is not None and restart_policy != "Always":
            errs.append(fe.not_supported(_child(idx_path, "restartPolicy"), restart_policy, ["Always"]))
        name = container.get("name") or ""
        if name in names:
            errs.append(fe.duplicate(_child(idx_path, "name"), name))
        elif name:
            names.add(name)
        if restart_policy != "Always":
            for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if container.get(key) is not None:
                    errs.append(
                        fe.forbidden(_child(idx_path, key), "may not be set for init containers without restartPolicy=Always")
                    )
    return errs


def validate_container_common(container: dict, volume_names: set[str], path: str) -> Errors:
    """validateContainerCommon: name, image, terminationMessagePolicy, ports, env, mounts, pull policy, resources."""
    errs: Errors = []
    name = container.get("name") or ""
    if not name:
        errs.append(fe.required(_child(path, "name")))
    else:
        errs += [fe.invalid(_child(path, "name"), name, m) for m in is_dns1123_label(name)]
    if not container.get("image"):
        errs.append(fe.required(_child(path, "image")))
    policy = container.get("terminationMessagePolicy", "")
    if policy == "":
        errs.append(fe.required(_child(path, "terminationMessagePolicy")))
    elif policy not in _TERMINATION_MESSAGE_POLICIES:
        errs.append(fe.not_supported(_child(path, "terminationMessagePolicy"), policy, _TERMINATION_MESSAGE_POLICIES))
    errs += validate_container_ports(container.get("ports"), _child(path, "ports"))
    errs += validate_env(container.get("env"), _child(path, "env"))
    errs += validate_volume_mounts(container.get("volumeMounts"), volume_names, _child(path, "volumeMounts"))
    errs += validate_pull_policy(container.get("imagePullPolicy", ""), _child(path, "imagePullPolicy"))
    errs += validate_container_resource_requirements(container.get("resources"), _child(path, "resources"))
    return errs


def validate_container_ports(ports, path: str) -> Errors:
    errs: Errors = []
    names: set[str] = set()
    for i, port in enumerate(ports or []):
        port = port or {}
        idx_path = _index(path, i)
        name = port.get("name") or ""
        if name:
            msgs = is_valid_port_name(name)
            if msgs:
                errs += [fe.invalid(_child(idx_path, "name"), name, m) for m in msgs]
            elif name in names:
                errs.append(fe.duplicate(_child(idx_path, "name"), name))
            else:
                names.add(name)
        container_port = port.get("containerPort") or 0
        if container_port == 0:
            errs.append(fe.required(_child(idx_path, "containerPort")))
        else:
            errs += [fe.invalid(_child(idx_path, "containerPort"), container_port, m) for m in is_valid_port_num(container_port)]
        host_port = port.get("hostPort") or 0
        if host_port != 0:
            errs += [fe.invalid(_child(idx_path, "hostPort"), host_port, m) for m in is_valid_port_num(host_port)]
        protocol = port.get("protocol") or ""
        if not protocol:
            errs.append(fe.required(_child(idx_path, "protocol")))
        elif protocol not in _PORT_PROTOCOLS:
            errs.append(fe.not_supported(_child(idx_path, "protocol"), protocol, _PORT_PROTOCOLS))
    return errs


def check_host_port_conflicts(containers, path: str) -> Errors:
    errs: Errors = []
    seen: set[str] = set()
    for ci, container in enumerate(containers or []):
        for pi, port in enumerate((container or {}).get("ports") or []):
            port = port or {}
            host_port = port.get("hostPort") or 0
            if not host_port:
                continue
            key = f"{port.get('protocol', '')}/{port.get('hostIP', '')}/{host_port}"
            if key in seen:
                errs.append(fe.duplicate(_child(_index(_child(_index(path, ci), "ports"), pi), "hostPort"), key))
            else:
                seen.add(key)
    return errs


def validate_env(env, path: str) -> Errors:
    """ValidateEnv with RelaxedEnvironmentVariableValidation (beta, on in 1.32)."""
    errs: Errors = []
    for i, var in enumerate(env or []):
        var = var or {}
        idx_path = _index(path, i)
        name = var.get("name") or ""
        if not name:
            errs.append(fe.required(_child(idx_path, "name")))
        else:
            errs += [fe.invalid(_child(idx_path, "name"), name, m) for m in is_relaxed_env_var_name(name)]
    return errs


def validate_volume_mounts(mounts, volume_names: set[str], path: str) -> Errors:
    errs: Errors = []
    mount_points: set[str] = set()
    for i, mount in enumerate(mounts or []):
        mount = mount or {}
        idx_path = _index(path, i)
        name = mount.get("name") or ""
        mount_path = mount.get("mountPath") or ""
        if not name:
            errs.append(fe.required(_child(idx_path, "name")))
        elif name not in volume_names:
            errs.append(fe.not_found(_child(idx_path, "name"), name))
        if not mount_path:
            errs.append(fe.required(_child(idx_path, "mountPath")))
        if mount_path in mount_points:
            errs.append(fe.invalid(_child(idx_path, "mountPath"), mount_path, "must be unique"))
        mount_points.add(mount_path)
    return errs


def validate_pull_policy(policy: str, path: str) -> Errors:
    if policy in _PULL_POLICIES:
        return []
    if policy == "":
        return [fe.required(path)]
    return [fe.not_supported(path, policy, _PULL_POLICIES)]


def validate_probe(probe, path: str, kind: str) -> Errors:
    if probe is None:
        return []
    errs: Errors = []
    handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if probe.get(h) is not None]
    if not handlers:
        errs.append(fe.required(path, "must specify a handler type"))
    for extra in handlers[1:]:
        errs.append(fe.forbidden(_child(path, extra), "may not specify more than 1 handler type"))
    if handlers and handlers[0] == "exec" and not (probe["exec"] or {}).get("command"):
        errs.append(fe.required(_child(path, "exec", "command")))
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        errs += validate_nonnegative_field(probe.get(key) or 0, _child(path, key))
    if kind in ("livenessProbe", "startupProbe") and probe.get("successThreshold", 1) != 1:
        errs.append(fe.invalid(_child(path, "successThreshold"), probe.get("successThreshold"), "must be 1"))
    return errs


def validate_pod_host_network_deps(spec: dict, path: str, is_pod: bool) -> Errors:
    errs: Errors = []
    if not spec.get("hostNetwork"):
        return errs
    for i, container in enumerate(spec.get("containers") or []):
        for j, port in enumerate((container or {}).get("ports") or []):
            host_port, container_port = (port or {}).get("hostPort") or 0, (port or {}).get("containerPort") or 0
            if (is_pod or host_port != 0) and host_port != container_port:
                errs.append(
                    fe.invalid(
                        _child(_index(_child(_index(_child(path, "containers"), i), "ports"), j), "hostPort"),
                        host_port,
                        "must match `containerPort` when `hostNetwork` is true",
                    )
                )
    return errs


def validate_restart_policy(policy: str, path: str) -> Errors:
    if policy in _RESTART_POLICIES:
        return []
    if policy == "":
        return [fe.required(path)]
    return [fe.not_supported(path, policy, _RESTART_POLICIES)]


def validate_dns_policy(policy: str, path: str) -> Errors:
    if policy in _DNS_POLICIES:
        return []
    if policy == "":
        return [fe.required(path)]
    return [fe.not_supported(path, policy, _DNS_POLICIES)]


def validate_taint_effect(effect: str, allow_empty: bool, path: str) -> Errors:
    if not allow_empty and not effect:
        return [fe.required(path)]
    if effect not in _TAINT_EFFECTS:
        return [fe.not_supported(path, effect, _TAINT_EFFECTS)]
    return []


def validate_tolerations(tolerations, path: str) -> Errors:
    """ValidateTolerations."""
    errs: Errors = []
    for i, toleration in enumerate(tolerations or []):
        toleration = toleration or {}
        idx_path = _index(path, i)
        key, operator = toleration.get("key") or "", toleration.get("operator") or ""
        value, effect = toleration.get("value") or "", toleration.get("effect") or ""
        if key:
            errs += validate_label_name(key, _child(idx_path, "key"))
        if not key and operator != "Exists":
            errs.append(
                fe.invalid(
                    _child(idx_path, "operator"),
                    operator,
                    'operator must be Exists when `key` is empty, which means "match all values and all keys"',
                )
            )
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(fe.invalid(_child(idx_path, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if operator in ("Equal", ""):
            msgs = is_valid_label_value(value)
            if msgs:
                errs.append(fe.invalid(_child(idx_path, "operator"), value, ";".join(msgs)))
        elif operator == "Exists":
            if value:
                errs.append(fe.invalid(_child(idx_path, "operator"), value, "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(fe.not_supported(_child(idx_path, "operator"), operator, _TOLERATION_OPERATORS))
        if effect:
            errs += validate_taint_effect(effect, True, _child(idx_path, "effect"))
    return errs


# ---------------------------------------------------------------------------
# Job and CronJob (pkg/apis/batch/validation)
# ---------------------------------------------------------------------------

MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000
MAX_FAILED_INDEXES_FOR_INDEXED_JOB = 100_000
COMPLETIONS_SOFT_LIMIT = 100_000
PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS = 10_000
MAX_POD_FAILURE_POLICY_RULES = 20
MAX_POD_FAILURE_POLICY_ON_EXIT_CODES_VALUES = 255
MAX_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERNS = 20
MAX_MANAGED_BY_LENGTH = 63
CRONJOB_NAME_MAX_LENGTH = 52  # DNS1035LabelMaxLength - 11: "-<minutes since epoch>" is appended
_POD_FAILURE_POLICY_ACTIONS = ["Count", "FailIndex", "FailJob", "Ignore"]
_ON_EXIT_CODES_OPERATORS = ["In", "NotIn"]
_CONDITION_STATUSES = ["False", "True", "Unknown"]
_POD_REPLACEMENT_POLICIES = ["Failed", "TerminatingOrFailed"]
_CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"]


def _go_q_list(values: list[str]) -> str:
    """``%q`` of a []string: ``["a" "b"]``."""
    return "[" + " ".join(go_quote(v) for v in values) + "]"


def validate_generated_selector(job: dict, require_prefixed_labels: bool) -> Errors:
    """validateGeneratedSelector: generated template labels and selector must match the Job."""
    spec = job.get("spec") or {}
    if spec.get("manualSelector") or spec.get("selector") is None:
        return []
    metadata = job.get("metadata") or {}
    uid, name = metadata.get("uid") or "", metadata.get("name") or ""
    errs: Errors = []
    if not uid:
        errs.append(fe.required("metadata.uid"))
    template_meta = (spec.get("template") or {}).get("metadata") or {}
    path = "spec.template.metadata"
    checks = [(LEGACY_CONTROLLER_UID_LABEL, uid), (LEGACY_JOB_NAME_LABEL, name)]
    if require_prefixed_labels:
        checks += [(CONTROLLER_UID_LABEL, uid), (JOB_NAME_LABEL, name)]
    for key, expected in checks:
        errs += validate_has_label(template_meta, path, key, expected)
    expected_labels = {key: value for key, value in checks}
    if selector_matches(spec["selector"], expected_labels) is False:
        errs.append(fe.invalid("spec.selector", label_selector_go_value(spec["selector"]), "`selector` not auto-generated"))
    return errs


def validate_has_label(metadata: dict, path: str, key: str, expected: str) -> Errors:
    labels = metadata.get("labels") or {}
    label_path = _key(_child(path, "labels"), key)
    if key not in labels:
        return [fe.required(label_path, f"must be '{expected}'")]
    if labels[key] != expected:
        return [fe.invalid(label_path, labels, f"must be '{expected}'")]
    return []


def validate_job(job: dict, *, require_prefixed_labels: bool = True) -> Errors:
    """ValidateJob (create)."""
    metadata = job.get("metadata") or {}
    spec = job.get("spec") or {}
    errs = validate_object_meta(metadata, True, name_is_dns_subdomain)
    errs += validate_generated_selector(job, require_prefixed_labels)
    errs += validate_job_spec(spec, "spec")
    completions = spec.get("completions")
    if spec.get("completionMode") == "Indexed" and _is_int(completions) and completions > 0:
        hostname = f"{metadata.get('name', '')}-{completions - 1}"
        if is_dns1123_label(hostname):
            errs.append(
                fe.invalid(
                    "metadata.name",
                    metadata.get("name", ""),
                    f"will not able to create pod with invalid DNS label: {hostname}",
                )
            )
    return errs


def validate_job_spec(spec: dict, path: str) -> Errors:
    """ValidateJobSpec: the shared rules plus selector presence and selector/template match."""
    errs = _validate_job_spec(spec, path)
    selector = spec.get("selector")
    if selector is None:
        errs.append(fe.required(_child(path, "selector")))
    else:
        errs += validate_label_selector(selector, _child(path, "selector"))
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    if selector_matches(selector, template_labels) is False:
        errs.append(
            fe.invalid(
                _child(path, "template", "metadata", "labels"),
                GoValue(go_sharp_v(template_labels, "map[string]string")),
                "`selector` does not match template `labels`",
            )
        )
    return errs


def _validate_job_spec(spec: dict, path: str) -> Errors:
    """validateJobSpec: counts, completion mode, policies, pod template, restartPolicy."""
    errs: Errors = []
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished",
                "backoffLimitPerIndex"):
        if spec.get(key) is not None:
            errs += validate_nonnegative_field(spec[key], _child(path, key))
    parallelism, completions = spec.get("parallelism"), spec.get("completions")
    backoff_per_index, max_failed = spec.get("backoffLimitPerIndex"), spec.get("maxFailedIndexes")
    if max_failed is not None:
        errs += validate_nonnegative_field(max_failed, _child(path, "maxFailedIndexes"))
        if backoff_per_index is None:
            errs.append(fe.required(_child(path, "backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
    managed_by = spec.get("managedBy")
    if managed_by is not None:
        errs += _is_domain_prefixed_path(_child(path, "managedBy"), managed_by)
        if _blen(managed_by) > MAX_MANAGED_BY_LENGTH:
            errs.append(fe.too_long(_child(path, "managedBy"), MAX_MANAGED_BY_LENGTH))
    mode = spec.get("completionMode")
    if mode is not None:
        if mode not in ("NonIndexed", "Indexed"):
            errs.append(fe.not_supported(_child(path, "completionMode"), mode, ["NonIndexed", "Indexed"]))
        if mode == "Indexed":
            if completions is None:
                errs.append(fe.required(_child(path, "completions"), "when completion mode is Indexed"))
            if _is_int(parallelism) and parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB:
                errs.append(
                    fe.invalid(
                        _child(path, "parallelism"),
                        parallelism,
                        f"must be less than or equal to {MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed",
                    )
                )
            if _is_int(completions) and _is_int(max_failed) and max_failed > completions:
                errs.append(fe.invalid(_child(path, "maxFailedIndexes"), max_failed, "must be less than or equal to completions"))
            if _is_int(max_failed) and max_failed > MAX_FAILED_INDEXES_FOR_INDEXED_JOB:
                errs.append(
                    fe.invalid(
                        _child(path, "maxFailedIndexes"),
                        max_failed,
                        f"must be less than or equal to {MAX_FAILED_INDEXES_FOR_INDEXED_JOB}",
                    )
                )
            if _is_int(completions) and completions > COMPLETIONS_SOFT_LIMIT and backoff_per_index is not None:
                if max_failed is None:
                    errs.append(
                        fe.required(
                            _child(path, "maxFailedIndexes"),
                            f"must be specified when completions is above {COMPLETIONS_SOFT_LIMIT}",
                        )
                    )
                if _is_int(parallelism) and parallelism > PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS:
                    errs.append(
                        fe.invalid(
                            _child(path, "parallelism"),
                            parallelism,
                            f"must be less than or equal to {PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS} when completions "
                            f"are above {COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index",
                        )
                    )
    if mode in (None, "NonIndexed"):
        if backoff_per_index is not None:
            errs.append(fe.invalid(_child(path, "backoffLimitPerIndex"), backoff_per_index, "requires indexed completion mode"))
        if max_failed is not None:
            errs.append(fe.invalid(_child(path, "maxFailedIndexes"), max_failed, "requires indexed completion mode"))
    if spec.get("podFailurePolicy") is not None:
        errs += validate_pod_failure_policy(spec, _child(path, "podFailurePolicy"))
    if spec.get("successPolicy") is not None and mode != "Indexed":
        errs.append(
            fe.invalid(_child(path, "successPolicy"), GoValue(_success_policy_go_value(spec["successPolicy"])),
                       "requires indexed completion mode")
        )
    errs += validate_pod_replacement_policy(spec, _child(path, "podReplacementPolicy"))
    errs += validate_pod_template_spec(spec.get("template"), _child(path, "template"))
    restart_path = _child(path, "template", "spec", "restartPolicy")
    restart_policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") or ""
    # Defaulting turns an omitted restartPolicy into Always, so both get the Required error.
    if restart_policy in ("Always", ""):
        errs.append(fe.required(restart_path, 'valid values: "OnFailure", "Never"'))
    elif restart_policy not in ("OnFailure", "Never"):
        errs.append(fe.not_supported(restart_path, restart_policy, ["OnFailure", "Never"]))
    elif spec.get("podFailurePolicy") is not None and restart_policy != "Never":
        errs.append(fe.invalid(restart_path, restart_policy, 'only "Never" is supported when podFailurePolicy is specified'))
    return errs


def _success_policy_go_value(policy) -> str:
    rules = []
    for rule in (policy or {}).get("rules") or []:
        rule = rule or {}
        indexes = rule.get("succeededIndexes")
        count = rule.get("succeededCount")
        rules.append(
            "batch.SuccessPolicyRule{SucceededIndexes:"
            + ("(*string)(nil)" if indexes is None else "(*string)(0xc000000000)")
            + ", SucceededCount:"
            + ("(*int32)(nil)" if count is None else "(*int32)(0xc000000000)")
            + "}"
        )
    return "batch.SuccessPolicy{Rules:[]batch.SuccessPolicyRule{" + ", ".join(rules) + "}}"


def _is_domain_prefixed_path(path: str, value: str) -> Errors:
    if not value:
        return [fe.required(path)]
    host, sep, rest = value.partition("/")
    if not sep or not host or not rest:
        return [fe.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')]
    errs = [fe.invalid(path, host, m) for m in is_dns1123_subdomain(host)]
    http_path_fmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+"
    if not re.fullmatch(http_path_fmt, rest):
        errs.append(fe.invalid(path, rest, regex_error("Invalid path", http_path_fmt)))
    return errs


def validate_pod_replacement_policy(spec: dict, path: str) -> Errors:
    policy = spec.get("podReplacementPolicy")
    if policy is None:
        return []
    if spec.get("podFailurePolicy") is not None:
        if policy != "Failed":
            return [fe.not_supported(path, policy, ["Failed"])]
    elif policy not in _POD_REPLACEMENT_POLICIES:
        return [fe.not_supported(path, policy, _POD_REPLACEMENT_POLICIES)]
    return []


def validate_pod_failure_policy(spec: dict, path: str) -> Errors:
    policy = spec.get("podFailurePolicy") or {}
    rules = policy.get("rules") or []
    rules_path = _child(path, "rules")
    errs: Errors = []
    if len(rules) > MAX_POD_FAILURE_POLICY_RULES:
        errs.append(fe.too_many(rules_path, len(rules), MAX_POD_FAILURE_POLICY_RULES))
    pod_spec = (spec.get("template") or {}).get("spec") or {}
    names = {(c or {}).get("name") for c in (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or [])}
    for i, rule in enumerate(rules):
        errs += _validate_pod_failure_policy_rule(spec, rule or {}, _index(rules_path, i), names)
    return errs


def _validate_pod_failure_policy_rule(spec: dict, rule: dict, path: str, container_names: set) -> Errors:
    errs: Errors = []
    action = rule.get("action") or ""
    action_path = _child(path, "action")
    if not action:
        errs.append(fe.required(action_path, f"valid values: {_go_q_list(_POD_FAILURE_POLICY_ACTIONS)}"))
    elif action == "FailIndex":
        if spec.get("backoffLimitPerIndex") is None:
            errs.append(fe.invalid(action_path, action, "requires the backoffLimitPerIndex to be set"))
    elif action not in _POD_FAILURE_POLICY_ACTIONS:
        errs.append(fe.not_supported(action_path, action, _POD_FAILURE_POLICY_ACTIONS))
    on_exit_codes = rule.get("onExitCodes")
    on_conditions = rule.get("onPodConditions") or []
    if on_exit_codes is not None:
        errs += _validate_on_exit_codes(on_exit_codes, _child(path, "onExitCodes"), container_names)
    if on_conditions:
        conditions_path = _child(path, "onPodConditions")
        if len(on_conditions) > MAX_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERNS:
            errs.append(fe.too_many(conditions_path, len(on_conditions), MAX_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERNS))
        for j, pattern in enumerate(on_conditions):
            pattern = pattern or {}
            pattern_path = _index(conditions_path, j)
            errs += [fe.invalid(_child(pattern_path, "type"), pattern.get("type", ""), m)
                     for m in is_qualified_name(pattern.get("type", ""))]
            status = pattern.get("status") or ""
            if not status:
                errs.append(fe.required(_child(pattern_path, "status"), f"valid values: {_go_q_list(_CONDITION_STATUSES)}"))
            elif status not in _CONDITION_STATUSES:
                errs.append(fe.not_supported(_child(pattern_path, "status"), status, _CONDITION_STATUSES))
    if on_exit_codes is not None and on_conditions:
        errs.append(fe.invalid(path, OMIT, "specifying both OnExitCodes and OnPodConditions is not supported"))
    if on_exit_codes is None and not on_conditions:
        errs.append(fe.invalid(path, OMIT, "specifying one of OnExitCodes and OnPodConditions is required"))
    return errs


def _validate_on_exit_codes(req: dict, path: str, container_names: set) -> Errors:
    errs: Errors = []
    operator = req.get("operator") or ""
    if not operator:
        errs.append(fe.required(_child(path, "operator"), f"valid values: {_go_q_list(_ON_EXIT_CODES_OPERATORS)}"))
    elif operator not in _ON_EXIT_CODES_OPERATORS:
        errs.append(fe.not_supported(_child(path, "operator"), operator, _ON_EXIT_CODES_OPERATORS))
    if req.get("containerName") is not None and req["containerName"] not in container_names:
        errs.append(
            fe.invalid(_child(path, "containerName"), req["containerName"],
                       "must be one of the container or initContainer names in the pod template")
        )
    values = req.get("values")
    values_path = _child(path, "values")
    if not values:
        errs.append(fe.invalid(values_path, GoValue(go_sharp_v(values, "[]int32")), "at least one value is required"))
    elif len(values) > MAX_POD_FAILURE_POLICY_ON_EXIT_CODES_VALUES:
        errs.append(fe.too_many(values_path, len(values), MAX_POD_FAILURE_POLICY_ON_EXIT_CODES_VALUES))
    seen: set = set()
    ordered = True
    for j, value in enumerate(values or []):
        if operator == "In" and value == 0:
            errs.append(fe.invalid(_index(values_path, j), value, "must not be 0 for the In operator"))
        if value in seen:
            errs.append(fe.duplicate(_index(values_path, j), value))
        seen.add(value)
        if j > 0 and values[j - 1] > value:
            ordered = False
    if not ordered:
        errs.append(fe.invalid(values_path, GoValue(go_sharp_v(values, "[]int32")), "must be ordered"))
    return errs


def validate_job_update(new: dict, old: dict) -> Errors:
    """The Job strategy's ValidateUpdate: ValidateJob(new) followed by ValidateJobUpdate.

    Like upstream, spec errors therefore appear twice; the API layer's message
    deduplicates them (field.ErrorList.ToAggregate), as the real server does.
    """
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    # Jobs created before 1.27 lack the prefixed labels; they are only required if the old Job had them.
    old_labels = ((old_spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    require_prefixed = JOB_NAME_LABEL in old_labels and CONTROLLER_UID_LABEL in old_labels
    errs = validate_job(new, require_prefixed_labels=require_prefixed)
    errs += validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs += validate_job_spec(new_spec, "spec")
    errs += _validate_completions_update(new_spec, old_spec)
    errs += validate_immutable_field(
        new_spec.get("selector"), old_spec.get("selector"), "spec.selector",
        value=label_selector_go_value(new_spec.get("selector")) if new_spec.get("selector") is not None else None,
    )
    errs += _validate_pod_template_update(new_spec, old_spec, old)
    for key in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"):
        value = new_spec.get(key)
        if isinstance(value, dict):
            value = GoValue(f"batch.{key[0].upper()}{key[1:]}{{...}}")
        errs += validate_immutable_field(new_spec.get(key), old_spec.get(key), _child("spec", key), value=value)
    return errs


def _validate_completions_update(new_spec: dict, old_spec: dict) -> Errors:
    """validateCompletions with ElasticIndexedJob (GA in 1.31)."""
    new_completions, old_completions = new_spec.get("completions"), old_spec.get("completions")
    if new_spec.get("completionMode") != "Indexed":
        return validate_immutable_field(new_completions, old_completions, "spec.completions")
    if new_completions == old_completions or new_completions is None:
        return []
    if new_completions != new_spec.get("parallelism"):
        return [fe.invalid("spec.completions", new_completions, "can only be modified in tandem with spec.parallelism")]
    return []


_MUTABLE_SCHEDULING_FIELDS = ("nodeSelector", "tolerations", "schedulingGates")


def _validate_pod_template_update(new_spec: dict, old_spec: dict, old_job: dict) -> Errors:
    """The template is immutable, except scheduling directives of a suspended, never-started Job."""
    new_template = new_spec.get("template") or {}
    old_template = old_spec.get("template") or {}
    suspended = bool(old_spec.get("suspend"))
    not_started = not (old_job.get("status") or {}).get("startTime")
    if suspended and not_started:
        new_cmp, old_cmp = _template_without_scheduling(new_template), _template_without_scheduling(old_template)
    else:
        new_cmp, old_cmp = new_template, old_template
    if new_cmp != old_cmp:
        return [fe.invalid("spec.template", GoValue(_pod_template_go_value(new_template)), FIELD_IMMUTABLE_ERROR_MSG)]
    return []


def _template_without_scheduling(template: dict) -> dict:
    template = dict(template)
    metadata = dict(template.get("metadata") or {})
    metadata.pop("labels", None)
    metadata.pop("annotations", None)
    template["metadata"] = metadata
    spec = dict(template.get("spec") or {})
    for key in _MUTABLE_SCHEDULING_FIELDS:
        spec.pop(key, None)
    affinity = dict(spec.get("affinity") or {})
    affinity.pop("nodeAffinity", None)
    spec["affinity"] = affinity or None
    template["spec"] = spec
    return template


def _pod_template_go_value(template: dict) -> str:
    """An abbreviated ``%#v`` of core.PodTemplateSpec.

    Upstream prints the whole internal struct (hundreds of fields); we print
    the parts a learner recognises and elide the rest with ``...``.
    """
    metadata = template.get("metadata") or {}
    spec = template.get("spec") or {}
    containers = []
    for c in spec.get("containers") or []:
        c = c or {}
        containers.append(f"core.Container{{Name:{go_quote(c.get('name', ''))}, Image:{go_quote(c.get('image', ''))}, ...}}")
    return (
        "core.PodTemplateSpec{ObjectMeta:v1.ObjectMeta{Labels:"
        + go_sharp_v(metadata.get("labels"), "map[string]string")
        + ", ...}, Spec:core.PodSpec{Containers:[]core.Container{"
        + ", ".join(containers)
        + "}, RestartPolicy:"
        + go_quote(spec.get("restartPolicy", ""))
        + ", ...}}"
    )


def validate_cron_job_create(cron_job: dict) -> Errors:
    """ValidateCronJobCreate: metadata, spec, and the 52-character name limit."""
    metadata = cron_job.get("metadata") or {}
    errs = validate_object_meta(metadata, True, name_is_dns_subdomain)
    errs += validate_cron_job_spec(cron_job.get("spec") or {}, None, "spec")
    name = metadata.get("name") or ""
    if _blen(name) > CRONJOB_NAME_MAX_LENGTH:
        errs.append(fe.invalid("metadata.name", name, "must be no more than 52 characters"))
    return errs


def validate_cron_job_update(new: dict, old: dict) -> Errors:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs += validate_cron_job_spec(new.get("spec") or {}, old.get("spec") or {}, "spec")
    return errs


def validate_cron_job_spec(spec: dict, old_spec: dict | None, path: str) -> Errors:
    """validateCronJobSpec."""
    errs: Errors = []
    schedule = spec.get("schedule") or ""
    if not schedule:
        errs.append(fe.required(_child(path, "schedule")))
    else:
        allow_tz = old_spec is not None and "TZ" in (old_spec.get("schedule") or "")
        errs += validate_schedule_format(schedule, allow_tz, spec.get("timeZone"), _child(path, "schedule"))
    if spec.get("startingDeadlineSeconds") is not None:
        errs += validate_nonnegative_field(spec["startingDeadlineSeconds"], _child(path, "startingDeadlineSeconds"))
    if old_spec is None or old_spec.get("timeZone") != spec.get("timeZone"):
        errs += validate_time_zone(spec.get("timeZone"), _child(path, "timeZone"))
    errs += validate_concurrency_policy(spec.get("concurrencyPolicy") or "", _child(path, "concurrencyPolicy"))
    errs += validate_job_template_spec(spec.get("jobTemplate") or {}, _child(path, "jobTemplate"))
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        if spec.get(key) is not None:
            errs += validate_nonnegative_field(spec[key], _child(path, key))
    return errs


def validate_concurrency_policy(policy: str, path: str) -> Errors:
    if policy in _CONCURRENCY_POLICIES:
        return []
    if policy == "":
        return [fe.required(path)]
    return [fe.not_supported(path, policy, _CONCURRENCY_POLICIES)]


def validate_schedule_format(schedule: str, allow_tz: bool, time_zone, path: str) -> Errors:
    errs: Errors = []
    problem = parse_schedule_error(schedule)
    if problem is not None:
        errs.append(fe.invalid(path, schedule, problem))
    if allow_tz and "TZ" in schedule and time_zone is not None:
        errs.append(fe.invalid(path, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
    elif not allow_tz and "TZ" in schedule:
        errs.append(fe.invalid(path, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    return errs


_TIME_ZONE_PART_RE = re.compile(r"[A-Za-z.\-_0-9+]{1,14}")


def validate_time_zone(time_zone, path: str) -> Errors:
    if time_zone is None:
        return []
    if time_zone == "":
        return [fe.invalid(path, time_zone, "timeZone must be nil or non-empty string")]
    for part in time_zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TIME_ZONE_PART_RE.fullmatch(part):
            return [fe.invalid(path, time_zone, f"unknown time zone {time_zone}")]
    errs: Errors = []
    if time_zone.lower() == "local":
        errs.append(fe.invalid(path, time_zone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"))
    problem = load_location_error(time_zone)
    if problem is not None:
        errs.append(fe.invalid(path, time_zone, problem))
    return errs


def load_location_error(name: str) -> str | None:
    """Go's time.LoadLocation error text for ``name``, or None if it loads."""
    if name in ("", "UTC", "Local"):
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {name}"
    return None


def validate_job_template_spec(template: dict, path: str) -> Errors:
    """ValidateJobTemplateSpec: a Job spec whose selector the CronJob controller generates."""
    spec = template.get("spec") or {}
    errs = _validate_job_spec(spec, _child(path, "spec"))
    if spec.get("selector") is not None:
        errs.append(fe.invalid(_child(path, "spec", "selector"), label_selector_go_value(spec["selector"]),
                               "`selector` will be auto-generated"))
    if spec.get("manualSelector"):
        errs.append(fe.not_supported(_child(path, "spec", "manualSelector"), spec["manualSelector"], ["nil", "false"]))
    return errs


# -- robfig/cron v3 ParseStandard, reproduced for its error messages ---------

_CRON_BOUNDS = [  # (min, max, names) for minute, hour, day of month, month, day of week
    (0, 59, None),
    (0, 23, None),
    (1, 31, None),
    (1, 12, {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}),
    (0, 6, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}),
]
_CRON_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def parse_schedule_error(schedule: str) -> str | None:
    """None if ``cron.ParseStandard(schedule)`` succeeds, else its error text.

    Standard 5-field specs, ``?``, ranges, lists, steps, month/day names,
    descriptors and ``@every <duration>``, with ``TZ=``/``CRON_TZ=`` prefixes.
    Kept as one function so a full parser can replace it later.
    """
    spec = schedule
    if not spec:
        return "empty spec string"
    if spec.startswith("TZ=") or spec.startswith("CRON_TZ="):
        space, eq = spec.find(" "), spec.find("=")
        zone = spec[eq + 1 : space] if space > eq else spec[eq + 1 :]
        problem = load_location_error(zone)
        if problem is not None:
            return f"provided bad location {zone}: {problem}"
        spec = spec[space:].strip() if space > eq else ""
    if spec.startswith("@"):
        if spec in _CRON_DESCRIPTORS:
            return None
        if spec.startswith("@every "):
            problem = go_parse_duration_error(spec[len("@every ") :])
            return f"failed to parse duration {spec}: {problem}" if problem else None
        return f"unrecognized descriptor: {spec}"
    fields = spec.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    for text, (low, high, names) in zip(fields, _CRON_BOUNDS):
        for expr in [e for e in text.split(",") if e]:
            problem = _cron_range_error(expr, low, high, names)
            if problem:
                return problem
    return None


def _cron_range_error(expr: str, low: int, high: int, names) -> str | None:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start, problem = _cron_int_or_name(low_and_high[0], names)
        if problem:
            return problem
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end, problem = _cron_int_or_name(low_and_high[1], names)
            if problem:
                return problem
        else:
            return f"too many hyphens: {expr}"
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step, problem = _cron_int(range_and_step[1])
        if problem:
            return problem
        if single:
            end = high
    else:
        return f"too many slashes: {expr}"
    if start < low:
        return f"beginning of range ({start}) below minimum ({low}): {expr}"
    if end > high:
        return f"end of range ({end}) above maximum ({high}): {expr}"
    if start > end:
        return f"beginning of range ({start}) beyond end of range ({end}): {expr}"
    if step == 0:
        return f"step of range should be a positive number: {expr}"
    return None


def _cron_int_or_name(text: str, names):
    if names and text.lower() in names:
        return names[text.lower()], None
    return _cron_int(text)


def _cron_int(text: str):
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return 0, f"failed to parse int from {text}: strconv.Atoi: parsing {go_quote(text)}: invalid syntax"
    number = int(text)
    if not -(2**63) <= number < 2**63:
        return 0, f"failed to parse int from {text}: strconv.Atoi: parsing {go_quote(text)}: value out of range"
    if number < 0:
        return 0, f"negative number ({number}) not allowed: %!s(int={number})"
    return number, None


_DURATION_UNITS = {"ns", "us", "µs", "μs", "ms", "s", "m", "h"}


def go_parse_duration_error(text: str) -> str | None:
    """None if Go's time.ParseDuration accepts ``text``, else its error message."""
    original = text
    quoted = go_quote(original)
    if text[:1] in ("-", "+"):
        text = text[1:]
    if text == "0":
        return None
    if not text:
        return f"time: invalid duration {quoted}"
    while text:
        match = re.match(r"([0-9]*)(\.[0-9]*)?", text)
        digits, fraction = match.group(1), match.group(2) or ""
        if not digits and len(fraction) <= 1:
            return f"time: invalid duration {quoted}"
        text = text[match.end():]
        unit = re.match(r"[^0-9.]*", text).group(0)
        if not unit:
            return f"time: missing unit in duration {quoted}"
        if unit not in _DURATION_UNITS:
            return f"time: unknown unit {go_quote(unit)} in duration {quoted}"
        text = text[len(unit):]
    return None


# ---------------------------------------------------------------------------
# DaemonSet (pkg/apis/apps/validation)
# ---------------------------------------------------------------------------


def validate_daemon_set(daemon_set: dict) -> Errors:
    """ValidateDaemonSet (create)."""
    errs = validate_object_meta(daemon_set.get("metadata") or {}, True, name_is_dns_subdomain)
    errs += validate_daemon_set_spec(daemon_set.get("spec") or {}, "spec")
    return errs


def validate_daemon_set_update(new: dict, old: dict) -> Errors:
    """The strategy's ValidateUpdate: ValidateDaemonSet, ValidateDaemonSetUpdate, immutable selector (apps/v1)."""
    errs = validate_daemon_set(new)
    errs += validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs += validate_daemon_set_spec(new.get("spec") or {}, "spec")
    new_selector = (new.get("spec") or {}).get("selector")
    old_selector = (old.get("spec") or {}).get("selector")
    errs += validate_immutable_field(
        new_selector, old_selector, "spec.selector",
        value=label_selector_go_value(new_selector) if new_selector is not None else None,
    )
    return errs


def validate_daemon_set_spec(spec: dict, path: str) -> Errors:
    """ValidateDaemonSetSpec."""
    selector = spec.get("selector")
    errs = validate_label_selector(selector, _child(path, "selector"))
    template = spec.get("template") or {}
    template_labels = (template.get("metadata") or {}).get("labels")
    if selector_matches(selector, template_labels) is False:
        errs.append(
            fe.invalid(
                _child(path, "template", "metadata", "labels"),
                GoValue(go_sharp_v(template_labels, "map[string]string")),
                "`selector` does not match template `labels`",
            )
        )
    if selector is not None and not (selector.get("matchLabels") or selector.get("matchExpressions")):
        errs.append(fe.invalid(_child(path, "selector"), label_selector_go_value(selector), "empty selector is invalid for daemonset"))
    errs += validate_pod_template_spec(template, _child(path, "template"))
    pod_spec = template.get("spec") or {}
    restart_policy = pod_spec.get("restartPolicy") or ""
    if restart_policy != "Always":
        errs.append(fe.not_supported(_child(path, "template", "spec", "restartPolicy"), restart_policy, ["Always"]))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        errs.append(
            fe.forbidden(_child(path, "template", "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in DaemonSet is not Supported")
        )
    errs += validate_nonnegative_field(spec.get("minReadySeconds") or 0, _child(path, "minReadySeconds"))
    errs += validate_daemon_set_update_strategy(spec.get("updateStrategy") or {}, _child(path, "updateStrategy"))
    if spec.get("revisionHistoryLimit") is not None:
        errs += validate_nonnegative_field(spec["revisionHistoryLimit"], _child(path, "revisionHistoryLimit"))
    return errs


def validate_daemon_set_update_strategy(strategy: dict, path: str) -> Errors:
    strategy_type = strategy.get("type") or ""
    if strategy_type == "OnDelete":
        return []
    if strategy_type == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if rolling is None:
            return [fe.required(_child(path, "rollingUpdate"))]
        return validate_rolling_update_daemon_set(rolling, _child(path, "rollingUpdate"))
    rolling = strategy.get("rollingUpdate")
    rolling_text = "(*apps.RollingUpdateDaemonSet)(nil)" if rolling is None else "(*apps.RollingUpdateDaemonSet)(0xc000000000)"
    value = GoValue(f"apps.DaemonSetUpdateStrategy{{Type:{go_quote(strategy_type)}, RollingUpdate:{rolling_text}}}")
    return [fe.not_supported(path, value, ["RollingUpdate", "OnDelete"])]


def validate_rolling_update_daemon_set(rolling: dict, path: str) -> Errors:
    max_unavailable, max_surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    errs = validate_positive_int_or_percent(max_unavailable, _child(path, "maxUnavailable"))
    errs += validate_positive_int_or_percent(max_surge, _child(path, "maxSurge"))
    errs += is_not_more_than_100_percent(max_unavailable, _child(path, "maxUnavailable"))
    errs += is_not_more_than_100_percent(max_surge, _child(path, "maxSurge"))
    has_unavailable = _int_or_percent_value(max_unavailable) != 0
    has_surge = _int_or_percent_value(max_surge) != 0
    if has_unavailable and has_surge:
        errs.append(fe.invalid(_child(path, "maxSurge"), int_or_string_go_value(max_surge), "may not be set when maxUnavailable is non-zero"))
    elif not has_unavailable and not has_surge:
        errs.append(fe.required(_child(path, "maxUnavailable"), "cannot be 0 when maxSurge is 0"))
    return errs


def validate_positive_int_or_percent(value, path: str) -> Errors:
    if isinstance(value, str):
        return [fe.invalid(path, int_or_string_go_value(value), m) for m in is_valid_percent(value)]
    if _is_int(value) or value is None:
        return validate_nonnegative_field(value or 0, path)
    # Unreachable through JSON decoding; upstream's detail text really has a doubled '%'.
    return [fe.invalid(path, int_or_string_go_value(0), "must be an integer or percentage (e.g '5%%')")]


def _percent_value(value) -> int | None:
    if isinstance(value, str) and not is_valid_percent(value):
        return int(value[:-1])
    return None


def _int_or_percent_value(value) -> int:
    percent = _percent_value(value)
    if percent is not None:
        return percent
    if isinstance(value, str):  # IntOrString.IntValue(): Atoi of the string, 0 on failure
        return int(value) if re.fullmatch(r"[+-]?[0-9]+", value) else 0
    return value if _is_int(value) else 0


def is_not_more_than_100_percent(value, path: str) -> Errors:
    percent = _percent_value(value)
    if percent is None or percent <= 100:
        return []
    return [fe.invalid(path, int_or_string_go_value(value), "must not be greater than 100%")]


# ---------------------------------------------------------------------------
# Pod, Node, Namespace, Lease, ControllerRevision, Event
# ---------------------------------------------------------------------------


def validate_pod_create(pod: dict) -> Errors:
    """ValidatePodCreate: metadata, spec, and the Pod-only image whitespace rule."""
    errs = validate_object_meta(pod.get("metadata") or {}, True, name_is_dns_subdomain)
    spec = pod.get("spec") or {}
    errs += validate_pod_spec(spec, "spec", is_pod=True)
    for key in ("containers", "initContainers"):
        for i, container in enumerate(spec.get(key) or []):
            image = (container or {}).get("image") or ""
            if image != image.strip():
                errs.append(fe.invalid(_child(_index(_child("spec", key), i), "image"), image, "must not have leading or trailing whitespace"))
    return errs


_POD_UPDATABLE_FIELDS = (
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def validate_pod_update(new: dict, old: dict) -> Errors:
    """ValidatePodUpdate, simplified: only image, activeDeadlineSeconds and added tolerations may change.

    Upstream appends a cmp.Diff of the two specs to the Forbidden detail; we do not.
    """
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    new_spec, old_spec = dict(new.get("spec") or {}), dict(old.get("spec") or {})
    errs += validate_pod_spec(new_spec, "spec", is_pod=True)
    for spec in (new_spec, old_spec):
        spec.pop("activeDeadlineSeconds", None)
        spec.pop("tolerations", None)
        for key in ("containers", "initContainers"):
            spec[key] = [{k: v for k, v in (c or {}).items() if k != "image"} for c in spec.get(key) or []]
    old_tolerations = (old.get("spec") or {}).get("tolerations") or []
    new_tolerations = (new.get("spec") or {}).get("tolerations") or []
    for toleration in old_tolerations:
        stripped = {k: v for k, v in (toleration or {}).items() if k != "tolerationSeconds"}
        if not any({k: v for k, v in (t or {}).items() if k != "tolerationSeconds"} == stripped for t in new_tolerations):
            errs.append(fe.forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"))
            break
    if new_spec != old_spec:
        errs.append(fe.forbidden("spec", f"pod updates may not change fields other than {_POD_UPDATABLE_FIELDS}"))
    return errs


def validate_node(node: dict) -> Errors:
    """ValidateNode: name, taints (reported under metadata.taints, as upstream does), resources."""
    errs = validate_object_meta(node.get("metadata") or {}, False, name_is_dns_subdomain)
    taints = (node.get("spec") or {}).get("taints")
    if taints:
        errs += validate_node_taints(taints, "metadata.taints")
    errs += validate_node_resources(node)
    return errs


def validate_node_update(new: dict, old: dict) -> Errors:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs += validate_node_resources(new)
    taints = (new.get("spec") or {}).get("taints")
    if taints:
        errs += validate_node_taints(taints, "metadata.taints")
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    if old_spec.get("podCIDRs") and old_spec.get("podCIDRs") != new_spec.get("podCIDRs"):
        errs.append(fe.forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'))
    if old_spec.get("providerID") and old_spec.get("providerID") != new_spec.get("providerID"):
        errs.append(fe.forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid'))
    return errs


def validate_node_taints(taints, path: str) -> Errors:
    errs: Errors = []
    unique: dict[str, set] = {}
    for i, taint in enumerate(taints):
        taint = taint or {}
        idx_path = _index(path, i)
        key, value, effect = taint.get("key") or "", taint.get("value") or "", taint.get("effect") or ""
        errs += validate_label_name(key, _child(idx_path, "key"))
        msgs = is_valid_label_value(value)
        if msgs:
            errs.append(fe.invalid(_child(idx_path, "value"), value, ";".join(msgs)))
        errs += validate_taint_effect(effect, False, _child(idx_path, "effect"))
        if key in unique.get(effect, set()):
            go_value = GoValue(
                f"core.Taint{{Key:{go_quote(key)}, Value:{go_quote(value)}, Effect:{go_quote(effect)}, TimeAdded:<nil>}}"
            )
            errs.append(FieldError(fe.DUPLICATE, idx_path, "taints must be unique by key and effect pair", go_value))
            continue
        unique.setdefault(effect, set()).add(key)
    return errs


def validate_node_resources(node: dict) -> Errors:
    errs: Errors = []
    status = node.get("status") or {}
    for key in ("capacity", "allocatable"):
        for name, value in (status.get(key) or {}).items():
            errs += validate_resource_quantity_value(value, f"status.{key}.{name}")
    return errs


_STANDARD_FINALIZERS = {"kubernetes", "orphan", "foregroundDeletion"}


def validate_namespace(namespace: dict) -> Errors:
    """ValidateNamespace: DNS-1123 label name, finalizer names."""
    errs = validate_object_meta(namespace.get("metadata") or {}, False, name_is_dns_label)
    for finalizer in (namespace.get("spec") or {}).get("finalizers") or []:
        errs += validate_finalizer_name(finalizer, "spec.finalizers")
    return errs


def validate_finalizer_name(name: str, path: str) -> Errors:
    errs = [fe.invalid(path, name, m) for m in is_qualified_name(name)]
    if not errs and "/" not in name and name not in _STANDARD_FINALIZERS:
        errs.append(fe.invalid(path, name, "name is neither a standard finalizer name nor is it fully qualified"))
    return errs


def validate_lease(lease: dict) -> Errors:
    errs = validate_object_meta(lease.get("metadata") or {}, True, name_is_dns_subdomain)
    return errs + validate_lease_spec(lease.get("spec") or {})


def validate_lease_spec(spec: dict) -> Errors:
    errs: Errors = []
    duration = spec.get("leaseDurationSeconds")
    if _is_int(duration) and duration <= 0:
        errs.append(fe.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    if spec.get("leaseTransitions") is not None:
        errs += validate_nonnegative_field(spec["leaseTransitions"], "spec.leaseTransitions")
    return errs


def validate_controller_revision(revision: dict) -> Errors:
    errs = validate_object_meta(revision.get("metadata") or {}, True, name_is_dns_subdomain)
    if revision.get("data") is None:
        errs.append(fe.required("data", "data is mandatory"))
    errs += validate_nonnegative_field(revision.get("revision") or 0, "revision")
    return errs


def validate_event(event: dict) -> Errors:
    errs = validate_object_meta(event.get("metadata") or {}, True, name_is_dns_subdomain)
    return errs + validate_event_involved_object(event)


def validate_event_involved_object(event: dict) -> Errors:
    errs: Errors = []
    metadata = event.get("metadata") or {}
    involved_namespace = (event.get("involvedObject") or {}).get("namespace") or ""
    if involved_namespace and involved_namespace != (metadata.get("namespace") or ""):
        errs.append(fe.invalid("involvedObject.namespace", involved_namespace, "does not match event.namespace"))
    return errs


# ---------------------------------------------------------------------------
# The strategies' ValidateUpdate where it is more than one upstream function (``kinds.py`` names which kind uses
# which validator)
# ---------------------------------------------------------------------------


def validate_meta_update(new: dict, old: dict) -> Errors:
    """ValidateObjectMetaUpdate of two whole objects."""
    return validate_object_meta_update(new.get("metadata"), old.get("metadata"))


def validate_status_update(new: dict, old: dict) -> Errors:
    """A status strategy's ValidateUpdate, as far as it is modelled: the spec cannot change through /status (it is
    reset to the old one), so upstream validates the metadata update and the status (ValidateJobUpdateStatus,
    ValidatePodStatusUpdate...); status rules beyond the Node's resource quantities are not modelled."""
    return validate_meta_update(new, old)


def validate_node_strategy_update(new: dict, old: dict) -> Errors:
    """nodeStrategy.ValidateUpdate (and nodeStatusStrategy's here): ValidateNode, then ValidateNodeUpdate."""
    return validate_node(new) + validate_node_update(new, old)


def validate_namespace_strategy_update(new: dict, old: dict) -> Errors:
    """namespaceStrategy.ValidateUpdate: ValidateNamespace, then ValidateNamespaceUpdate (the metadata update)."""
    return validate_namespace(new) + validate_meta_update(new, old)


def validate_lease_update(new: dict, old: dict) -> Errors:
    """ValidateLeaseUpdate: the metadata update, then the spec."""
    return validate_meta_update(new, old) + validate_lease_spec(new.get("spec") or {})


def validate_controller_revision_update(new: dict, old: dict) -> Errors:
    """ValidateControllerRevisionUpdate: the metadata update, the revision, and data is immutable."""
    data = new.get("data")
    return (
        validate_meta_update(new, old)
        + validate_controller_revision(new)
        + validate_immutable_field(data, old.get("data"), "data",
                                   value=GoValue("runtime.RawExtension{...}") if data is not None else None)
    )


def validate_event_update(new: dict, old: dict) -> Errors:
    """ValidateEventUpdate, as far as it is modelled: the metadata update and the involved object's namespace."""
    return validate_meta_update(new, old) + validate_event_involved_object(new)


# ---------------------------------------------------------------------------
# ResourceQuota (ValidateResourceQuota, ValidateResourceQuotaUpdate, ValidateResourceQuotaStatusUpdate)
# ---------------------------------------------------------------------------

IS_INVALID_QUOTA_RESOURCE = "must be a standard resource for quota"
IS_NOT_INTEGER_ERROR_MSG = "must be an integer"

# pkg/apis/core/helper: the resource names known to the system, to quota, and measured in whole units.
_STANDARD_RESOURCES = {
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
    "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "resourcequotas", "services",
    "replicationcontrollers", "secrets", "configmaps", "persistentvolumeclaims", "storage", "requests.storage",
    "services.nodeports", "services.loadbalancers",
}
_STANDARD_QUOTA_RESOURCES = _STANDARD_RESOURCES - {"storage"}
_INTEGER_RESOURCES = {
    "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
}
_QUOTA_HUGE_PAGES_PREFIXES = ("hugepages-", "requests.hugepages-")
RESOURCE_QUOTA_SCOPES = ("Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass",
                         "CrossNamespacePodAffinity")
_POD_COMPUTE_QUOTA_RESOURCES = {"cpu", "memory", "limits.cpu", "limits.memory", "requests.cpu", "requests.memory"}
_SCOPE_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_CONFLICTING_SCOPES = (("BestEffort", "NotBestEffort"), ("Terminating", "NotTerminating"))


def is_standard_quota_resource_name(name: str) -> bool:
    """helper.IsStandardQuotaResourceName."""
    return name in _STANDARD_QUOTA_RESOURCES or name.startswith(_QUOTA_HUGE_PAGES_PREFIXES)


def _is_extended_resource_name(name: str) -> bool:
    """helper.IsExtendedResourceName: not native, no ``requests.`` prefix, and a qualified name as a quota
    resource."""
    if _is_native_resource(name) or name.startswith("requests."):
        return False
    return not is_qualified_name("requests." + name)


def _resource_name_value(name: str) -> GoValue:
    # core.ResourceName is a fmt.Stringer: field.Error prints it bare, not quoted.
    return GoValue(name)


def validate_resource_quota_resource_name(name: str, path: str) -> Errors:
    """ValidateResourceQuotaResourceName (validateResourceName first: a qualified name, and a standard resource
    unless it has a prefix)."""
    value = _resource_name_value(name)
    errs = [fe.invalid(path, value, m) for m in is_qualified_name(name)]
    if errs:
        return errs
    if "/" not in name and not (name in _STANDARD_RESOURCES or name.startswith(_QUOTA_HUGE_PAGES_PREFIXES)):
        errs.append(fe.invalid(path, value, "must be a standard resource type or fully qualified"))
    if "/" not in name and not is_standard_quota_resource_name(name):
        errs.append(fe.invalid(path, value, IS_INVALID_QUOTA_RESOURCE))
    return errs


def _validate_resource_list(resources, path: str) -> Errors:
    errs: Errors = []
    if not isinstance(resources, dict):
        return errs
    for name in sorted(resources):
        errs += validate_resource_quota_resource_name(name, _key(path, name))
        errs += validate_resource_quantity_value(resources[name], _key(path, name), name)
    return errs


def _scopes_value(scopes) -> GoValue:
    return GoValue("[]core.ResourceQuotaScope{" + ", ".join(go_quote(str(s)) for s in scopes) + "}"
                   if scopes is not None else "[]core.ResourceQuotaScope(nil)")


def _is_scope_valid_for_resource(scope: str, resource: str) -> bool:
    """helper.IsResourceQuotaScopeValidForResource."""
    if scope in ("Terminating", "NotTerminating", "NotBestEffort", "PriorityClass"):
        return resource == "pods" or resource in _POD_COMPUTE_QUOTA_RESOURCES
    if scope == "BestEffort":
        return resource == "pods"
    return True


def _validate_resource_quota_scopes(spec: dict, path: str) -> Errors:
    """validateResourceQuotaScopes: every scope known, valid for every standard resource of ``hard``, and no
    conflicting pair."""
    scopes = spec.get("scopes") or []
    if not scopes:
        return []
    errs: Errors = []
    hard = sorted((spec.get("hard") or {}).keys())
    field = _child(path, "scopes")
    seen = set()
    for scope in scopes:
        if scope not in RESOURCE_QUOTA_SCOPES:
            errs.append(fe.invalid(field, _scopes_value(scopes), "unsupported scope"))
        for name in hard:
            if is_standard_quota_resource_name(name) and not _is_scope_valid_for_resource(scope, name):
                errs.append(fe.invalid(field, _scopes_value(scopes), "unsupported scope applied to resource"))
        seen.add(scope)
    for pair in _CONFLICTING_SCOPES:
        if set(pair) <= seen:
            errs.append(fe.invalid(field, _scopes_value(scopes), "conflicting scopes"))
    return errs


def _scope_selector_value(selector: dict) -> GoValue:
    requirements = []
    for req in selector.get("matchExpressions") or []:
        values = req.get("values")
        shown = ("[]string{" + ", ".join(go_quote(str(v)) for v in values) + "}") if values is not None \
            else "[]string(nil)"
        requirements.append(
            f"core.ScopedResourceSelectorRequirement{{ScopeName:{go_quote(str(req.get('scopeName') or ''))}, "
            f"Operator:{go_quote(str(req.get('operator') or ''))}, Values:{shown}}}"
        )
    expressions = ("[]core.ScopedResourceSelectorRequirement{" + ", ".join(requirements) + "}"
                   if selector.get("matchExpressions") is not None else "[]core.ScopedResourceSelectorRequirement(nil)")
    return GoValue(f"&core.ScopeSelector{{MatchExpressions:{expressions}}}")


def _validate_scope_selector(spec: dict, path: str) -> Errors:
    """validateScopeSelector / validateScopedResourceSelectorRequirement."""
    selector = spec.get("scopeSelector")
    if not isinstance(selector, dict):
        return []
    errs: Errors = []
    hard = sorted((spec.get("hard") or {}).keys())
    field = _child(path, "scopeSelector", "matchExpressions")
    seen = set()
    for req in selector.get("matchExpressions") or []:
        req = req or {}
        scope, operator, values = req.get("scopeName") or "", req.get("operator") or "", req.get("values") or []
        if scope not in RESOURCE_QUOTA_SCOPES:
            errs.append(fe.invalid(_child(field, "scopeName"), scope, "unsupported scope"))
        for name in hard:
            if is_standard_quota_resource_name(name) and not _is_scope_valid_for_resource(scope, name):
                errs.append(fe.invalid(field, _scope_selector_value(selector), "unsupported scope applied to resource"))
        if scope in ("BestEffort", "NotBestEffort", "Terminating", "NotTerminating") and operator != "Exists":
            errs.append(fe.invalid(
                _child(field, "operator"), operator,
                "must be 'Exist' only operator when scope is any of ResourceQuotaScopeTerminating, "
                "ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort and "
                "ResourceQuotaScopeNotBestEffort"))
        if operator in ("In", "NotIn"):
            if not values:
                errs.append(fe.required(_child(field, "values"),
                                        "must be at least one value when `operator` is 'In' or 'NotIn' for scope "
                                        "selector"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.append(fe.invalid(_child(field, "values"),
                                       GoValue("[]string{" + ", ".join(go_quote(str(v)) for v in values) + "}"),
                                       "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope "
                                       "selector"))
        else:
            errs.append(fe.invalid(_child(field, "operator"), operator, "not a valid selector operator"))
        seen.add(scope)
    for pair in _CONFLICTING_SCOPES:
        if set(pair) <= seen:
            errs.append(fe.invalid(field, _scopes_value(spec.get("scopes")), "conflicting scopes"))
    return errs


def validate_resource_quota_spec(spec: dict, path: str = "spec") -> Errors:
    """ValidateResourceQuotaSpec: each hard limit's name and value, the scopes and the scope selector."""
    spec = spec or {}
    return (_validate_resource_list(spec.get("hard"), _child(path, "hard"))
            + _validate_resource_quota_scopes(spec, path) + _validate_scope_selector(spec, path))


def validate_resource_quota_status(status: dict, path: str = "status") -> Errors:
    """ValidateResourceQuotaStatus: the names and values of ``hard`` and ``used``."""
    status = status or {}
    return (_validate_resource_list(status.get("hard"), _child(path, "hard"))
            + _validate_resource_list(status.get("used"), _child(path, "used")))


def validate_resource_quota(quota: dict) -> Errors:
    """ValidateResourceQuota: a DNS-1123 subdomain name in a namespace, the spec, the status."""
    errs = validate_object_meta(quota.get("metadata") or {}, True, name_is_dns_subdomain)
    return errs + validate_resource_quota_spec(quota.get("spec") or {}) + validate_resource_quota_status(
        quota.get("status") or {})


def validate_resource_quota_update(new: dict, old: dict) -> Errors:
    """ValidateResourceQuotaUpdate: the metadata update, the spec, and the scopes may not change."""
    errs = validate_meta_update(new, old) + validate_resource_quota_spec(new.get("spec") or {})
    new_scopes = (new.get("spec") or {}).get("scopes")
    if set(new_scopes or []) != set((old.get("spec") or {}).get("scopes") or []):
        errs.append(fe.invalid("spec.scopes", _scopes_value(new_scopes), FIELD_IMMUTABLE_ERROR_MSG))
    return errs


def validate_resource_quota_status_update(new: dict, old: dict) -> Errors:
    """ValidateResourceQuotaStatusUpdate: the metadata update and the status's names and values."""
    errs = validate_meta_update(new, old)
    if not (new.get("metadata") or {}).get("resourceVersion"):
        errs.append(fe.required("resourceVersion"))
    return errs + validate_resource_quota_status(new.get("status") or {})
