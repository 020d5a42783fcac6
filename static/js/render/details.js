// The details pane of one selected object: a describe-like summary, its YAML, its events, its pods, a pod's
// logs, and the actions that fit its kind (edit and re-apply, delete with a cascade policy; for a node: cordon,
// taint, label, fail/recover, remove).

import { h } from "../dom.js";
import { t } from "../i18n.js";
import {
  PRINTERS, controllerOf, formatLabelSelector, formatLabels, jobCompletionsText, jobStatusText, nodeStatusText,
  podStatusText, since,
} from "../kube.js";
import { eventsAbout, ownedBy } from "../derive.js";
import { dump, editable } from "../yaml.js";
import { toast, parseTaints } from "../controls.js";
import { revisionsView } from "./revisions.js";

const WORKLOADS = new Set(["Job", "CronJob", "DaemonSet"]);

export function createDetailsView({ root, api, onEdit, onSelect, onShowAt, readOnly = false }) {
  let target = null; // {kind, key}
  let tab = "summary";
  let lastVersion = null;
  let logText = null;
  let logFor = null;

  function find(state) {
    if (!target) return null;
    const objects = state.objects[target.kind] || {};
    if (target.key && objects[target.key]) return objects[target.key];
    if (target.uid) {
      for (const [key, obj] of Object.entries(objects)) {
        if (obj.metadata.uid === target.uid) {
          target.key = key;
          return obj;
        }
      }
    }
    return null;
  }

  function select(next, state, now) {
    target = { ...next };
    if (target.kind !== "Pod" && tab === "logs") tab = "summary";
    lastVersion = null;
    logText = null;
    logFor = null;
    update(state, now, null);
  }

  function update(state, now, changes) {
    if (!target) return;
    const obj = find(state);
    const version = obj ? `${obj.metadata.resourceVersion}|${Object.keys(state.objects.Event).length}|${Object.keys(state.objects.Pod).length}` : "gone";
    if (changes && !changes.full && version === lastVersion) return;
    lastVersion = version;
    // Keep the reader's place when the object changes under them.
    const scroller = root.querySelector(".details-body");
    const scroll = scroller ? scroller.scrollTop : 0;
    root.replaceChildren(obj ? render(obj, state, now) : h("p", { class: "empty" }, t("{kind} {name} no longer exists.", { kind: target.kind, name: target.key || "" })));
    const body = root.querySelector(".details-body");
    if (body) body.scrollTop = scroll;
  }

  function render(obj, state, now) {
    const kind = target.kind;
    const tabs = [["summary", t("Summary")], ["yaml", "YAML"], ["events", t("Events")]];
    if (kind !== "Pod" && kind !== "Event") tabs.push(["pods", t("Pods")]);
    if (kind === "Pod") tabs.push(["logs", t("Logs")]);
    tabs.push(["history", t("History")]);
    if (!tabs.some(([id]) => id === tab)) tab = "summary";
    const nav = h("nav", { class: "subtabs", role: "tablist" }, tabs.map(([id, label]) => h("button", {
      type: "button", role: "tab", "aria-selected": String(id === tab), "data-subtab": id, onclick: () => {
        tab = id;
        lastVersion = null;
        update(state, now, null);
      },
    }, label)));
    let body;
    if (tab === "yaml") body = h("pre", { class: "yaml-view" }, dump(obj));
    else if (tab === "events") body = eventsTable(eventsAbout(state, obj.metadata.uid), now);
    else if (tab === "pods") body = podsOf(obj, state, now);
    else if (tab === "logs") body = logs(obj);
    else if (tab === "history") body = history(obj);
    else body = summary(obj, state, now);
    return h("article", { class: "details-card", "data-testid": "details", "data-kind": kind, "data-name": obj.metadata.name },
      h("header", { class: "details-head" },
        h("span", { class: "details-kind" }, kind),
        h("h2", null, obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name),
        actions(obj)),
      nav,
      h("div", { class: "details-body" }, body));
  }

  // -- actions ---------------------------------------------------------------------------------------------------

  async function act(call, done) {
    try {
      await call();
      if (done) toast(done);
    } catch (error) {
      toast(error.message, "error");
    }
  }

  function actions(obj) {
    if (readOnly) return null; // a read-only view offers nothing that writes
    const kind = target.kind;
    const { name, namespace } = obj.metadata;
    if (kind === "Node") return nodeActions(obj);
    if (kind === "Event") return null;
    const policy = h("select", { class: "policy", title: t("Cascade: what happens to the objects it owns") },
      h("option", { value: "Background" }, "Background"),
      h("option", { value: "Foreground" }, "Foreground"),
      h("option", { value: "Orphan" }, "Orphan"));
    return h("div", { class: "details-actions" },
      (WORKLOADS.has(kind) || kind === "Pod") ? h("button", {
        type: "button", class: "btn", "data-testid": "edit",
        onclick: () => onEdit(dump(editable(obj))),
      }, t("Edit")) : null,
      h("label", { class: "cascade" }, t("cascade"), " ", policy),
      h("button", {
        type: "button", class: "btn btn-danger", "data-testid": "delete",
        onclick: () => {
          if (!window.confirm(t("Delete {kind} {name}?", { kind, name }))) return;
          act(() => api.remove(kind, namespace, name, policy.value), `${kind.toLowerCase()} "${name}" deleted`);
        },
      }, t("Delete")));
  }

  function nodeActions(node) {
    const name = node.metadata.name;
    const cordoned = !!node.spec?.unschedulable;
    const ready = nodeStatusText(node).startsWith("Ready");
    const taintInput = h("input", { name: "taint", placeholder: "key=value:NoSchedule", size: "18" });
    const labelInput = h("input", { name: "label", placeholder: "disktype=ssd", size: "14" });
    return h("div", { class: "details-actions node-actions" },
      h("button", {
        type: "button", class: "btn", "data-testid": cordoned ? "uncordon" : "cordon",
        onclick: () => act(() => api.patch("Node", "", name, { spec: { unschedulable: cordoned ? null : true } }),
          `node/${name} ${cordoned ? "uncordoned" : "cordoned"}`),
      }, cordoned ? t("Uncordon") : t("Cordon")),
      h("button", {
        type: "button", class: "btn", "data-testid": ready ? "node-fail" : "node-recover",
        onclick: () => act(() => api.nodeHealth(name, ready ? "fail" : "recover")),
      }, ready ? t("Fail node") : t("Recover node")),
      h("button", {
        type: "button", class: "btn btn-danger", "data-testid": "node-remove",
        onclick: () => {
          if (window.confirm(t("Remove node {name}?", { name }))) act(() => api.remove("Node", "", name), `node "${name}" deleted`);
        },
      }, t("Remove")),
      h("form", {
        class: "inline-form", onsubmit: (event) => {
          event.preventDefault();
          const added = parseTaints(taintInput.value);
          if (!added.length) return;
          const taints = [...(node.spec?.taints || []).filter((x) => !added.some((a) => a.key === x.key && a.effect === x.effect)), ...added];
          act(() => api.patch("Node", "", name, { spec: { taints } }), `node/${name} tainted`);
        },
      }, taintInput, h("button", { type: "submit", class: "btn btn-small" }, t("Taint"))),
      h("form", {
        class: "inline-form", onsubmit: (event) => {
          event.preventDefault();
          const [key, ...rest] = labelInput.value.split("=");
          if (!key.trim()) return;
          act(() => api.patch("Node", "", name, { metadata: { labels: { [key.trim()]: rest.join("=").trim() } } }), `node/${name} labeled`);
        },
      }, labelInput, h("button", { type: "submit", class: "btn btn-small" }, t("Label"))));
  }

  // -- summary (describe) -----------------------------------------------------------------------------------------

  function field(label, value) {
    if (value === undefined || value === null || value === "") return null;
    return [h("dt", null, label), h("dd", null, value)];
  }

  function chips(map, removable) {
    const entries = Object.entries(map || {});
    if (!entries.length) return "<none>";
    return h("span", { class: "chips" }, entries.map(([k, v]) => h("span", { class: "chip chip-label" }, `${k}=${v}`,
      removable ? h("button", { type: "button", class: "chip-x", title: t("Remove"), onclick: () => removable(k) }, "×") : null)));
  }

  function summary(obj, state, now) {
    const md = obj.metadata;
    const owner = controllerOf(obj);
    const rows = [
      field(t("Name"), md.name),
      field(t("Namespace"), md.namespace),
      field(t("Created"), `${md.creationTimestamp} (${since(md.creationTimestamp, now)})`),
      field(t("Labels"), chips(md.labels, target.kind === "Node" && !readOnly ? (k) => act(() => api.patch("Node", "", md.name, { metadata: { labels: { [k]: null } } })) : null)),
      owner ? field(t("Controlled By"), h("a", { href: "#", onclick: (e) => {
        e.preventDefault();
        onSelect({ kind: owner.kind, uid: owner.uid });
      } }, `${owner.kind}/${owner.name}`)) : null,
    ];
    const extra = KIND_SUMMARY[target.kind]?.(obj, state, now, { act, api, readOnly }) || [];
    const printer = PRINTERS[target.kind];
    let table = null;
    if (printer) {
      const cells = printer.cells(obj, now);
      const columns = printer.columns.map((c) => (Array.isArray(c) ? c[0] : c));
      table = h("table", { class: "kubectl mini" }, h("thead", null, h("tr", null, columns.map((c) => h("th", null, c)))),
        h("tbody", null, h("tr", null, cells.map((c) => h("td", null, String(c))))));
    }
    return h("div", null,
      table ? h("div", { class: "table-wrap" }, table) : null,
      h("dl", { class: "describe" }, rows, extra),
      conditions(obj.status?.conditions, now));
  }

  function conditions(list, now) {
    if (!list || !list.length) return null;
    return h("section", null, h("h3", null, t("Conditions")),
      h("table", { class: "kubectl mini" },
        h("thead", null, h("tr", null, ["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"].map((c) => h("th", null, c)))),
        h("tbody", null, list.map((c) => h("tr", null,
          h("td", null, c.type), h("td", null, c.status), h("td", null, c.reason || ""),
          h("td", null, c.lastTransitionTime ? since(c.lastTransitionTime, now) : ""), h("td", null, c.message || ""))))));
  }

  function eventsTable(events, now) {
    if (!events.length) return h("p", { class: "empty" }, t("No events."));
    return h("table", { class: "kubectl mini" },
      h("thead", null, h("tr", null, ["LAST SEEN", "TYPE", "REASON", "FROM", "MESSAGE"].map((c) => h("th", null, c)))),
      h("tbody", null, events.map((ev) => {
        const cells = PRINTERS.Event.cells(ev, now);
        return h("tr", { class: ev.type === "Warning" ? "warning" : "" },
          h("td", null, cells[0]), h("td", null, cells[1]), h("td", null, cells[2]), h("td", null, cells[5]), h("td", null, cells[6]));
      })));
  }

  function podsOf(obj, state, now) {
    let pods;
    if (target.kind === "Node") pods = Object.values(state.objects.Pod).filter((p) => p.spec?.nodeName === obj.metadata.name);
    else if (target.kind === "CronJob") {
      const jobs = new Set(ownedBy(state, "Job", obj.metadata.uid).map((j) => j.metadata.uid));
      pods = Object.values(state.objects.Pod).filter((p) => jobs.has(controllerOf(p)?.uid));
    } else pods = ownedBy(state, "Pod", obj.metadata.uid);
    if (!pods.length) return h("p", { class: "empty" }, t("No pods."));
    pods.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const columns = ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE"];
    return h("table", { class: "kubectl mini clickable" },
      h("thead", null, h("tr", null, columns.map((c) => h("th", null, c)))),
      h("tbody", null, pods.map((pod) => {
        const c = PRINTERS.Pod.cells(pod, now);
        return h("tr", { onclick: () => onSelect({ kind: "Pod", key: `${pod.metadata.namespace}/${pod.metadata.name}` }) },
          h("td", null, c[0]), h("td", null, c[1]), h("td", { "data-status": c[2] }, c[2]), h("td", null, c[3]), h("td", null, c[4]), h("td", null, c[6]));
      })));
  }

  // The object's revisions, read once per object and kept while it stays selected (its history only grows: the
  // Refresh button reads it again).
  let historyFor = null;
  let historyEl = null;
  function history(obj) {
    const { namespace, name } = obj.metadata;
    const id = `${target.kind}/${namespace || ""}/${name}/${obj.metadata.resourceVersion}`;
    const load = () => {
      historyFor = id;
      historyEl = revisionsView({ api, kind: target.kind, namespace, name, onShowAt });
    };
    if (historyFor !== id) load();
    const holder = h("div", null, historyEl);
    return h("div", null, h("div", { class: "logs-bar" },
      h("code", null, `${target.kind.toLowerCase()}/${name}`),
      h("button", { type: "button", class: "btn btn-small", "data-testid": "history-refresh", onclick: () => {
        load();
        holder.replaceChildren(historyEl);
      } }, t("Refresh"))), holder);
  }

  function logs(pod) {
    const containers = (pod.spec?.containers || []).map((c) => c.name);
    const pre = h("pre", { class: "logs", "data-testid": "pod-logs" }, logText ?? t("loading…"));
    const select = containers.length > 1 ? h("select", null, containers.map((c) => h("option", { value: c }, c))) : null;
    const fetchLogs = async () => {
      const container = select ? select.value : containers[0];
      try {
        logText = await api.log(pod.metadata.namespace, pod.metadata.name, container);
      } catch (error) {
        logText = error.message;
      }
      logFor = `${pod.metadata.uid}/${pod.metadata.resourceVersion}`;
      pre.textContent = logText || t("(no output yet)");
    };
    if (logFor !== `${pod.metadata.uid}/${pod.metadata.resourceVersion}`) fetchLogs();
    if (select) select.addEventListener("change", fetchLogs);
    return h("div", null, h("div", { class: "logs-bar" }, h("code", null, `kubectl logs ${pod.metadata.name}`), select,
      h("button", { type: "button", class: "btn btn-small", onclick: fetchLogs }, t("Refresh"))), pre);
  }

  /** The page shows the past (or a read-only view): no action that writes, until it is live again. */
  function setReadOnly(value) {
    if (value === readOnly) return;
    readOnly = value;
    lastVersion = null;
  }

  return { select, update, setReadOnly };
}

