// What kubectl prints, computed in the browser from the objects the websocket delivers.
//
// The server's printers (apiserver/printers.py, after upstream printers.go) decide what `kubectl get`
// shows; this module is their port, cell for cell, so that every table and every pod tile on the page reads
// exactly like `kubectl get` at the same simulated moment. The browser test compares both on live data.
// Pure functions: `now` (epoch milliseconds of simulated time) is always an argument.

// Go's zero time.Time (0001-01-01T00:00:00Z) in epoch milliseconds: upstream's "unset".
const GO_ZERO = -62135596800000;

/** Parse an RFC 3339 timestamp into epoch milliseconds; null when unset. */
export function parseTime(value) {
  if (!value) return null;
  const t = Date.parse(value);
  if (Number.isNaN(t) || value.startsWith("0001-01-01")) return null;
  return t;
}

/** `duration.HumanDuration` (kubectl's AGE), from milliseconds. */
export function humanDuration(ms) {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(ms / 60000);
  if (minutes < 10) {
    const s = Math.floor(ms / 1000) % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(ms / 3600000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    const d = Math.floor(hours / 24);
    return h === 0 ? `${d}d` : `${d}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    const years = Math.floor(hours / 24 / 365);
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** `translateTimestampSince`: the age of a timestamp, `<unknown>` when unset. */
export function since(value, now) {
  const t = parseTime(value);
  return t === null ? "<unknown>" : humanDuration(now - t);
}

const meta = (obj) => obj?.metadata || {};
const age = (obj, now) => since(meta(obj).creationTimestamp, now);

// --- pods (controllers/pods.py `_pod_columns`, printers.go printPod) -----------------------------------------

function condition(pod, type) {
  return (pod.status?.conditions || []).find((c) => c.type === type) || null;
}

export function isPodReady(pod) {
  return condition(pod, "Ready")?.status === "True";
}

function podColumns(pod) {
  const spec = pod.spec || {};
  const status = pod.status || {};
  const md = meta(pod);
  let restarts = 0;
  let restartableInitRestarts = 0;
  let total = (spec.containers || []).length;
  let ready = 0;
  let lastRestart = null;
  let lastRestartableInitRestart = null;
  const phase = status.phase || "";
  let reason = status.reason || phase;
  for (const c of status.conditions || []) {
    if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
  }
  const initContainers = new Map((spec.initContainers || []).map((c) => [c.name, c]));
  const restartable = (c) => !!c && c.restartPolicy === "Always";
  total += (spec.initContainers || []).filter(restartable).length;
  const later = (current, cs) => {
    const terminated = cs.lastState?.terminated;
    if (!terminated) return current;
    const finished = parseTime(terminated.finishedAt) ?? GO_ZERO;
    return current === null || current < finished ? finished : current;
  };

  let initializing = false;
  const initStatuses = status.initContainerStatuses || [];
  for (let index = 0; index < initStatuses.length; index++) {
    const cs = initStatuses[index];
    restarts += cs.restartCount || 0;
    lastRestart = later(lastRestart, cs);
    const isRestartable = restartable(initContainers.get(cs.name));
    if (isRestartable) {
      restartableInitRestarts += cs.restartCount || 0;
      lastRestartableInitRestart = later(lastRestartableInitRestart, cs);
    }
    const state = cs.state || {};
    const { terminated, waiting } = state;
    if (terminated && (terminated.exitCode || 0) === 0) continue;
    if (isRestartable && cs.started) {
      if (cs.ready) ready += 1;
      continue;
    }
    if (terminated) {
      if (!terminated.reason) {
        reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode || 0}`;
      } else {
        reason = "Init:" + terminated.reason;
      }
    } else if (waiting && waiting.reason && waiting.reason !== "PodInitializing") {
      reason = "Init:" + waiting.reason;
    } else {
      reason = `Init:${index}/${(spec.initContainers || []).length}`;
    }
    initializing = true;
    break;
  }

  const initialized = condition(pod, "Initialized");
  if (!initializing || initialized?.status === "True") {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses || [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      restarts += cs.restartCount || 0;
      lastRestart = later(lastRestart, cs);
      const state = cs.state || {};
      const { waiting, terminated } = state;
      if (waiting && waiting.reason) reason = waiting.reason;
      else if (terminated && terminated.reason) reason = terminated.reason;
      else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode || 0}`;
      else if (cs.ready && state.running) {
        hasRunning = true;
        ready += 1;
      }
    }
    if (reason === "Completed" && hasRunning) reason = isPodReady(pod) ? "Running" : "NotReady";
  }

  if (md.deletionTimestamp && status.reason === "NodeLost") reason = "Unknown";
  else if (md.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed") reason = "Terminating";
  return { ready, total, reason, restarts, lastRestart };
}

/** kubectl's STATUS column for a pod: `Running`, `Completed`, `ContainerCreating`, `Terminating`... */
export function podStatusText(pod) {
  return podColumns(pod).reason;
}

export function podReadyText(pod) {
  const { ready, total } = podColumns(pod);
  return `${ready}/${total}`;
}

export function podRestartsText(pod, now) {
  const { restarts, lastRestart } = podColumns(pod);
  if (restarts !== 0 && lastRestart !== null && lastRestart !== GO_ZERO) {
    return `${restarts} (${humanDuration(now - lastRestart)} ago)`;
  }
  return String(restarts);
}

/** The family a STATUS text belongs to: it picks the tile's colour and shape (see the legend). */
export function statusFamily(text) {
  if (text === "Running") return "running";
  if (text === "Completed") return "completed";
  if (text === "Pending" || text === "ContainerCreating" || text === "PodInitializing" || text.startsWith("Init:")
      || text === "SchedulingGated") return "pending";
  if (text === "Terminating") return "terminating";
  if (text === "CrashLoopBackOff" || text === "ImagePullBackOff" || text === "ErrImagePull"
      || text === "CreateContainerError" || text === "InvalidImageName") return "backoff";
  if (text === "Error" || text === "Failed" || text.startsWith("ExitCode:") || text.startsWith("Signal:")
      || text === "OOMKilled" || text === "DeadlineExceeded" || text === "Evicted" || text === "ContainerStatusUnknown") {
    return "failed";
  }
  if (text === "NotReady") return "pending";
  return "unknown";
}

// --- labels and selectors (controllers/apimachinery/labels.py) --------------------------------------------------

export function formatLabels(labels) {
  const pairs = Object.entries(labels || {}).map(([k, v]) => `${k}=${v}`).sort();
  return pairs.join(",") || "<none>";
}

const OPERATORS = { In: " in ", NotIn: " notin ", Exists: "", DoesNotExist: "" };

export function formatLabelSelector(selector) {
  if (!selector) return "<none>";
  const reqs = [];
  for (const [k, v] of Object.entries(selector.matchLabels || {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of selector.matchExpressions || []) {
    if (!(e.operator in OPERATORS)) return "<error>";
    const values = [...(e.values || [])].sort();
    let text;
    if (e.operator === "Exists") text = e.key;
    else if (e.operator === "DoesNotExist") text = "!" + e.key;
    else text = `${e.key}${OPERATORS[e.operator]}(${values.length === 1 ? values[0] : values.join(",")})`;
    reqs.push({ key: e.key, text });
  }
  // Stable sort by key, as labels.Selector keeps its requirements.
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(",") || "<none>";
}

// --- the printers ------------------------------------------------------------------------------------------------

function containerCells(containers) {
  const list = containers || [];
  return [list.map((c) => c.name || "").join(","), list.map((c) => c.image || "").join(",")];
}

const templateSpec = (obj) => obj.spec?.template?.spec || {};

function hasCondition(conditions, type) {
  for (const c of conditions || []) if (c.type === type) return c.status === "True";
  return false;
}

export function jobStatusText(job) {
  const conditions = job.status?.conditions;
  if (hasCondition(conditions, "Complete")) return "Complete";
  if (hasCondition(conditions, "Failed")) return "Failed";
  if (meta(job).deletionTimestamp) return "Terminating";
  if (hasCondition(conditions, "Suspended")) return "Suspended";
  if (hasCondition(conditions, "FailureTarget")) return "FailureTarget";
  return "Running";
}

/** When the Job ended (epoch ms): its completionTime, or for a failed Job (which has none) when its Failed
 * condition became true; null while it runs. */
export function jobFinishedTime(job) {
  const completion = parseTime(job.status?.completionTime);
  if (completion !== null) return completion;
  const failed = (job.status?.conditions || []).find((c) => c.type === "Failed" && c.status === "True");
  return parseTime(failed?.lastTransitionTime);
}

export function jobCompletionsText(job) {
  const spec = job.spec || {};
  const succeeded = job.status?.succeeded || 0;
  if (spec.completions !== undefined && spec.completions !== null) return `${succeeded}/${spec.completions}`;
  const parallelism = spec.parallelism || 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

export function jobDurationText(job, now) {
  const start = parseTime(job.status?.startTime);
  if (start === null) return "";
  const completion = parseTime(job.status?.completionTime);
  return humanDuration((completion === null ? now : completion) - start);
}

function nodeRoles(node) {
  const roles = new Set();
  for (const [key, value] of Object.entries(meta(node).labels || {})) {
    if (key.startsWith("node-role.kubernetes.io/")) {
      const role = key.slice("node-role.kubernetes.io/".length);
      if (role) roles.add(role);
    } else if (key === "kubernetes.io/role" && value) roles.add(value);
  }
  return [...roles].sort();
}

export function nodeStatusText(node) {
  const status = [];
  let ready = null;
  for (const c of node.status?.conditions || []) if (c.type === "Ready") ready = c;
  if (ready) status.push(ready.status === "True" ? "Ready" : "NotReady");
  if (!status.length) status.push("Unknown");
  if (node.spec?.unschedulable) status.push("SchedulingDisabled");
  return status.join(",");
}

export function nodeRolesText(node) {
  return nodeRoles(node).join(",") || "<none>";
}

function eventCells(event, now) {
  let firstSeen = parseTime(event.firstTimestamp) !== null ? since(event.firstTimestamp, now) : since(event.eventTime, now);
  let lastSeen = parseTime(event.lastTimestamp) !== null ? since(event.lastTimestamp, now) : firstSeen;
  let count = event.count || 0;
  if (event.series) {
    lastSeen = since(event.series.lastObservedTime, now);
    count = event.series.count || 0;
  } else if (count === 0) count = 1;
  const involved = event.involvedObject || {};
  const kind = (involved.kind || "").toLowerCase();
  const source = event.source || {};
  const component = source.component || event.reportingController || "";
  const host = source.host || event.reportingInstance || "";
  return [
    lastSeen, event.type || "", event.reason || "", involved.name ? `${kind}/${involved.name}` : kind,
    involved.fieldPath || "", host ? `${component}, ${host}` : component, (event.message || "").trim(),
    firstSeen, count, meta(event).name || "",
  ];
}

/** Columns (kubectl's headers; `wide` marks the `-o wide` ones) and cells, per kind. */
export const PRINTERS = {
  Pod: {
    columns: ["NAME", "READY", "STATUS", "RESTARTS", "AGE", ["IP"], ["NODE"], ["NOMINATED NODE"], ["READINESS GATES"]],
    cells(pod, now) {
      const { ready, total, reason } = podColumns(pod);
      const status = pod.status || {};
      let ip = status.podIP || "";
      if (!ip && status.podIPs?.length) ip = status.podIPs[0]?.ip || "";
      let gatesText = "<none>";
      const gates = pod.spec?.readinessGates || [];
      if (gates.length) {
        let trueConditions = 0;
        for (const gate of gates) {
          const c = (status.conditions || []).find((x) => x.type === gate.conditionType);
          if (c && c.status === "True") trueConditions += 1;
        }
        gatesText = `${trueConditions}/${gates.length}`;
      }
      return [meta(pod).name || "", `${ready}/${total}`, reason, podRestartsText(pod, now), age(pod, now),
        ip || "<none>", pod.spec?.nodeName || "<none>", status.nominatedNodeName || "<none>", gatesText];
    },
  },
  Node: {
    columns: ["NAME", "STATUS", "ROLES", "AGE", "VERSION", ["INTERNAL-IP"], ["EXTERNAL-IP"], ["OS-IMAGE"],
      ["KERNEL-VERSION"], ["CONTAINER-RUNTIME"]],
    cells(node, now) {
      const info = node.status?.nodeInfo || {};
      const address = (type) => (node.status?.addresses || []).find((a) => a.type === type)?.address || "<none>";
      return [meta(node).name || "", nodeStatusText(node), nodeRolesText(node), age(node, now),
        info.kubeletVersion || "", address("InternalIP"), address("ExternalIP"), info.osImage || "<unknown>",
        info.kernelVersion || "<unknown>", info.containerRuntimeVersion || "<unknown>"];
    },
  },
  Job: {
    columns: ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", ["CONTAINERS"], ["IMAGES"], ["SELECTOR"]],
    cells(job, now) {
      const [names, images] = containerCells(templateSpec(job).containers);
      return [meta(job).name || "", jobStatusText(job), jobCompletionsText(job), jobDurationText(job, now),
        age(job, now), names, images, formatLabelSelector(job.spec?.selector)];
    },
  },
  CronJob: {
    columns: ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE", ["CONTAINERS"], ["IMAGES"],
      ["SELECTOR"]],
    cells(cj, now) {
      const spec = cj.spec || {};
      const status = cj.status || {};
      const lastSchedule = status.lastScheduleTime ? since(status.lastScheduleTime, now) : "<none>";
      const jobSpec = spec.jobTemplate?.spec || {};
      const [names, images] = containerCells(jobSpec.template?.spec?.containers);
      const suspend = spec.suspend === undefined || spec.suspend === null ? "<unset>" : spec.suspend ? "True" : "False";
      return [meta(cj).name || "", spec.schedule || "", spec.timeZone ?? "<none>", suspend,
        (status.active || []).length, lastSchedule, age(cj, now), names, images, formatLabelSelector(jobSpec.selector)];
    },
  },
  DaemonSet: {
    columns: ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE",
      ["CONTAINERS"], ["IMAGES"], ["SELECTOR"]],
    cells(ds, now) {
      const s = ds.status || {};
      const tspec = templateSpec(ds);
      const [names, images] = containerCells(tspec.containers);
      return [meta(ds).name || "", s.desiredNumberScheduled || 0, s.currentNumberScheduled || 0, s.numberReady || 0,
        s.updatedNumberScheduled || 0, s.numberAvailable || 0, formatLabels(tspec.nodeSelector), age(ds, now),
        names, images, formatLabelSelector(ds.spec?.selector)];
    },
  },
  Event: {
    columns: ["LAST SEEN", "TYPE", "REASON", "OBJECT", ["SUBOBJECT"], ["SOURCE"], "MESSAGE", ["FIRST SEEN"], ["COUNT"],
      ["NAME"]],
    cells: eventCells,
  },
  ControllerRevision: {
    columns: ["NAME", "CONTROLLER", "REVISION", "AGE"],
    cells(rev, now) {
      const ref = controllerOf(rev);
      let controller = "<none>";
      if (ref) {
        const parts = (ref.apiVersion || "").split("/");
        const group = parts.length === 2 ? parts[0] : "";
        const groupKind = group ? `${ref.kind}.${group}` : ref.kind || "";
        controller = `${groupKind.toLowerCase()}/${ref.name || ""}`;
      }
      return [meta(rev).name || "", controller, rev.revision || 0, age(rev, now)];
    },
  },
  ResourceQuota: {
    columns: ["NAME", "AGE", "REQUEST", "LIMIT"],
    cells: resourceQuotaCells,
  },
};

/** `printResourceQuota`: each resource of `status.hard` in name order as `name: used/hard`, those named `limits.*`
 * in LIMIT, the others in REQUEST (apiserver/printers.py's print_resource_quota). */
function resourceQuotaCells(quota, now) {
  const hard = quota.status?.hard || {};
  const used = quota.status?.used || {};
  const request = [];
  const limit = [];
  for (const name of Object.keys(hard).sort()) {
    const pieces = name.split(".");
    (pieces.length > 1 && pieces[0] === "limits" ? limit : request).push(`${name}: ${used[name] ?? "0"}/${hard[name]}`);
  }
  return [meta(quota).name || "", age(quota, now), request.join(", "), limit.join(", ")];
}

/** `metav1.GetControllerOf`: the ownerReference with `controller: true`. */
export function controllerOf(obj) {
  return (meta(obj).ownerReferences || []).find((r) => r.controller) || null;
}

/** A cell as kubectl writes it: text cut at the first line break (then `...`). */
export function cellText(cell) {
  if (cell === null || cell === undefined) return "";
  if (typeof cell === "boolean") return cell ? "true" : "false";
  const text = String(cell);
  const cut = text.search(/[\f\n\r]/);
  return cut >= 0 ? text.slice(0, cut) + "..." : text;
}
