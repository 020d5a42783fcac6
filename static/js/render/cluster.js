// The cluster view: every node as a card with its pods, pending pods in an "unscheduled" lane.
//
// A keyed join: node cards are keyed by node name, pod tiles by pod uid, and only what changed is touched, so a
// cluster of 2,000 pods costs per frame what its changes cost. A pod keeps its element for its whole life, so
// it animates in place: it appears, pulses when its STATUS changes, flies from the lane to its node when it is
// scheduled, and fades out when deleted (all through the capped Animator). Inside a node, pods are grouped by
// owner (Job, DaemonSet...), each owner with its own colour; DaemonSet pods show their revision hash and
// whether it is the DaemonSet's current (new) revision or an old one.

import { formatLabels, nodeRolesText, nodeStatusText } from "../kube.js";
import { compareNodeNames, currentRevisions, isControlPlane, podInfo } from "../derive.js";
import { h, hue } from "../dom.js";
import { t } from "../i18n.js";

const LANE = "";
// Labels every simulated kubelet sets; the card shows only the others (the full set is in the details).
const STANDARD_LABEL = /^(kubernetes\.io\/(arch|os|hostname)|beta\.kubernetes\.io\/(arch|os)|node-role\.kubernetes\.io\/.*|node\.kubernetes\.io\/exclude-from-external-load-balancers)$/;
// Above these sizes tiles become small squares (status by colour and shape; name and status on hover).
const COMPACT_PODS = 120;
const COMPACT_NODES = 24;
// Moving tiles with FLIP needs layout reads: only while the cluster is small.
const FLIP_LIMIT = 300;

