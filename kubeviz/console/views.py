"""``POST /sim/clusters/<name>/console``: the dashboard's kubectl console.

The learner types a kubectl command line; the server runs the real kubectl binary (``settings.KUBEVIZ_KUBECTL``)
against its own cluster URL, so printers and error texts are exactly a real cluster's. Request (``application/json``)
``{"command": "kubectl get pods -o wide", "stdin": "..."}``, answer ``{"stdout", "stderr", "exitCode"}`` (plus
``note`` when the console stopped a watch or cut the output). A line the console will not run is answered at once
as kubectl answers an error (exit code 1, the reason on stderr); one over the limit of commands running, likewise
with status 429. In classroom mode kubectl reaches the cluster through the caller's capability (``/k/<token>``),
the only way in: whatever flags are typed, it reaches no other cluster.
"""

from datetime import datetime, timedelta, timezone

from asgiref.sync import sync_to_async

from controllers.apimachinery.timeutil import format_rfc3339

from apiserver import errors
from apiserver.manifests import load_json
from kubeviz.api.views import JSON, json_response, request_body, status_response
from kubeviz.classroom.access import classroom_mode, kube_api_prefix
from kubeviz.store.models import Cluster

from .commands import Refused, parse
from .runner import TIMEOUT_SECONDS, WATCH_SECONDS, Busy, run_kubectl, slot

#: ``describe`` prints the ages of events from the computer's clock, as real kubectl does (the server's Tables use
#: the simulated clock). When the two are apart the console says so.
CLOCK_NOTE_AFTER = timedelta(minutes=1)
DESCRIBE_AGES_NOTE = ("(kubectl describe works out the ages of Events from this computer's clock, but this cluster's "
                      "simulated clock reads {now}: those ages are off. `kubectl get events` shows them in "
                      "simulated time.)")


def _self_url(request, prefix: str) -> str:
    """This server's own address: the socket Daphne listens on (loopback for a wildcard bind), else the Host;
    then the cluster's API ``prefix``."""
    host, port = request.META.get("SERVER_NAME", ""), str(request.META.get("SERVER_PORT", ""))
    if host in ("", "unknown") or not port.isdigit() or port == "0":
        return f"{request.scheme}://{request.get_host()}{prefix}"
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"{request.scheme}://{host}:{port}{prefix}"


def _body(request) -> dict:
    try:
        body = load_json(request_body(request, (JSON,)) or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise errors.bad_request("request body must be a JSON object")
    unknown = sorted(set(body) - {"command", "stdin"})
    if unknown:
        raise errors.bad_request(f"unknown field(s): {', '.join(unknown)}")
    for field in ("command", "stdin"):
        if body.get(field) is not None and not isinstance(body[field], str):
            raise errors.StatusError(422, "Invalid", f"{field}: must be a string", {})
    return body


def _refusal(message: str, status: int = 200):
    return json_response({"stdout": "", "stderr": f"{message}\n", "exitCode": 1}, status=status)


async def console(request, cluster):
    try:
        if request.method != "POST":
            raise errors.method_not_supported("console", request.method.lower())
        body = _body(request)
        sim_now = await sync_to_async(_sim_now)(cluster)
        # The cluster's API as the caller reaches it: /clusters/<name>, or their capability in classroom mode.
        prefix = await sync_to_async(_api_prefix)(request, cluster) if sim_now is not None else ""
        if sim_now is None:
            raise errors.StatusError(404, "NotFound", f'clusters "{cluster}" not found',
                                     {"name": cluster, "kind": "clusters"})
    except errors.StatusError as error:
        return status_response(error)
    try:
        command = parse(body.get("command") or "", cluster=cluster, prefix=prefix)
    except Refused as refused:
        return _refusal(str(refused))
    if not command.args:
        return json_response({"stdout": "", "stderr": "", "exitCode": 0})
    try:
        with slot(cluster):
            result = await run_kubectl(command.args, server=_self_url(request, prefix), stdin=body.get("stdin"),
                                       window=WATCH_SECONDS if command.streaming else TIMEOUT_SECONDS)
    except Busy as busy:
        return _refusal(str(busy), status=429)
    if command.args[0] == "describe" and abs(datetime.now(timezone.utc) - sim_now) > CLOCK_NOTE_AFTER:
        note = DESCRIBE_AGES_NOTE.format(now=format_rfc3339(sim_now))
        result["note"] = f"{result['note']} {note}" if result.get("note") else note
    return json_response(result)


def _api_prefix(request, cluster: str) -> str:
    if not classroom_mode():
        return f"/clusters/{cluster}"
    return kube_api_prefix(request.kubeviz_principal, request.kubeviz_cluster)


def _sim_now(cluster: str) -> datetime | None:
    return Cluster.objects.filter(name=cluster).values_list("sim_now", flat=True).first()
