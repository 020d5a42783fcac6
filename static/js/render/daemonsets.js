// The DaemonSet view: kubectl's DESIRED / CURRENT / READY / UP-TO-DATE / AVAILABLE, `kubectl rollout status`'s
// sentence, the maxUnavailable budget in use, every node with its daemon pod on the old or the new revision, and
// the rollout history (ControllerRevisions).

import { h, esc } from "../dom.js";
import { t } from "../i18n.js";
import { controllerOf, podStatusText, statusFamily, since } from "../kube.js";
import { compareNodeNames, currentRevisions, isControlPlane, REVISION_HASH_LABEL } from "../derive.js";

const MAX_PIPS = 100;

/** `kubectl rollout status daemonset/<name>`'s line for the DaemonSet's current status. */
export function rolloutStatus(ds) {
  const name = ds.metadata.name;
  const s = ds.status || {};
  if ((ds.spec?.updateStrategy?.type || "RollingUpdate") !== "RollingUpdate") {
    return "rollout status is only available for RollingUpdate strategy type";
  }
  if ((ds.metadata.generation || 0) <= (s.observedGeneration || 0)) {
    const desired = s.desiredNumberScheduled || 0;
    if ((s.updatedNumberScheduled || 0) < desired) {
      return `Waiting for daemon set "${name}" rollout to finish: ${s.updatedNumberScheduled || 0} out of ${desired} new pods have been updated...`;
    }
    if ((s.numberAvailable || 0) < desired) {
      return `Waiting for daemon set "${name}" rollout to finish: ${s.numberAvailable || 0} of ${desired} updated pods are available...`;
    }
    return `daemon set "${name}" successfully rolled out`;
  }
  return "Waiting for daemon set spec update to be observed...";
}

/** maxUnavailable as a number of pods (a percentage of DESIRED rounds up, as upstream scales it). */
export function maxUnavailable(ds) {
  const value = ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1;
  const desired = ds.status?.desiredNumberScheduled || 0;
  if (typeof value === "string" && value.endsWith("%")) return Math.ceil((Number(value.slice(0, -1)) * desired) / 100);
  return Number(value);
}

