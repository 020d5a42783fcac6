// The page's state and the pure reducer that applies the live stream's messages to it.
//
// The server sends a snapshot, then events (kubeviz/live/consumers.py documents every message); the page keeps
// one state value and replaces it with reduce(state, message) for each message. reduce never mutates its input,
// so a renderer can compare old and new state by identity: a kind's map is a new object only when one of its
// objects changed. A "batch" frame carries several live messages; reducing it is reducing each of them in order
// (unbatch() lists them, for a caller that looks at every message).
//
// State:
//   resourceVersion  the last resourceVersion applied, as a string ("0" before the first snapshot); send it back
//                    as ?resourceVersion= when reconnecting
//   synced           true once a snapshot (or a resume) arrived
//   clock            {now, paused, speed} or null
//   objects          {Kind: {key: object}}, key = "namespace/name", or "name" for cluster-scoped objects (the
//                    key Kubernetes' own caches use); every object keeps its metadata.uid
//   traces           the newest reconcile traces, oldest first, at most MAX_TRACES
//   error            the last error message from the server, or null

export const MAX_TRACES = 500;

// The state before anything arrived: an empty map for each of `kinds`, the kinds the page shows (the server's
// resource table, handed to the page in its config).
export function initialState(kinds) {
  const objects = {};
  for (const kind of kinds) objects[kind] = {};
  return { resourceVersion: "0", synced: false, clock: null, objects, traces: [], error: null };
}

// The cache key of an object: "namespace/name", or "name" when it has no namespace.
export function objectKey(obj) {
  const meta = obj.metadata || {};
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

function rvNumber(rv) {
  return Number(rv || 0);
}

function tracePosition(trace) {
  return [trace.time || "", trace.sequence || 0];
}

function traceAfter(trace, last) {
  const [time, seq] = tracePosition(trace);
  const [lastTime, lastSeq] = tracePosition(last);
  return time > lastTime || (time === lastTime && seq > lastSeq);
}

function fromSnapshot(state, message) {
  const objects = {};
  for (const kind of Object.keys(state.objects)) objects[kind] = {};
  for (const [kind, items] of Object.entries(message.objects || {})) {
    const byKey = {};
    for (const obj of items) byKey[objectKey(obj)] = obj;
    objects[kind] = byKey;
  }
  return {
    ...state,
    resourceVersion: String(message.resourceVersion),
    synced: true,
    clock: message.clock,
    objects,
    traces: (message.traces || []).slice(-MAX_TRACES),
    error: null,
  };
}

function applyEvent(state, message) {
  // Already applied (a snapshot or an earlier event covered it): drop, as the server does.
  if (rvNumber(message.resourceVersion) <= rvNumber(state.resourceVersion)) return state;
  const key = objectKey(message.object);
  const current = state.objects[message.kind] || {};
  let next;
  if (message.event === "DELETED") {
    next = { ...current };
    delete next[key];
  } else {
    next = { ...current, [key]: message.object };
  }
  return {
    ...state,
    resourceVersion: String(message.resourceVersion),
    objects: { ...state.objects, [message.kind]: next },
  };
}

function appendTrace(state, trace) {
  const last = state.traces[state.traces.length - 1];
  if (last && !traceAfter(trace, last)) return state;
  const traces = state.traces.length >= MAX_TRACES
    ? [...state.traces.slice(state.traces.length - MAX_TRACES + 1), trace]
    : [...state.traces, trace];
  return { ...state, traces };
}

// reduce(state, message) -> the state after the message; state itself is left as it was.
export function reduce(state, message) {
  switch (message.type) {
    case "snapshot":
      return fromSnapshot(state, message);
    case "resume":
      // The server continues after the resourceVersion this state already has; only the clock is new.
      return { ...state, synced: true, clock: message.clock, error: null };
    case "event":
      return applyEvent(state, message);
    case "bookmark":
      if (rvNumber(message.resourceVersion) <= rvNumber(state.resourceVersion)) return state;
      return { ...state, resourceVersion: String(message.resourceVersion) };
    case "trace":
      return appendTrace(state, message.trace);
    case "clock":
      return { ...state, clock: message.clock };
    case "error":
      return { ...state, error: message.message };
    case "batch":
      return reduceAll(state, message.messages);
    default:
      return state; // a newer server's message this page does not know yet
  }
}

// Apply messages in order.
export function reduceAll(state, messages) {
  return messages.reduce(reduce, state);
}

// The messages one frame carries, in order: a batch's messages, or the message itself.
export function unbatch(frame) {
  return frame.type === "batch" ? frame.messages : [frame];
}

// Derived views for renderers. They read state and never change it.
export const selectors = {
  // Objects of one kind, sorted by key (namespace, then name).
  list(state, kind) {
    const byKey = state.objects[kind] || {};
    return Object.keys(byKey).sort().map((key) => byKey[key]);
  },

  get(state, kind, key) {
    return (state.objects[kind] || {})[key];
  },

  // {nodeName: [pods]} with every node present (maybe with no pods); pods not yet scheduled are under "".
  podsByNode(state) {
    const groups = {};
    for (const node of selectors.list(state, "Node")) groups[node.metadata.name] = [];
    for (const pod of selectors.list(state, "Pod")) {
      const nodeName = (pod.spec && pod.spec.nodeName) || "";
      (groups[nodeName] ||= []).push(pod);
    }
    return groups;
  },

  // Objects of `kind` whose ownerReferences name the owner's uid (a Job's pods, a CronJob's Jobs...).
  ownedBy(state, kind, ownerUid) {
    return selectors.list(state, kind).filter((obj) =>
      (obj.metadata.ownerReferences || []).some((ref) => ref.uid === ownerUid));
  },

  // The object with this uid, of any kind, as {kind, object}; undefined when there is none.
  byUid(state, uid) {
    for (const kind of Object.keys(state.objects)) {
      for (const obj of Object.values(state.objects[kind])) {
        if (obj.metadata && obj.metadata.uid === uid) return { kind, object: obj };
      }
    }
    return undefined;
  },

  // Events about one object (by uid), oldest first.
  eventsFor(state, uid) {
    return selectors.list(state, "Event")
      .filter((ev) => ev.involvedObject && ev.involvedObject.uid === uid)
      .sort((a, b) => String(a.lastTimestamp || "").localeCompare(String(b.lastTimestamp || "")));
  },

  // Traces of one controller and/or one object key ("namespace/name"), oldest first.
  tracesFor(state, { controller, object } = {}) {
    return state.traces.filter((t) =>
      (!controller || t.controller === controller) && (!object || t.object === object));
  },
};
