"""The ResourceQuota admission plugin (``k8s.io/apiserver/pkg/admission/plugin/resourcequota``).

Every create of a namespaced object goes through it after validation, as a validating admission plugin does: the
quotas of the namespace that enforce something the object uses are charged, and a create that would take any of
them past ``status.hard`` is refused with 403 and upstream's message::

    pods "pi-x7k2p" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2

A pod in a namespace whose quota tracks cpu or memory must also say how much it asks for
(``failed quota: q: must specify requests.cpu for: pi``). What a create costs, and which quota it concerns, is
``controllers.quota``'s (the evaluators the resource quota controller shares). Updates are not charged: the pod
evaluator handles only creates (a pod's resources cannot change), and the object count evaluators only count.

A quota the resource quota controller has not synced yet (no ``status.hard``) enforces nothing, as upstream's,
which reads ``status.hard`` and ``status.used``, never ``spec.hard``. A dry run is checked but charges nothing.
"""

from __future__ import annotations

import json
from datetime import datetime

from controllers.client import APIResource
from controllers.quota import (
    Evaluator,
    ResourceList,
    add,
    evaluators_for,
    format_resource_list,
    is_negative,
    less_than_or_equal,
    mask,
    parse_resource_list,
    pretty_print,
    pretty_print_resource_names,
    remove_zeros,
)

from . import errors
from .kinds import RESOURCE_TYPES, resource_for_kind
from .resources import ResourceType

RESOURCE_QUOTA = resource_for_kind("", "ResourceQuota")
NAMESPACE = resource_for_kind("", "Namespace")

#: The quota registry of every kind served (upstream builds object count evaluators as requests come in).
EVALUATORS: dict[str, Evaluator] = evaluators_for(
    APIResource(r.group, r.plural, r.kind, r.namespaced) for r in RESOURCE_TYPES)


class HardLimitsError(ValueError):
    """Limits written by hand (a setting, a teacher's form) that the API server would refuse as ``spec.hard``."""


def parse_hard_limits(raw: str) -> dict[str, str]:
    """A ResourceQuota's ``spec.hard`` written by hand: ``pods=10,requests.cpu=2`` (``kubectl create quota
    --hard``'s form) or a JSON object; empty means none. Checked as the API server checks ``spec.hard``."""
    raw = (raw or "").strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        try:
            hard = json.loads(raw)
        except ValueError as error:
            raise HardLimitsError(f"is not a JSON object: {error}") from None
        if not isinstance(hard, dict):
            raise HardLimitsError("must be a JSON object of resource names and quantities")
        hard = {str(key): str(value) for key, value in hard.items()}
    else:
        hard = {}
        for item in raw.split(","):
            key, sep, value = item.strip().partition("=")
            if not sep or not key.strip() or not value.strip():
                raise HardLimitsError(f"must be resource=quantity pairs separated by commas, got {item.strip()!r}")
            hard[key.strip()] = value.strip()
    from .schema import QuantityError, parse_quantity
    from .validation import validate_resource_quota_spec

    problems = [str(error) for error in validate_resource_quota_spec({"hard": hard})]
    for key, value in hard.items():
        try:
            parse_quantity(value)
        except QuantityError as error:
            problems.append(f"spec.hard[{key}]: {error}")
    if problems:
        raise HardLimitsError("is not a valid quota: " + ", ".join(problems))
    return hard


class QuotaExceeded(Exception):
    """The plugin refuses the request; ``str()`` is the reason NewForbidden wraps."""


def check_request(quotas: list[dict], evaluator: Evaluator, obj: dict,
                  now: datetime) -> list[tuple[dict, ResourceList]]:
    """``CheckRequest`` for a create: the quotas whose usage it changes, each with its new ``status.used``.

    Raises :class:`QuotaExceeded` when a matching quota's constraints refuse the object (``failed quota``), when
    a matching quota has no usage recorded for what it enforces (``status unknown for quota``), or when the
    object would take a quota past one of its limits (``exceeded quota``)."""
    interesting = []
    for quota in quotas:
        if not evaluator.matches(quota, obj):
            continue
        status = quota.get("status") or {}
        hard_names = list((status.get("hard") or {}).keys())
        restricted = evaluator.matching_resources(hard_names)
        problem = evaluator.constraints(restricted, obj)
        name = quota["metadata"]["name"]
        if problem:
            raise QuotaExceeded(f"failed quota: {name}: {problem}")
        used = status.get("used") or {}
        if any(resource in restricted and resource not in used for resource in hard_names):
            raise QuotaExceeded(f"status unknown for quota: {name}, resources: "
                                f"{pretty_print_resource_names(restricted)}")
        interesting.append(quota)
    if not interesting:
        return []
    usage = evaluator.usage(obj, now)
    negative = is_negative(usage)
    if negative:
        raise QuotaExceeded(f"quota usage is negative for resource(s): {pretty_print_resource_names(negative)}")
    delta = remove_zeros(usage)
    if not delta:
        return []
    charged = []
    for quota in interesting:
        status = quota.get("status") or {}
        hard = parse_resource_list(status.get("hard"))
        used = parse_resource_list(status.get("used"))
        requested = mask(delta, hard)
        new_used = add(used, requested)
        allowed, exceeded = less_than_or_equal(mask(new_used, requested), hard)
        if not allowed:
            raise QuotaExceeded(
                f"exceeded quota: {quota['metadata']['name']}, requested: {pretty_print(mask(requested, exceeded))}, "
                f"used: {pretty_print(mask(used, exceeded))}, limited: {pretty_print(mask(hard, exceeded))}")
        if requested:
            charged.append((quota, new_used))
    return charged


def admit_create(storage, resource: ResourceType, namespace: str, obj: dict) -> list[tuple[dict, ResourceList]]:
    """The plugin's ``Validate`` for a create of ``obj`` (defaulted, prepared, validated, named): 403 Forbidden,
    or the charges to write with :func:`charge` once the create goes ahead (none for a dry run)."""
    if not resource.namespaced or resource is NAMESPACE:
        return []
    evaluator = EVALUATORS.get(resource.kind)
    if evaluator is None:
        return []
    quotas, _ = storage.list(RESOURCE_QUOTA, namespace)
    if not quotas:
        return []
    try:
        return check_request(quotas, evaluator, obj, storage.now())
    except QuotaExceeded as refused:
        raise errors.forbidden(resource, (obj.get("metadata") or {}).get("name") or "", str(refused)) from None


def charge(storage, charges: list[tuple[dict, ResourceList]]) -> None:
    """Write each charged quota's new ``status.used`` (the plugin's ``UpdateQuotaStatus``), before the object
    itself is stored."""
    for quota, used in charges:
        status = dict(quota.get("status") or {}, used=format_resource_list(used))
        storage.update(RESOURCE_QUOTA, dict(quota, status=status), quota["metadata"]["resourceVersion"])


__all__ = ["EVALUATORS", "QuotaExceeded", "admit_create", "charge", "check_request"]
