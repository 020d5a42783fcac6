// The controller panel: the stream of reconcile traces as readable sentences, newest first, filterable by
// controller and object. Hovering or selecting a trace outlines what it touched in the cluster view.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { controllerOf } from "../kube.js";

const SHOWN = 300; // traces kept in the list
const PER_FRAME = 60; // new traces added in one frame (a burst shows its newest)

function clockTime(iso) {
  return (iso || "").slice(11, 19);
}

export function createTracesView({ root, onHighlight, onSelect }) {
  const list = root.querySelector("#traces");
  const controllerFilter = root.querySelector("#trace-controller");
  const objectFilter = root.querySelector("#trace-object");
  const busyOnly = root.querySelector("#trace-busy");
  let state = null;
  let selected = null;

  function matches(trace) {
    if (controllerFilter.value && trace.controller !== controllerFilter.value) return false;
    const text = objectFilter.value.trim();
    if (text && !trace.object.includes(text)) return false;
    if (busyOnly.checked && !(trace.actions || []).length) return false;
    return true;
  }

  function item(trace) {
    const actions = trace.actions || [];
    const li = h("li", {
      class: "trace", "data-testid": "trace", "data-controller": trace.controller, "data-object": trace.object,
      "data-sequence": trace.sequence, tabindex: "0",
    },
    h("div", { class: "trace-head" },
      h("time", { class: "trace-time" }, clockTime(trace.time)),
      h("span", { class: "trace-controller", "data-controller": trace.controller }, trace.controller),
      h("span", { class: "trace-object" }, trace.object)),
    trace.trigger ? h("p", { class: "trace-line" }, h("b", null, t("Why:")), " ", trace.trigger) : null,
    h("p", { class: "trace-line" }, h("b", null, t("Saw:")), " ", trace.observed),
    h("p", { class: "trace-line trace-decision" }, h("b", null, t("Decided:")), " ", trace.decision),
    actions.length ? h("p", { class: "trace-line" }, h("b", null, t("Did:")), " ", actions.join("; ")) : null);
    li.trace = trace;
    return li;
  }

  /** The cluster keys ("ns/name" pods, node names) a trace touched: its object, its pods, names in its actions. */
  function touched(trace) {
    const keys = new Set([trace.object]);
    if (!state) return keys;
    const [ns, name] = trace.object.includes("/") ? trace.object.split("/") : ["", trace.object];
    const text = (trace.actions || []).join(" ") + " " + trace.decision;
    for (const [key, pod] of Object.entries(state.objects.Pod)) {
      const owner = controllerOf(pod);
      if ((owner && owner.name === name && pod.metadata.namespace === ns) || text.includes(pod.metadata.name)) keys.add(key);
    }
    for (const nodeName of Object.keys(state.objects.Node)) if (text.includes(nodeName)) keys.add(nodeName);
    return keys;
  }

  function rebuild() {
    const shown = state ? state.traces.filter(matches).slice(-SHOWN).reverse() : [];
    list.replaceChildren(...shown.map(item));
  }

  list.addEventListener("mouseover", (event) => {
    const li = event.target.closest(".trace");
    if (li && !selected) onHighlight(touched(li.trace));
  });
  list.addEventListener("mouseleave", () => {
    if (!selected) onHighlight([]);
  });
  list.addEventListener("click", (event) => {
    const li = event.target.closest(".trace");
    if (!li) return;
    if (selected) selected.classList.remove("selected");
    if (selected === li) {
      selected = null;
      onHighlight([]);
      return;
    }
    selected = li;
    li.classList.add("selected");
    onHighlight(touched(li.trace));
  });
  list.addEventListener("dblclick", (event) => {
    const li = event.target.closest(".trace");
    if (!li) return;
    const kind = { job: "Job", cronjob: "CronJob", daemonset: "DaemonSet", kubelet: "Pod", scheduler: "Pod",
      resourcequota: "ResourceQuota" }[li.trace.controller];
    if (kind) onSelect({ kind, key: li.trace.object });
  });
  for (const control of [controllerFilter, objectFilter, busyOnly]) control.addEventListener("input", rebuild);

  function update(next, changes) {
    state = next;
    if (changes.full) {
      rebuild();
      return;
    }
    const fresh = changes.traces.filter(matches).slice(-PER_FRAME);
    if (!fresh.length) return;
    const items = fresh.reverse().map(item);
    list.prepend(...items);
    while (list.childElementCount > SHOWN) list.lastElementChild.remove();
  }

  return { update };
}
