// Facts the views derive from the objects: who owns a pod, which DaemonSet revision is current, when a pod's
// life reached each stage. Pure functions of the state.

import { controllerOf, parseTime, podStatusText, statusFamily } from "./kube.js";

export const REVISION_HASH_LABEL = "controller-revision-hash";

/** {DaemonSet uid: {hash, revision, name}} — each DaemonSet's newest ControllerRevision (its update revision). */
export function currentRevisions(state) {
  const current = {};
  for (const rev of Object.values(state.objects.ControllerRevision || {})) {
    const ref = controllerOf(rev);
    if (!ref) continue;
    const number = Number(rev.revision || 0);
    const known = current[ref.uid];
    if (!known || number > known.revision) {
      const hash = rev.metadata?.labels?.[REVISION_HASH_LABEL] || rev.metadata?.name?.split("-").pop();
      current[ref.uid] = { hash, revision: number, name: rev.metadata.name };
    }
  }
  return current;
}

/** Everything a pod tile shows, from the pod and the DaemonSets' current revisions. */
export function podInfo(pod, revisions) {
  const md = pod.metadata || {};
  const status = podStatusText(pod);
  const owner = controllerOf(pod);
  const hash = md.labels?.[REVISION_HASH_LABEL] || "";
  let revision = "";
  if (owner && owner.kind === "DaemonSet" && hash) {
    const current = revisions[owner.uid];
    revision = current ? (current.hash === hash ? "new" : "old") : "";
  }
  let restarts = 0;
  for (const cs of pod.status?.containerStatuses || []) restarts += cs.restartCount || 0;
  return {
    uid: md.uid,
    key: md.namespace ? `${md.namespace}/${md.name}` : md.name,
    name: md.name,
    namespace: md.namespace || "",
    node: pod.spec?.nodeName || "",
    owner: owner ? { kind: owner.kind, name: owner.name, uid: owner.uid } : null,
    ownerKey: owner ? `${owner.kind}/${md.namespace || ""}/${owner.name}` : "none",
    status,
    family: statusFamily(status),
    hash,
    revision,
    restarts,
    deleting: !!md.deletionTimestamp,
  };
}

/** When a pod's life reached each stage (epoch ms or null): created, scheduled, started, finished. */
export function podTimeline(pod) {
  const status = pod.status || {};
  const scheduled = (status.conditions || []).find((c) => c.type === "PodScheduled" && c.status === "True");
  let started = null;
  let finished = null;
  let allTerminated = (status.containerStatuses || []).length > 0;
  for (const cs of status.containerStatuses || []) {
    const state = cs.state || {};
    const run = state.running?.startedAt || state.terminated?.startedAt || cs.lastState?.terminated?.startedAt;
    const s = parseTime(run);
    if (s !== null && (started === null || s < started)) started = s;
    const f = parseTime(state.terminated?.finishedAt);
    if (f === null) allTerminated = false;
    else if (finished === null || f > finished) finished = f;
  }
  if (!allTerminated) finished = null;
  return {
    created: parseTime(pod.metadata?.creationTimestamp),
    scheduled: parseTime(scheduled?.lastTransitionTime),
    started,
    finished,
    deleted: parseTime(pod.metadata?.deletionTimestamp),
  };
}

/** Node-name order people expect: control plane first, then node-2 before node-10. */
export function compareNodeNames(a, b) {
  return a.localeCompare(b, undefined, { numeric: true });
}

export function isControlPlane(node) {
  return Object.prototype.hasOwnProperty.call(node.metadata?.labels || {}, "node-role.kubernetes.io/control-plane");
}

/** Objects of `kind` controlled by the owner with `uid`. */
export function ownedBy(state, kind, uid) {
  return Object.values(state.objects[kind] || {}).filter((obj) => controllerOf(obj)?.uid === uid);
}

/** Events about the object with `uid`, newest last. */
export function eventsAbout(state, uid) {
  return Object.values(state.objects.Event || {})
    .filter((ev) => ev.involvedObject?.uid === uid)
    .sort((a, b) => eventTime(a) - eventTime(b));
}

export function eventTime(ev) {
  return parseTime(ev.lastTimestamp) ?? parseTime(ev.eventTime) ?? parseTime(ev.firstTimestamp) ?? 0;
}