// Kind-specific describe lines.
const KIND_SUMMARY = {
  Pod(pod) {
    const containers = pod.spec?.containers || [];
    return [
      [h("dt", null, "Status"), h("dd", { "data-status": podStatusText(pod) }, podStatusText(pod))],
      [h("dt", null, "Node"), h("dd", null, pod.spec?.nodeName || "<none>")],
      [h("dt", null, "IP"), h("dd", null, pod.status?.podIP || "<none>")],
      [h("dt", null, "Restart Policy"), h("dd", null, pod.spec?.restartPolicy || "")],
      ...containers.map((c) => {
        const cs = (pod.status?.containerStatuses || []).find((s) => s.name === c.name) || {};
        const state = Object.keys(cs.state || {})[0] || "waiting";
        const detail = cs.state?.[state] || {};
        return [h("dt", null, `Container ${c.name}`), h("dd", null,
          h("div", null, `Image: ${c.image}`),
          c.command ? h("div", null, `Command: ${[...(c.command || []), ...(c.args || [])].join(" ")}`) : null,
          h("div", null, `State: ${state[0].toUpperCase()}${state.slice(1)}${detail.reason ? ` (${detail.reason})` : ""}` +
            `${detail.exitCode !== undefined ? `, exit code ${detail.exitCode}` : ""}`),
          h("div", null, `Restart Count: ${cs.restartCount || 0}`))];
      }),
    ];
  },
  Job(job) {
    const s = job.status || {};
    const spec = job.spec || {};
    return [
      [h("dt", null, "Status"), h("dd", null, jobStatusText(job))],
      [h("dt", null, "Completions"), h("dd", null, jobCompletionsText(job))],
      [h("dt", null, "Parallelism"), h("dd", null, String(spec.parallelism ?? 1))],
      [h("dt", null, "Pods Statuses"), h("dd", null, `${s.active || 0} Active (${s.ready || 0} Ready) / ${s.succeeded || 0} Succeeded / ${s.failed || 0} Failed`)],
      [h("dt", null, "Backoff Limit"), h("dd", null, String(spec.backoffLimit ?? 6))],
      spec.activeDeadlineSeconds ? [h("dt", null, "Active Deadline Seconds"), h("dd", null, `${spec.activeDeadlineSeconds}s`)] : [],
      [h("dt", null, "Selector"), h("dd", null, formatLabelSelector(spec.selector))],
    ];
  },
  CronJob(cj) {
    const spec = cj.spec || {};
    return [
      [h("dt", null, "Schedule"), h("dd", null, spec.schedule)],
      [h("dt", null, "Concurrency Policy"), h("dd", null, spec.concurrencyPolicy || "Allow")],
      [h("dt", null, "Suspend"), h("dd", null, String(!!spec.suspend))],
      [h("dt", null, "Starting Deadline Seconds"), h("dd", null, spec.startingDeadlineSeconds ? `${spec.startingDeadlineSeconds}s` : "<unset>")],
      [h("dt", null, "Successful Job History Limit"), h("dd", null, String(spec.successfulJobsHistoryLimit ?? 3))],
      [h("dt", null, "Failed Job History Limit"), h("dd", null, String(spec.failedJobsHistoryLimit ?? 1))],
      [h("dt", null, "Last Schedule Time"), h("dd", null, cj.status?.lastScheduleTime || "<unset>")],
      [h("dt", null, "Active Jobs"), h("dd", null, (cj.status?.active || []).map((r) => r.name).join(", ") || "<none>")],
    ];
  },
  DaemonSet(ds) {
    const s = ds.status || {};
    const strategy = ds.spec?.updateStrategy || {};
    return [
      [h("dt", null, "Selector"), h("dd", null, formatLabelSelector(ds.spec?.selector))],
      [h("dt", null, "Node-Selector"), h("dd", null, formatLabels(ds.spec?.template?.spec?.nodeSelector))],
      [h("dt", null, "Update Strategy"), h("dd", null, `${strategy.type || "RollingUpdate"}${strategy.rollingUpdate ? ` (maxUnavailable ${strategy.rollingUpdate.maxUnavailable ?? 1}, maxSurge ${strategy.rollingUpdate.maxSurge ?? 0})` : ""}`)],
      [h("dt", null, "Desired Number of Nodes Scheduled"), h("dd", null, String(s.desiredNumberScheduled || 0))],
      [h("dt", null, "Current Number of Nodes Scheduled"), h("dd", null, String(s.currentNumberScheduled || 0))],
      [h("dt", null, "Number of Nodes Scheduled with Up-to-date Pods"), h("dd", null, String(s.updatedNumberScheduled || 0))],
      [h("dt", null, "Number of Nodes Scheduled with Available Pods"), h("dd", null, String(s.numberAvailable || 0))],
      [h("dt", null, "Number of Nodes Misscheduled"), h("dd", null, String(s.numberMisscheduled || 0))],
      [h("dt", null, "Images"), h("dd", null, (ds.spec?.template?.spec?.containers || []).map((c) => c.image).join(", "))],
    ];
  },
  Node(node, state, now, { act, api, readOnly }) {
    const taints = node.spec?.taints || [];
    const name = node.metadata.name;
    const capacity = node.status?.capacity || {};
    return [
      [h("dt", null, "Status"), h("dd", null, nodeStatusText(node))],
      [h("dt", null, "Taints"), h("dd", null, taints.length ? h("span", { class: "chips" }, taints.map((x) => h("span", { class: "chip chip-taint" },
        `${x.key}${x.value ? "=" + x.value : ""}:${x.effect}`,
        readOnly ? null : h("button", { type: "button", class: "chip-x", title: t("Remove"), onclick: () => act(() => api.patch("Node", "", name, { spec: { taints: taints.filter((y) => y !== x) } })) }, "×")))) : "<none>")],
      [h("dt", null, "Unschedulable"), h("dd", null, String(!!node.spec?.unschedulable))],
      [h("dt", null, "Capacity"), h("dd", null, `cpu ${capacity.cpu || "?"}, memory ${capacity.memory || "?"}, pods ${capacity.pods || "?"}`)],
    ];
  },
};