export function createClusterView({ root, ownersRoot, animator, onSelect }) {
  const nodes = new Map(); // name -> {el, head, pods: element holding owner groups, groups: Map, count}
  const pods = new Map(); // uid -> {el, info, group}
  const podsByKey = new Map(); // "ns/name" -> uid
  let revisions = {};
  let revisionSignature = "";
  let highlighted = [];
  let density = "normal";

  root.addEventListener("click", (event) => {
    const pod = event.target.closest(".pod");
    if (pod && pod.dataset.key) {
      onSelect({ kind: "Pod", key: pod.dataset.key });
      return;
    }
    const node = event.target.closest(".node");
    if (node && node.dataset.nodeName) onSelect({ kind: "Node", key: node.dataset.nodeName });
  });
  root.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches(".pod, .node-head")) event.target.click();
  });

  function nodeCard(name) {
    let entry = nodes.get(name);
    if (entry) return entry;
    const isLane = name === LANE;
    const head = h("div", { class: "node-head", tabindex: isLane ? null : "0" });
    const podsBox = h("div", { class: "node-pods" });
    const el = h("section", {
      class: isLane ? "node lane" : "node",
      "data-testid": isLane ? "unscheduled" : "node",
      "data-node-name": isLane ? null : name,
    }, head, podsBox);
    entry = { el, head, pods: podsBox, groups: new Map(), count: 0, name };
    nodes.set(name, entry);
    if (isLane) {
      head.append(h("h3", { class: "node-name" }, t("Unscheduled")), h("span", { class: "node-meta" }, t("pods waiting for the scheduler")));
      root.prepend(el);
    }
    return entry;
  }

  function placeNode(entry, state) {
    // Insert in name order (control plane first) after the lane.
    const names = [...nodes.keys()].filter((n) => n !== LANE && state.objects.Node[n]);
    names.sort((a, b) => {
      const ca = isControlPlane(state.objects.Node[a]) ? 0 : 1;
      const cb = isControlPlane(state.objects.Node[b]) ? 0 : 1;
      return ca - cb || compareNodeNames(a, b);
    });
    const index = names.indexOf(entry.name);
    const next = index >= 0 && index + 1 < names.length ? nodes.get(names[index + 1]).el : null;
    if (next && next.parentNode === root) root.insertBefore(entry.el, next);
    else root.append(entry.el);
  }

  function renderNodeHead(entry, node) {
    const status = nodeStatusText(node);
    const roles = nodeRolesText(node);
    const taints = node.spec?.taints || [];
    const labels = Object.entries(node.metadata?.labels || {}).filter(([k]) => !STANDARD_LABEL.test(k));
    const notReady = !status.startsWith("Ready");
    const cordoned = !!node.spec?.unschedulable;
    entry.el.classList.toggle("not-ready", notReady);
    entry.el.classList.toggle("cordoned", cordoned);
    entry.el.dataset.status = status;
    entry.head.replaceChildren(...[
      h("h3", { class: "node-name" }, node.metadata.name),
      h("span", { class: "node-role", "data-role": roles }, roles === "<none>" ? t("worker") : roles),
      notReady ? h("span", { class: "badge badge-bad" }, status.split(",")[0]) : null,
      cordoned ? h("span", { class: "badge badge-warn" }, "SchedulingDisabled") : null,
      h("span", { class: "node-count" }, ""),
      (taints.length || labels.length) ? h("div", { class: "node-chips" },
        taints.map((taint) => h("span", { class: "chip chip-taint", title: t("taint") },
          `${taint.key}${taint.value ? "=" + taint.value : ""}:${taint.effect}`)),
        labels.map(([k, v]) => h("span", { class: "chip chip-label", title: t("label") }, `${k}=${v}`)),
      ) : null,
    ].filter(Boolean));
    entry.head.title = `${node.metadata.name} — ${status} — ${formatLabels(node.metadata.labels)}`;
    updateCount(entry);
  }

  function updateCount(entry) {
    const counter = entry.head.querySelector(".node-count");
    if (counter) counter.textContent = entry.count ? (entry.count === 1 ? t("1 pod") : t("{n} pods", { n: entry.count })) : "";
    if (entry.name === LANE) entry.el.classList.toggle("empty", entry.count === 0);
  }

  function group(entry, info) {
    let g = entry.groups.get(info.ownerKey);
    if (g) return g;
    const owner = info.owner;
    const label = owner ? `${owner.kind.toLowerCase()}/${owner.name}` : t("no owner");
    g = h("div", { class: "owner-group", "data-owner": info.ownerKey, style: `--owner-hue: ${owner ? hue(owner.uid || owner.name) : 0}` },
      h("span", { class: "owner-label" }, label));
    if (!owner) g.classList.add("no-owner");
    entry.groups.set(info.ownerKey, g);
    entry.pods.append(g);
    return g;
  }

  function dropGroupIfEmpty(entry, key) {
    const g = entry.groups.get(key);
    if (g && g.childElementCount <= 1) {
      g.remove();
      entry.groups.delete(key);
    }
  }

  function tile(info) {
    const el = h("div", {
      class: "pod", "data-testid": "pod", tabindex: "0", role: "button",
      "data-pod-name": info.name, "data-key": info.key, "data-uid": info.uid,
    }, h("span", { class: "glyph", "aria-hidden": "true" }), h("span", { class: "pod-name" }), h("span", { class: "pod-status" }),
    h("span", { class: "pod-rev" }));
    return el;
  }

  function paint(el, info, previous) {
    if (!previous || previous.status !== info.status) {
      el.dataset.status = info.status;
      el.dataset.family = info.family;
      el.children[2].textContent = info.status;
    }
    if (!previous || previous.name !== info.name) el.children[1].textContent = info.name;
    if (!previous || previous.hash !== info.hash || previous.revision !== info.revision) {
      el.children[3].textContent = info.hash ? info.hash.slice(0, 5) : "";
      if (info.revision) el.dataset.revision = info.revision;
      else delete el.dataset.revision;
    }
    el.title = `${info.name}\n${info.status}${info.owner ? `\n${info.owner.kind}/${info.owner.name}` : ""}` +
      `${info.hash ? `\n${REV_TEXT()} ${info.hash}${info.revision ? ` (${info.revision === "new" ? t("new") : t("old")})` : ""}` : ""}` +
      `\n${info.node ? t("node") + " " + info.node : t("unscheduled")}`;
  }
  const REV_TEXT = () => t("revision");

  function upsertPod(pod, state, flips) {
    const info = podInfo(pod, revisions);
    let entry = pods.get(info.uid);
    const nodeName = info.node && nodes.has(info.node) ? info.node : info.node ? ensureUnknownNode(info.node, state) : LANE;
    if (!entry) {
      const el = tile(info);
      paint(el, info, null);
      const card = nodeCard(nodeName);
      const g = group(card, info);
      g.append(el);
      card.count += 1;
      updateCount(card);
      entry = { el, info, card: nodeName, ownerKey: info.ownerKey };
      pods.set(info.uid, entry);
      podsByKey.set(info.key, info.uid);
      animator.enter(el);
      return;
    }
    const previous = entry.info;
    entry.info = info;
    paint(entry.el, info, previous);
    if (entry.card !== nodeName || entry.ownerKey !== info.ownerKey) {
      const oldCard = nodes.get(entry.card);
      const from = flips ? entry.el.getBoundingClientRect() : null;
      const card = nodeCard(nodeName);
      group(card, info).append(entry.el);
      if (oldCard) {
        oldCard.count -= 1;
        updateCount(oldCard);
        dropGroupIfEmpty(oldCard, entry.ownerKey);
      }
      card.count += 1;
      updateCount(card);
      entry.card = nodeName;
      entry.ownerKey = info.ownerKey;
      if (from) flips.push([entry.el, from]);
      else animator.pulse(entry.el);
    } else if (previous.status !== info.status || previous.restarts !== info.restarts) {
      animator.pulse(entry.el, info.restarts !== previous.restarts || info.family === "failed");
    }
  }

  function ensureUnknownNode(name) {
    // A pod bound to a node the page has not seen (yet): give it a card so it is not lost.
    const entry = nodeCard(name);
    if (!entry.el.parentNode) {
      entry.el.dataset.nodeName = name;
      entry.head.replaceChildren(h("h3", { class: "node-name" }, name), h("span", { class: "node-count" }));
      root.append(entry.el);
    }
    return name;
  }

  function removePod(uid) {
    const entry = pods.get(uid);
    if (!entry) return;
    pods.delete(uid);
    if (podsByKey.get(entry.info.key) === uid) podsByKey.delete(entry.info.key);
    const card = nodes.get(entry.card);
    entry.el.removeAttribute("data-testid");
    entry.el.removeAttribute("data-pod-name");
    // The exit animation keeps the element for a moment; its group must outlive it, so count it out now and
    // drop the group afterwards.
    if (card) {
      card.count -= 1;
      updateCount(card);
    }
    animator.exit(entry.el);
    if (card) setTimeout(() => dropGroupIfEmpty(card, entry.ownerKey), 450);
  }

  function removeNode(name) {
    const entry = nodes.get(name);
    if (!entry || name === LANE) return;
    entry.el.remove();
    nodes.delete(name);
  }

  function setDensity(state) {
    const podCount = Object.keys(state.objects.Pod).length;
    const nodeCount = Object.keys(state.objects.Node).length;
    const next = podCount > COMPACT_PODS || nodeCount > COMPACT_NODES ? "compact" : "normal";
    if (next !== density) {
      density = next;
      root.dataset.density = density;
    }
  }

  /** Apply the frame's changes: `changes` = {full, pods: Set(key), deletedPods: [uid], nodes: Set(name), ...}. */
  function update(state, changes) {
    nodeCard(LANE);
    setDensity(state);
    // Which revision of each DaemonSet is current: when it moves, every DaemonSet pod is re-classified.
    if (changes.full || changes.kinds.has("ControllerRevision") || changes.kinds.has("DaemonSet")) {
      const next = currentRevisions(state);
      const signature = JSON.stringify(next);
      if (signature !== revisionSignature) {
        revisions = next;
        revisionSignature = signature;
        changes.full = changes.full || "revisions";
      }
    }
    if (changes.full === true) {
      // A snapshot: drop what the new state no longer has.
      const uids = new Set(Object.values(state.objects.Pod).map((p) => p.metadata.uid));
      for (const uid of [...pods.keys()]) if (!uids.has(uid)) removePod(uid);
      for (const name of [...nodes.keys()]) if (name !== LANE && !state.objects.Node[name]) removeNode(name);
    }
    const nodeNames = changes.full ? Object.keys(state.objects.Node) : [...changes.nodes];
    for (const name of nodeNames) {
      const node = state.objects.Node[name];
      if (!node) {
        removeNode(name);
        continue;
      }
      const entry = nodeCard(name);
      renderNodeHead(entry, node);
      if (!entry.el.parentNode || changes.full === true) placeNode(entry, state);
      else if (!entry.placed) placeNode(entry, state);
      entry.placed = true;
    }
    for (const uid of changes.deletedPods) removePod(uid);
    const flips = Object.keys(state.objects.Pod).length <= FLIP_LIMIT && !animator.reduced ? [] : null;
    const keys = changes.full ? Object.keys(state.objects.Pod) : [...changes.pods];
    for (const key of keys) {
      const pod = state.objects.Pod[key];
      if (pod) upsertPod(pod, state, flips);
    }
    if (flips) for (const [el, from] of flips) animator.move(el, from);
  }

  /** Outline the pods and nodes a trace touched (names as "ns/name" keys or node names). */
  function highlight(keys) {
    for (const el of highlighted) el.classList.remove("highlight");
    highlighted = [];
    for (const key of keys || []) {
      const uid = podsByKey.get(key);
      const el = uid ? pods.get(uid)?.el : nodes.get(key)?.el;
      if (el) {
        el.classList.add("highlight");
        highlighted.push(el);
      }
    }
  }

  /** The owners strip above the nodes: each owner's colour, kind/name and its pods by state. */
  function renderOwners(state) {
    const owners = new Map();
    for (const entry of pods.values()) {
      const { owner, family, ownerKey } = entry.info;
      if (!owner) continue;
      let o = owners.get(ownerKey);
      if (!o) owners.set(ownerKey, (o = { owner, total: 0, running: 0, completed: 0, failed: 0 }));
      o.total += 1;
      if (family === "running") o.running += 1;
      else if (family === "completed") o.completed += 1;
      else if (family === "failed" || family === "backoff") o.failed += 1;
    }
    const items = [...owners.values()].sort((a, b) => (a.owner.kind + a.owner.name).localeCompare(b.owner.kind + b.owner.name));
    ownersRoot.replaceChildren(...items.map((o) => h("button", {
      type: "button", class: "owner-pill", style: `--owner-hue: ${hue(o.owner.uid || o.owner.name)}`,
      title: t("Show this owner's details"),
      onclick: () => onSelect({ kind: o.owner.kind, uid: o.owner.uid }),
    }, h("span", { class: "owner-swatch" }), `${o.owner.kind.toLowerCase()}/${o.owner.name}`,
    h("span", { class: "owner-counts" }, [
      t("{running}/{total} running", o),
      o.completed ? t("{n} completed", { n: o.completed }) : null,
      o.failed ? t("{n} failed", { n: o.failed }) : null,
    ].filter(Boolean).join(" · ")))));
  }

  return { update, highlight, renderOwners, podKeys: () => podsByKey };
}
