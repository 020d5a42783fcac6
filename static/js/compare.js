// The compare page (/sim/compare?a=&b=): two clusters side by side from the instant they diverged. The server
// renders the frame; this module draws each side's pods by phase over time (an SVG of step lines), its Jobs' and
// DaemonSets' conditions and its events, from the page's JSON. Everything a learner wrote (names, messages) goes
// on the page as text, never as markup.

const SVG = "http://www.w3.org/2000/svg";
const COLOURS = { Pending: "#d4a017", Running: "#2b7bd6", Succeeded: "#2e9d57", Failed: "#c8372d", Unknown: "#888" };

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

/** The step lines of pods by phase: x is simulated time from the divergence, y the number of pods. */
export function chart(points, phases, { width = 480, height = 160, end, most = 0 } = {}) {
  const root = svg("svg", { viewBox: `0 0 ${width} ${height + 20}`, class: "phase-chart", role: "img" });
  if (!points.length) return root;
  const t0 = Date.parse(points[0].time);
  const t1 = Math.max(Date.parse(end || points[points.length - 1].time), t0 + 1000);
  const top = Math.max(1, most, ...points.map((p) => Math.max(...phases.map((phase) => p[phase] || 0))));
  const x = (t) => ((Date.parse(t) - t0) / (t1 - t0)) * width;
  const y = (n) => height - (n / top) * (height - 4);
  for (const phase of phases) {
    if (!points.some((p) => p[phase])) continue;
    let d = "";
    points.forEach((p, i) => {
      const px = x(p.time).toFixed(1);
      d += i === 0 ? `M${px},${y(p[phase]).toFixed(1)}` : `H${px}V${y(p[phase]).toFixed(1)}`;
    });
    d += `H${width}`;
    const line = svg("path", { d, fill: "none", stroke: COLOURS[phase], "stroke-width": 2, "data-phase": phase });
    const title = svg("title");
    title.textContent = phase;
    line.append(title);
    root.append(line);
  }
  const legend = svg("text", { x: 0, y: height + 16, class: "phase-legend" });
  const last = points[points.length - 1];
  legend.textContent = phases.filter((phase) => last[phase]).map((phase) => `${phase} ${last[phase]}`).join(" · ");
  root.append(legend);
  return root;
}

function workloads(list) {
  const box = document.createDocumentFragment();
  if (!list.length) box.append(el("p", { class: "empty" }, "—"));
  for (const w of list) {
    const card = el("div", { class: "compare-workload", "data-testid": `workload-${w.kind}-${w.name}` });
    card.append(el("strong", {}, `${w.kind} ${w.namespace}/${w.name}`));
    card.append(el("div", { class: "summary" },
      Object.entries(w.summary).map(([k, v]) => `${k} ${v}`).join(" · ")));
    const conditions = el("ul", { class: "conditions" });
    for (const c of w.conditions) {
      conditions.append(el("li", { "data-condition": c.type }, `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ""}`));
    }
    card.append(conditions);
    box.append(card);
  }
  return box;
}

function events(list) {
  const box = document.createDocumentFragment();
  for (const e of list) {
    const item = el("li", { "data-type": e.type });
    item.append(el("time", {}, e.time.replace("T", " ").replace(/\.\d+Z$/, "Z")), " ",
      el("b", {}, e.reason), " ", el("span", { class: "object" }, e.object), " ", el("span", {}, e.message));
    box.append(item);
  }
  return box;
}

function main() {
  const data = JSON.parse(document.getElementById("compare-data").textContent);
  // one time axis and one scale for both sides, so that the two charts compare at a glance
  const end = [data.a.now, data.b.now].sort().pop();
  const most = Math.max(...[...data.a.pods, ...data.b.pods].map((p) => Math.max(...data.phases.map((ph) => p[ph] || 0))));
  for (const which of ["a", "b"]) {
    const side = data[which];
    document.querySelector(`[data-chart="${which}"]`).append(chart(side.pods, data.phases, { end, most }));
    document.querySelector(`[data-workloads="${which}"]`).append(workloads(side.workloads));
    document.querySelector(`[data-events="${which}"]`).append(events(side.events));
  }
}

if (typeof document !== "undefined" && document.getElementById("compare-data")) main();
