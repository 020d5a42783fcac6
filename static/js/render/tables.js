// Resource tables with kubectl's columns and cells (kube.js ports the server's printers), for pods, nodes, jobs,
// cronjobs, daemonsets, controllerrevisions and events; `-o wide` and `-A` as in kubectl. A click on a row opens
// the object's details.

import { PRINTERS, cellText } from "../kube.js";
import { esc } from "../dom.js";
import { eventTime } from "../derive.js";

// `kinds`: the page config's kinds (the server's table of kinds): each one's plural and scope.
export function createTablesView({ root, kinds: served, onSelect }) {
  const byKind = Object.fromEntries(served.map((k) => [k.kind, k]));
  const table = root.querySelector("#resource-table");
  const kinds = root.querySelector("#table-kinds");
  const wide = root.querySelector("#table-wide");
  const allNamespaces = root.querySelector("#table-all-namespaces");
  const command = root.querySelector("#table-command");
  let kind = "Pod";
  let last = null;

  const view = {
    stale: true,
    accepts: (changes) => changes.full || changes.kinds.has(kind),
    render,
  };

  kinds.addEventListener("click", (event) => {
    const button = event.target.closest("[data-kind]");
    if (!button) return;
    kind = button.dataset.kind;
    for (const b of kinds.querySelectorAll("[data-kind]")) b.setAttribute("aria-pressed", String(b === button));
    if (last) render(last.state, last.now);
  });
  for (const control of [wide, allNamespaces]) {
    control.addEventListener("change", () => last && render(last.state, last.now));
  }
  table.addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-key]");
    if (row) onSelect({ kind: row.dataset.kind, key: row.dataset.key });
  });

  function render(state, now) {
    last = { state, now };
    const printer = PRINTERS[kind];
    const showWide = wide.checked;
    const { plural, namespaced } = byKind[kind];
    const withNamespace = allNamespaces.checked && namespaced;
    command.textContent = `kubectl get ${plural}${withNamespace ? " -A" : ""}${showWide ? " -o wide" : ""}`;
    let objects = Object.entries(state.objects[kind] || {});
    if (!withNamespace && namespaced) objects = objects.filter(([, o]) => (o.metadata.namespace || "default") === "default");
    // kubectl lists by namespace then name; events sort by when they were last seen (as `--sort-by` users do).
    if (kind === "Event") objects.sort(([, a], [, b]) => eventTime(a) - eventTime(b));
    else objects.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const columns = printer.columns.map((c, i) => ({ name: Array.isArray(c) ? c[0] : c, wide: Array.isArray(c), i }))
      .filter((c) => showWide || !c.wide);
    const head = (withNamespace ? "<th>NAMESPACE</th>" : "") + columns.map((c) => `<th>${esc(c.name)}</th>`).join("");
    const rows = objects.map(([key, obj]) => {
      const cells = printer.cells(obj, now);
      const ns = withNamespace ? `<td>${esc(obj.metadata.namespace || "")}</td>` : "";
      const tds = columns.map((c) => `<td data-col="${esc(c.name)}">${esc(cellText(cells[c.i]))}</td>`).join("");
      return `<tr data-kind="${kind}" data-key="${esc(key)}">${ns}${tds}</tr>`;
    });
    table.innerHTML = `<thead><tr>${head}</tr></thead><tbody>${rows.join("") ||
      `<tr class="empty"><td colspan="${columns.length + 1}">No resources found</td></tr>`}</tbody>`;
  }

  return view;
}
