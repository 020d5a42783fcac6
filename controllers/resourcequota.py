"""The resource quota controller (``pkg/controller/resourcequota/resource_quota_controller.go``).

It keeps each ResourceQuota's status true: ``status.hard`` mirrors ``spec.hard``, and ``status.used`` is
recalculated from the objects of the quota's namespace (``syncResourceQuota`` / ``quota.CalculateUsage``). Between
its syncs the ResourceQuota admission plugin of the API server adds each admitted create to ``status.used`` itself;
the controller is what brings usage back down ("replenishment") when a pod finishes or an object is deleted, and
what fills in a new quota's status. Until it has, a quota enforces nothing: the admission plugin reads
``status.hard``, not ``spec.hard``, as upstream's does.

Wake-ups (upstream's informer handlers and its QuotaMonitor):

* a quota added, or updated with a different ``spec.hard`` (status writes alone do not wake it);
* replenishment: a pod that stops being charged (it finished: ``QuotaV1Pod`` turned false) or any counted object
  deleted, for the quotas of that namespace that track what it used;
* here, where upstream relies on a full resync every 5 minutes: the moment a terminating pod outlives its grace
  period and stops being charged, so that such a pod leaves ``status.used`` on time.

``sync_resource_quota`` is pure: the manager (``controllers.manager.ResourceQuotaController``) computes the
namespace's usage with ``controllers.quota`` and hands it over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

from .apimachinery.quantity import Quantity
from .objects import meta as _meta, status as _status
from .plan import SyncResult, Trace
from .quota import equals, format_resource_list, mask, parse_resource_list, pretty_print

CONTROLLER = "resourcequota"


def sync_resource_quota(quota: Mapping, usage: Mapping[str, Quantity], now: datetime, *,
                        requeue_after: float | None = None, trigger: str = "") -> SyncResult:
    """``syncResourceQuota``: the status the quota should have, given the namespace's ``usage`` of the resources
    its ``spec.hard`` names (``quota.CalculateUsage``); ``None`` as the status when it already has it.

    Like upstream, usage the evaluators cannot calculate keeps its last observed value, and ``used`` holds only
    the resources of ``hard``."""
    meta = _meta(quota)
    key = f"{meta.get('namespace') or 'default'}/{meta.get('name') or ''}"
    spec_hard = parse_resource_list((quota.get("spec") or {}).get("hard"))
    status = _status(quota)
    status_hard = parse_resource_list(status.get("hard"))
    status_used = parse_resource_list(status.get("used"))
    first_sync = status.get("hard") is None or status.get("used") is None
    dirty = first_sync or not equals(spec_hard, status_hard)

    used = dict(status_used)
    used.update(usage)
    used = mask(used, spec_hard)
    dirty = dirty or not equals(used, status_used)

    observed = f"hard {pretty_print(spec_hard) or '(nothing)'}; used {pretty_print(used) or '(nothing)'}"
    new_status = None
    if dirty:
        new_status = {"hard": format_resource_list(spec_hard), "used": format_resource_list(used)}
        if first_sync:
            decision = "first sync: write status.hard and status.used, from now on the quota is enforced"
        elif not equals(spec_hard, status_hard):
            decision = f"spec.hard changed (status.hard was {pretty_print(status_hard) or 'empty'}): write status"
        else:
            decision = f"usage changed (status.used was {pretty_print(status_used) or 'empty'}): write status"
    else:
        decision = "status.hard and status.used are current: nothing to write"
    actions = ()
    if requeue_after is not None:
        decision += f"; look again in {requeue_after:g}s, when a terminating pod outlives its grace period"
    trace = Trace(CONTROLLER, key, trigger or "quota added or changed, or an object it counts went away",
                  observed, decision, actions)
    return SyncResult(actions, new_status, requeue_after, trace)