export function createDaemonSetsView({ root, onSelect }) {
  root.addEventListener("click", (event) => {
    const el = event.target.closest("[data-select-kind]");
    if (el) onSelect({ kind: el.dataset.selectKind, key: el.dataset.selectKey });
  });

  function render(state, now) {
    const list = Object.entries(state.objects.DaemonSet).sort(([a], [b]) => a.localeCompare(b));
    if (!list.length) {
      root.replaceChildren(h("p", { class: "empty" }, t("No DaemonSets yet. Apply the fluentd example from the editor.")));
      return;
    }
    const revisions = currentRevisions(state);
    const nodes = Object.values(state.objects.Node).sort((a, b) =>
      (isControlPlane(b) - isControlPlane(a)) || compareNodeNames(a.metadata.name, b.metadata.name));
    root.innerHTML = list.map(([key, ds]) => card(key, ds, state, now, revisions[ds.metadata.uid], nodes)).join("");
  }

  function card(key, ds, state, now, current, nodes) {
    const s = ds.status || {};
    const desired = s.desiredNumberScheduled || 0;
    const pods = Object.entries(state.objects.Pod).filter(([, p]) => controllerOf(p)?.uid === ds.metadata.uid);
    const byNode = new Map();
    for (const [podKey, pod] of pods) {
      const node = pod.spec?.nodeName || pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
        ?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] || "";
      if (!byNode.has(node)) byNode.set(node, []);
      byNode.get(node).push([podKey, pod]);
    }
    const budget = maxUnavailable(ds);
    const inUse = Math.max(0, desired - (s.numberAvailable || 0));
    const strategy = ds.spec?.updateStrategy?.type || "RollingUpdate";
    const history = Object.values(state.objects.ControllerRevision).filter((r) => controllerOf(r)?.uid === ds.metadata.uid)
      .sort((a, b) => (b.revision || 0) - (a.revision || 0));
    const status = rolloutStatus(ds);
    const done = status.includes("successfully rolled out");
    const counts = [["DESIRED", desired], ["CURRENT", s.currentNumberScheduled || 0], ["READY", s.numberReady || 0],
      ["UP-TO-DATE", s.updatedNumberScheduled || 0], ["AVAILABLE", s.numberAvailable || 0]];
    // One pip per pod the rollout may take down at once: never more than there are pods (a maxUnavailable of
    // 2147483647 is valid), and at most MAX_PIPS.
    const pips = Array.from({ length: Math.min(Math.max(budget, inUse), Math.max(desired, inUse), MAX_PIPS) }, (_, i) =>
      `<span class="pip${i < inUse ? " used" : ""}${i >= budget ? " over" : ""}"></span>`).join("");
    const podCells = (name) => (byNode.get(name) || []).map(([podKey, pod]) => {
      const text = podStatusText(pod);
      const hash = pod.metadata.labels?.[REVISION_HASH_LABEL] || "";
      return { podKey, pod, text, hash, rev: current ? (hash === current.hash ? "new" : "old") : "" };
    });
    // Many nodes: one square per node (new / old revision, running or not); few: a row per node with its pod.
    const rows = nodes.length > 24 ? `<div class="ds-grid">${nodes.map((node) => {
      const name = node.metadata.name;
      const cells = podCells(name);
      const best = cells.find((c) => c.text === "Running") || cells[0];
      const state = !best ? "none" : `${best.rev || "new"}-${statusFamily(best.text)}`;
      const title = `${name}: ${cells.map((c) => `${c.pod.metadata.name} ${c.text} ${c.rev}`).join("; ") || t("no daemon pod")}`;
      return `<span class="ds-cell" data-state="${state}" data-node-name="${esc(name)}" title="${esc(title)}"></span>`;
    }).join("")}</div>
      <p class="g-legend"><span class="ds-cell" data-state="new-running"></span>${esc(t("new revision, Running"))}
        <span class="ds-cell" data-state="old-running"></span>${esc(t("old revision, Running"))}
        <span class="ds-cell" data-state="new-pending"></span>${esc(t("starting"))}
        <span class="ds-cell" data-state="old-terminating"></span>${esc(t("stopping"))}
        <span class="ds-cell" data-state="none"></span>${esc(t("no daemon pod"))}</p>` : nodes.map((node) => {
      const name = node.metadata.name;
      const cells = podCells(name).map(({ podKey, pod, text, hash, rev }) =>
        `<button type="button" class="ds-pod linklike" data-select-kind="Pod" data-select-key="${esc(podKey)}" data-revision="${rev}" data-family="${statusFamily(text)}">
          <span class="glyph" aria-hidden="true"></span><span>${esc(pod.metadata.name)}</span> <b>${esc(text)}</b>
          <span class="rev-badge rev-${rev}">${esc(hash.slice(0, 10))} ${rev ? esc(rev === "new" ? t("new") : t("old")) : ""}</span></button>`).join("");
      return `<div class="ds-row" data-node-name="${esc(name)}"><span class="ds-node">${esc(name)}</span><div class="ds-pods">${cells || `<span class="muted">${esc(t("no daemon pod"))}</span>`}</div></div>`;
    }).join("");
    const pending = byNode.get("") || [];
    return `<article class="workload ds-card" data-testid="daemonset" data-daemonset-name="${esc(ds.metadata.name)}">
      <header class="workload-head">
        <h3><button type="button" class="linklike" data-select-kind="DaemonSet" data-select-key="${esc(key)}">daemonset.apps/${esc(ds.metadata.name)}</button></h3>
        <span class="muted">${esc(ds.metadata.namespace)}</span>
        <span class="chip">${esc(strategy)}${strategy === "RollingUpdate" ? ` · maxUnavailable ${esc(String(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1))} · maxSurge ${esc(String(ds.spec?.updateStrategy?.rollingUpdate?.maxSurge ?? 0))}` : ""}</span>
        <code class="muted">${esc((ds.spec?.template?.spec?.containers || []).map((c) => c.image).join(", "))}</code>
      </header>
      <div class="ds-counts">${counts.map(([label, n]) => `<div class="count-box"><span class="count-n">${n}</span><span class="count-l">${label}</span></div>`).join("")}
        <div class="count-box budget" title="${esc(t("Nodes whose daemon pod is unavailable, against maxUnavailable"))}"><span class="pips">${pips || "—"}</span><span class="count-l">${esc(t("unavailable budget: {used} of {budget} in use", { used: inUse, budget }))}</span></div>
      </div>
      <div class="progress"><span class="seg seg-succeeded" style="width:${desired ? ((100 * (s.updatedNumberScheduled || 0)) / desired).toFixed(1) : 0}%"></span></div>
      <p class="rollout ${done ? "ok" : ""}" data-testid="rollout-status"><code>$ kubectl rollout status ds/${esc(ds.metadata.name)} -n ${esc(ds.metadata.namespace)}</code><br>${esc(status)}</p>
      <div class="ds-nodes">${rows}${pending.length ? `<div class="ds-row"><span class="ds-node">${esc(t("Unscheduled"))}</span><div class="ds-pods">${pending.map(([k, p]) => `<span>${esc(p.metadata.name)}</span>`).join(" ")}</div></div>` : ""}</div>
      <details class="history" open><summary>${esc(t("Rollout history (ControllerRevisions)"))}</summary>
        <table class="kubectl mini"><thead><tr><th>REVISION</th><th>NAME</th><th>IMAGES</th><th>AGE</th><th></th></tr></thead><tbody>
        ${history.map((r) => `<tr><td>${r.revision}</td><td>${esc(r.metadata.name)}</td><td>${esc(((r.data?.spec?.template?.spec?.containers) || []).map((c) => c.image).join(", "))}</td><td>${esc(since(r.metadata.creationTimestamp, now))}</td><td>${current && current.name === r.metadata.name ? `<span class="badge badge-ok">${esc(t("current"))}</span>` : ""}</td></tr>`).join("")}
        </tbody></table></details>
    </article>`;
  }

  return {
    stale: true,
    accepts: (changes) => changes.full || ["DaemonSet", "Pod", "ControllerRevision", "Node"].some((k) => changes.kinds.has(k)),
    render,
  };
}
