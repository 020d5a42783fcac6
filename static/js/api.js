// The HTTP side of the page: the simulator's /sim endpoints and the cluster's Kubernetes API.
// Every call answers parsed JSON (or text) and throws an Error carrying the Status message on failure.

import { csrfHeader } from "./dom.js";

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function send(url, { method = "GET", body, contentType, text = false, auth = {}, extra = {} } = {}) {
  const headers = { ...auth, ...extra, ...(method === "GET" ? {} : csrfHeader()) };
  if (body !== undefined) headers["Content-Type"] = contentType || "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  if (text && response.ok) return response.text();
  const raw = await response.text();
  let parsed = null;
  try {
    parsed = raw ? JSON.parse(raw) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok && !(parsed && parsed.kind === "ApplyResult")) {
    const message = parsed?.message || parsed?.status?.message || raw || `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status, parsed);
  }
  return parsed;
}

export function createApi(config) {
  const sim = config.sim;
  const kube = config.api;
  // A read-only view sends every request with its read-only capability: the server refuses it any write.
  const auth = config.bearer ? { Authorization: `Bearer ${config.bearer}` } : {};
  const request = (url, options = {}) => send(url, { ...options, auth });
  // Each kind's API path, plural and scope: the server's resource table, from the page's config.
  const kinds = Object.fromEntries(config.kinds.map((k) => [k.kind, k]));

  function objectPath(kind, namespace, name) {
    const { path, plural, namespaced } = kinds[kind];
    const ns = namespaced ? `/namespaces/${encodeURIComponent(namespace || "default")}` : "";
    return `${kube}/${path}${ns}/${plural}${name ? "/" + encodeURIComponent(name) : ""}`;
  }

  const query = (params) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {})) if (value !== undefined && value !== null) search.set(key, value);
    const text = search.toString();
    return text ? `?${text}` : "";
  };

  return {
    objectPath,
    // The cluster's change log (after, limit, continue; kind, namespace, name for one object's revisions).
    history: (params) => request(`${sim}/history${query(params)}`),
    // The controllers' persisted reconcile traces (from, to: RFC 3339 simulated times; controller, object, limit).
    traces: (params) => request(`${sim}/traces${query(params)}`),
    clock: () => request(`${sim}/clock`),
    setClock: (changes) => request(`${sim}/clock`, { method: "PATCH", body: changes }),
    advance: (seconds) => request(`${sim}/clock/advance`, { method: "POST", body: { seconds } }),
    cancelAdvance: () => request(`${sim}/clock/advance`, { method: "DELETE" }),
    step: () => request(`${sim}/clock/step`, { method: "POST" }),
    // door: "editor" or "upload", which the server records as who wrote the objects
    apply: (yaml, { dryRun = false, door = "editor" } = {}) =>
      request(`${sim}/apply${dryRun ? "?dryRun=All" : ""}`,
        { method: "POST", body: yaml, contentType: "application/yaml", extra: { "X-Kubeviz-Door": door } }),
    fork: (body = {}) => request(`${sim}/fork`, { method: "POST", body }),
    importRecording: (text, name) =>
      request(`/sim/recordings?name=${encodeURIComponent(name)}`, { method: "POST", body: text }),
    addNode: (node) => request(`${sim}/nodes`, { method: "POST", body: node }),
    nodeHealth: (name, action) => request(`${sim}/nodes/${encodeURIComponent(name)}/${action}`, { method: "POST" }),
    patch: (kind, namespace, name, patch) =>
      request(objectPath(kind, namespace, name), { method: "PATCH", body: patch, contentType: "application/merge-patch+json" }),
    remove: (kind, namespace, name, propagationPolicy) =>
      request(objectPath(kind, namespace, name) + (propagationPolicy ? `?propagationPolicy=${propagationPolicy}` : ""),
        { method: "DELETE" }),
    log: (namespace, pod, container) =>
      request(`${objectPath("Pod", namespace, pod)}/log${container ? `?container=${encodeURIComponent(container)}` : ""}`,
        { text: true }),
  };
}
