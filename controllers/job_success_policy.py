"""A Job's ``successPolicy``: upstream ``pkg/controller/job/success_policy.go``.

An Indexed Job may declare itself successful before all its indexes succeed: the first rule whose
``succeededIndexes`` (all of them, or ``succeededCount`` of them) or bare ``succeededCount`` is met gives the Job
the ``SuccessCriteriaMet`` condition (reason ``SuccessPolicy``, message ``Matched rules at index N``); the Job is
``Complete`` once its remaining pods are gone. ``SuccessCriteriaMet`` is also the interim condition of every Job
that reaches its completions (reason ``CompletionsReached``).
"""

from __future__ import annotations

from controllers.job_indexed import Intervals, intervals_total, parse_indexes_from_string
from controllers.job_util import JOB_SUCCESS_CRITERIA_MET, find_condition_by_type
from controllers.objects import status as _status
from controllers.pods import CONDITION_TRUE

JOB_MESSAGE_SUCCESS_POLICY_PREFIX = "Matched rules at index"


def match_success_policy(policy: dict | None, completions: int, succeeded: Intervals) -> tuple[str, bool]:
    """("Matched rules at index N", True) for the first satisfied rule, else ("", False)."""
    if policy is None or not succeeded:
        return "", False
    for index, rule in enumerate(policy.get("rules") or []):
        count = rule.get("succeededCount")
        if rule.get("succeededIndexes") is not None:
            required = parse_indexes_from_string(rule["succeededIndexes"], completions)
            if not required:
                continue
            if match_succeeded_indexes_rule(required, succeeded, None if count is None else int(count)):
                return f"{JOB_MESSAGE_SUCCESS_POLICY_PREFIX} {index}", True
        elif count is not None and intervals_total(succeeded) >= int(count):
            return f"{JOB_MESSAGE_SUCCESS_POLICY_PREFIX} {index}", True
    return "", False


def has_success_criteria_met_condition(job: dict) -> dict | None:
    """The Job's ``SuccessCriteriaMet=True`` condition, if it has one."""
    condition = find_condition_by_type(_status(job).get("conditions") or [], JOB_SUCCESS_CRITERIA_MET)
    return condition if condition is not None and condition.get("status") == CONDITION_TRUE else None


def is_success_criteria_met_condition(condition: dict | None) -> bool:
    return (
        condition is not None
        and condition.get("type") == JOB_SUCCESS_CRITERIA_MET
        and condition.get("status") == CONDITION_TRUE
    )


def match_succeeded_indexes_rule(rule_indexes: Intervals, succeeded: Intervals, succeeded_count: int | None) -> bool:
    contains = sum(
        max(0, min(r_last, s_last) - max(r_first, s_first) + 1)
        for r_first, r_last in rule_indexes
        for s_first, s_last in succeeded
    )
    return contains == intervals_total(rule_indexes) or (succeeded_count is not None and contains >= succeeded_count)
