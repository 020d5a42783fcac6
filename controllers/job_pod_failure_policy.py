"""Matching a failed pod against a Job's ``podFailurePolicy``: upstream ``pkg/controller/job/pod_failure_policy.go``.

The rules are tried in order; the first whose ``onExitCodes`` or ``onPodConditions`` requirement the pod meets
decides: ``FailJob`` fails the whole Job (with a message naming the container or condition), ``FailIndex`` fails
the pod's index (``backoffLimitPerIndex``), ``Ignore`` does not count the failure towards ``backoffLimit``,
``Count`` counts it as usual. A pod no rule matches counts as usual.
"""

from __future__ import annotations

from controllers.job_util import ACTION_COUNT, ACTION_FAIL_INDEX, ACTION_FAIL_JOB, ACTION_IGNORE
from controllers.objects import name as _name, namespace as _namespace, status as _status
from controllers.pods import CONDITION_TRUE


def match_pod_failure_policy(policy: dict | None, pod: dict) -> tuple[str | None, bool, str | None]:
    """Match a failed pod against the rules: (FailJob message or None, counts towards backoffLimit, action)."""
    if policy is None:
        return None, True, None
    namespace, name = _namespace(pod), _name(pod)
    for index, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action")
        if rule.get("onExitCodes") is not None:
            container_status = match_on_exit_codes(pod, rule["onExitCodes"])
            if container_status is None:
                continue
            if action == ACTION_FAIL_JOB:
                exit_code = container_status["state"]["terminated"].get("exitCode")
                return (
                    f"Container {container_status.get('name')} for pod {namespace}/{name} failed with exit code "
                    f"{exit_code} matching {action} rule at index {index}",
                    True,
                    ACTION_FAIL_JOB,
                )
        elif rule.get("onPodConditions") is not None:
            condition = match_on_pod_conditions(pod, rule["onPodConditions"])
            if condition is None:
                continue
            if action == ACTION_FAIL_JOB:
                return (
                    f"Pod {namespace}/{name} has condition {condition.get('type')} matching {action} rule "
                    f"at index {index}",
                    True,
                    ACTION_FAIL_JOB,
                )
        else:
            continue
        if action == ACTION_IGNORE:
            return None, False, ACTION_IGNORE
        if action == ACTION_FAIL_INDEX:
            return None, True, ACTION_FAIL_INDEX
        if action == ACTION_COUNT:
            return None, True, ACTION_COUNT
    return None, True, None


def match_on_exit_codes(pod: dict, requirement: dict) -> dict | None:
    """A terminated container status (containers first, then init containers) meeting the requirement."""
    status = _status(pod)
    container_status = get_matching_container_from_list(status.get("containerStatuses") or [], requirement)
    if container_status is not None:
        return container_status
    return get_matching_container_from_list(status.get("initContainerStatuses") or [], requirement)


def match_on_pod_conditions(pod: dict, patterns: list[dict]) -> dict | None:
    for condition in _status(pod).get("conditions") or []:
        for pattern in patterns:
            # The API server defaults a pattern's status to "True".
            if condition.get("type") == pattern.get("type") and condition.get("status") == (
                pattern.get("status") or CONDITION_TRUE
            ):
                return condition
    return None


def get_matching_container_from_list(container_statuses: list[dict], requirement: dict) -> dict | None:
    """The first terminated, non-zero-exit container status of the list that meets the requirement."""
    for container_status in container_statuses:
        terminated = (container_status.get("state") or {}).get("terminated")
        if terminated is None:
            continue  # still running or terminating: no exit code to match
        container_name = requirement.get("containerName")
        if container_name is not None and container_name != container_status.get("name"):
            continue
        exit_code = int(terminated.get("exitCode") or 0)
        if exit_code == 0:
            continue
        if is_on_exit_codes_operator_matching(exit_code, requirement):
            return container_status
    return None


def is_on_exit_codes_operator_matching(exit_code: int, requirement: dict) -> bool:
    values = [int(v) for v in requirement.get("values") or []]
    operator = requirement.get("operator")
    return (operator == "In" and exit_code in values) or (operator == "NotIn" and exit_code not in values)
