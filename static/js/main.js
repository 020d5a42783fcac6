// The dashboard's composition root: it reads the page's configuration, owns the one state value, feeds the
// websocket's messages through the pure reducer (state.js), and hands each frame's changes to the views.
//
// Messages are queued as they arrive and applied once per animation frame, so a burst of events (a rolling update
// of hundreds of pods) costs one render. The cluster view is a keyed join updated incrementally; the other views
// redraw from the state, only while visible, at most a few times a second.

import { initialState, reduce, objectKey, unbatch } from "./state.js";
import { connect } from "./socket.js";
import { createApi } from "./api.js";
import { loadCatalogue, t } from "./i18n.js";
import { Animator } from "./animator.js";
import { createClusterView } from "./render/cluster.js";
import { createTablesView } from "./render/tables.js";
import { createTracesView } from "./render/traces.js";
import { createLoopDiagram } from "./render/loop.js";
import { createJobsView } from "./render/jobs.js";
import { createCronJobsView } from "./render/cronjobs.js";
import { createDaemonSetsView } from "./render/daemonsets.js";
import { createDetailsView } from "./render/details.js";
import { createClock, createNodeActions, createRecordingActions, toast } from "./controls.js";
import { createPendingNotice } from "./pending.js";
import { createEditor } from "./editor.js";
import { createConsole } from "./console.js";
import { createScrubber } from "./scrubber.js";
import { throttle } from "./dom.js";

const config = JSON.parse(document.getElementById("kubeviz-config").textContent);
loadCatalogue(document.getElementById("kubeviz-catalogue"));

const api = createApi(config);
const animator = new Animator();
let state = initialState(config.kinds.map((k) => k.kind));
// While the page shows the past (the timeline scrubber): {state, time}, the state the views show instead of the live
// one, which goes on taking the stream's messages meanwhile. null: the page is live.
let past = null;
let clockSeenAt = performance.now();
const queue = [];
let frameRequested = false;

/** The state the views show: the live one, or the past instant the scrubber is at. */
function shown() {
  return past ? past.state : state;
}

/** The simulated time now (epoch ms): the last clock reading, moved on by wall time × speed while playing; while
 * the page shows the past, that instant. */
function simNow() {
  if (past) return past.time;
  const clock = state.clock;
  if (!clock) return Date.now();
  const base = Date.parse(clock.now);
  if (clock.paused) return base;
  // The server publishes the clock after every tick; never run more than a couple of seconds ahead of it.
  const ahead = Math.min(performance.now() - clockSeenAt, 2000) * clock.speed;
  return base + ahead;
}

// --- the views -------------------------------------------------------------------------------------------------

const stageTabs = setUpTabs("stage", (tab) => refreshStage(tab, true));
const sideTabs = setUpTabs("side", (tab) => {
  if (tab === "details") details.update(shown(), simNow(), emptyChanges(true));
});

const cluster = createClusterView({
  root: document.getElementById("nodes"),
  ownersRoot: document.getElementById("owners"),
  animator,
  onSelect: select,
});
const tables = createTablesView({ root: document.querySelector('[data-panel="tables"]'), kinds: config.kinds,
  onSelect: select });
const jobs = createJobsView({ root: document.getElementById("jobs-view"), onSelect: select });
const cronjobs = createCronJobsView({ root: document.getElementById("cronjobs-view"), onSelect: select });
const daemonsets = createDaemonSetsView({ root: document.getElementById("daemonsets-view"), onSelect: select });
const loop = createLoopDiagram(document.getElementById("loop-diagram"), document.getElementById("loop-last"));
const traces = createTracesView({
  root: document.querySelector(".controllers-panel"),
  onHighlight: (keys) => cluster.highlight(keys),
  onSelect: select,
});
const editor = createEditor({ root: document.getElementById("editor-panel"), api, config, onApplied: () => {} });
const kubectlConsole = createConsole({
  root: document.getElementById("console-panel"),
  config,
  getState: shown,
  getEditorText: () => editor.value(),
  onShow: () => sideTabs.show("console"),
});
// Lesson text and other code run commands in the console: window.kubevizConsole.run("kubectl get pods").
window.kubevizConsole = kubectlConsole;
const details = createDetailsView({
  root: document.getElementById("details"),
  api,
  readOnly: Boolean(config.readOnly),
  onEdit(yaml) {
    editor.load(yaml);
    sideTabs.show("editor");
  },
  onSelect: select,
  // "See the cluster then" on one of an object's revisions: the scrubber goes to it.
  onShowAt: (resourceVersion) => scrubber.showResourceVersion(resourceVersion),
});
const clock = createClock({ api, dispatch, getState: shown, simNow, locked: () => Boolean(past) });
const pendingNotice = createPendingNotice({ root: document.querySelector('[data-testid="pending-notice"]'), api,
  dispatch, getState: () => state });
// A read-only view (a teacher's look at a learner's sandbox, the projector): every control that writes is hidden by
// the page's style and off here too; the server refuses writes to the view's capability anyway.
if (config.readOnly) {
  for (const el of document.querySelectorAll("[data-writes], [data-writes] button, [data-writes] input, [data-writes] select")) {
    if ("disabled" in el) el.disabled = true;
  }
}
createNodeActions({ api, form: document.getElementById("add-node-form") });
createRecordingActions({
  api, config,
  input: document.querySelector('[data-testid="recording-import"]'),
  forkButton: document.querySelector('[data-testid="fork-here"]'),
});

const stageViews = { jobs, cronjobs, daemonsets, tables };

function refreshStage(tab, force) {
  const view = stageViews[tab];
  if (view && (force || view.stale)) {
    view.stale = false;
    view.render(shown(), simNow());
  }
}

const refreshStageThrottled = throttle(() => refreshStage(stageTabs.current()), 400);
const refreshOwners = throttle(() => cluster.renderOwners(shown()), 300);
const refreshDetails = throttle((changes) => details.update(shown(), simNow(), changes), 300);

// --- selection ---------------------------------------------------------------------------------------------

/** Show an object's details: {kind, key} or {kind, uid}. */
function select(target) {
  details.select(target, shown(), simNow());
  sideTabs.show("details");
}

// --- the message loop -------------------------------------------------------------------------------------------

function emptyChanges(full = false) {
  return { full, kinds: new Set(), pods: new Set(), deletedPods: [], nodes: new Set(), keys: new Set(), traces: [], clock: false, events: 0 };
}

function note(changes, message, before, after) {
  if (after === before) return;
  switch (message.type) {
    case "snapshot":
      changes.full = true;
      changes.clock = true;
      for (const kind of Object.keys(after.objects)) changes.kinds.add(kind);
      break;
    case "event": {
      const { kind, object } = message;
      const key = objectKey(object);
      changes.kinds.add(kind);
      changes.keys.add(`${kind}:${key}`);
      changes.events += 1;
      if (kind === "Pod") {
        if (message.event === "DELETED") {
          changes.deletedPods.push(object.metadata.uid);
          changes.pods.delete(key);
        } else {
          const old = before.objects.Pod[key];
          if (old && old.metadata.uid !== object.metadata.uid) changes.deletedPods.push(old.metadata.uid);
          changes.pods.add(key);
        }
      } else if (kind === "Node") {
        changes.nodes.add(key);
      }
      break;
    }
    case "trace":
      changes.traces.push(message.trace);
      break;
    case "clock":
    case "resume":
      changes.clock = true;
      break;
    default:
      break;
  }
}

/** Feed one message (from the socket or a local clock answer) to the reducer on the next frame; a batch's
 * messages are queued one by one, so that each is noted for the views. */
function dispatch(message) {
  for (const one of unbatch(message)) queue.push(one);
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(frame);
  }
}

// How long each frame's work took (ms), the newest last: the benchmark reads it.
const frameCosts = [];

function frame() {
  const started = performance.now();
  frameRequested = false;
  const messages = queue.splice(0);
  const changes = emptyChanges();
  for (const message of messages) {
    const before = state;
    state = reduce(state, message);
    note(changes, message, before, state);
    if (state !== before) scrubber.noteLive(message);
  }
  if (changes.clock) clockSeenAt = performance.now();
  const reduced = performance.now();
  // While the page shows the past, the live changes wait: "Back to live" redraws everything.
  if (past) {
    if (changes.clock || changes.events) refreshBar();
  } else {
    render(changes);
  }
  frameCosts.push([messages.length, reduced - started, performance.now() - reduced]);
  if (frameCosts.length > 2000) frameCosts.splice(0, 1000);
}

function render(changes, { animate = true } = {}) {
  const state = shown();
  if (animate) animator.beginFrame();
  const now = simNow();
  const objectsChanged = changes.full || changes.kinds.size > 0;
  // Every stage view shows time (AGE, durations, the timelines' "now"): a jump of the paused clock (a step, a
  // fast-forward) moves it even when no object changed; while the clock plays, the interval below moves it.
  const jumped = changes.clock && state.clock && state.clock.paused;
  if (objectsChanged) {
    cluster.update(state, changes);
    refreshOwners();
  }
  if (objectsChanged || jumped) {
    for (const [tab, view] of Object.entries(stageViews)) {
      if (jumped || view.accepts(changes)) view.stale = true;
      if (tab === stageTabs.current() && view.stale) refreshStageThrottled();
    }
  }
  if (objectsChanged) {
    refreshDetails(changes);
    updateCounts();
  }
  if (changes.traces.length || changes.full) traces.update(state, changes);
  if (changes.events || changes.traces.length) loop.pulse(changes);
  if (changes.clock || changes.full) {
    clock.render();
    refreshBar();
  }
  pendingNotice.update(state, changes);
  if (state.error) showError(state.error);
}

function updateCounts() {
  const state = shown();
  for (const el of document.querySelectorAll("[data-count]")) {
    const n = Object.keys(state.objects[el.dataset.count] || {}).length;
    el.textContent = n ? String(n) : "";
  }
}

let lastError = null;
function showError(message) {
  if (message === lastError) return;
  lastError = message;
  toast(message, "error");
}

// Time-dependent cells (AGE, DURATION, the timelines' "now" line) move while the clock plays.
setInterval(() => {
  clock.tick();
  if (!past && state.clock && !state.clock.paused) {
    refreshBar();
    const view = stageViews[stageTabs.current()];
    if (view) view.stale = true;
    refreshStage(stageTabs.current());
  }
}, 1000);
setInterval(() => clock.tick(), 250);

// --- the past: the timeline scrubber ------------------------------------------------------------------------------

// Every control that writes, off while the page shows the past (a read-only view has them off for good).
const writeControls = [...document.querySelectorAll("[data-writes], [data-writes] button, [data-writes] input, [data-writes] select")]
  .filter((el) => "disabled" in el);
let disabledByPast = [];
function setPastControls(on) {
  if (on) {
    disabledByPast = writeControls.filter((el) => !el.disabled);
    for (const el of disabledByPast) el.disabled = true;
  } else {
    for (const el of disabledByPast) el.disabled = false;
    disabledByPast = [];
  }
  details.setReadOnly(on || Boolean(config.readOnly));
}

/** The scrubber's changes (Map of "kind\u0000key" → {kind, key, before, after}) in the message loop's shape. */
function changesFrom(touched) {
  if (!touched) return emptyChanges(true);
  const changes = emptyChanges();
  for (const { kind, key, before, after } of touched.values()) {
    if (before === after) continue;
    changes.kinds.add(kind);
    changes.keys.add(`${kind}:${key}`);
    changes.events += 1;
    if (kind === "Pod") {
      if (!after) {
        if (before) changes.deletedPods.push(before.metadata.uid);
      } else {
        if (before && before.metadata.uid !== after.metadata.uid) changes.deletedPods.push(before.metadata.uid);
        changes.pods.add(key);
      }
    } else if (kind === "Node") {
      changes.nodes.add(key);
    }
  }
  return changes;
}

const scrubber = createScrubber({
  root: document.getElementById("timeline"),
  banner: document.getElementById("past-banner"),
  api,
  kinds: config.kinds.map((k) => k.kind),
  getLive: () => state,
  simNow,
  onSeek(result) {
    if (result.tracesOnly) {
      if (!past) return;
      past = { ...past, state: { ...past.state, traces: result.traces } };
      traces.update(past.state, emptyChanges(true));
      return;
    }
    const entering = !past;
    const clockNow = new Date(result.time).toISOString();
    past = {
      time: result.time,
      state: {
        ...state, resourceVersion: String(result.rv), synced: true, error: null,
        clock: { now: clockNow, paused: true, speed: state.clock ? state.clock.speed : 1 },
        objects: result.objects, traces: result.traces,
      },
    };
    if (entering) setPastControls(true);
    const changes = entering ? emptyChanges(true) : changesFrom(result.touched);
    changes.clock = true; // the paused clock "jumped": every stage view redraws (throttled)
    // Scrubbing moves through many states a second: pods appear and go without animations, and the trace list
    // (a list of its own at each instant, not new traces after the last) is redrawn a few times a second.
    animator.beginFrame();
    animator.budget = 0;
    render(changes, { animate: false });
    if (!changes.full) refreshPastTraces();
  },
  onLive() {
    past = null;
    setPastControls(false);
    render(emptyChanges(true));
    for (const view of Object.values(stageViews)) view.stale = true;
    refreshStage(stageTabs.current(), true);
  },
});
const refreshBar = throttle(() => scrubber.renderBar(), 500);
const refreshPastTraces = throttle(() => past && traces.update(past.state, emptyChanges(true)), 250);

// --- tabs ----------------------------------------------------------------------------------------------------

function setUpTabs(name, onShow) {
  const nav = document.querySelector(`[data-tabs="${name}"]`);
  const container = nav.parentElement;
  let current = nav.querySelector('[aria-selected="true"]').dataset.tab;
  function show(tab) {
    current = tab;
    for (const button of nav.querySelectorAll("[data-tab]")) {
      button.setAttribute("aria-selected", String(button.dataset.tab === tab));
    }
    for (const panel of container.querySelectorAll(":scope > [data-panel]")) panel.hidden = panel.dataset.panel !== tab;
    onShow(tab);
  }
  nav.addEventListener("click", (event) => {
    const button = event.target.closest("[data-tab]");
    if (button) show(button.dataset.tab);
  });
  return { show, current: () => current };
}

// --- reduce motion -------------------------------------------------------------------------------------------

const motion = document.getElementById("reduce-motion");
const stored = localStorage.getItem("kubeviz.reduceMotion");
motion.checked = stored === null ? window.matchMedia("(prefers-reduced-motion: reduce)").matches : stored === "1";
animator.setReduced(motion.checked);
motion.addEventListener("change", () => {
  animator.setReduced(motion.checked);
  localStorage.setItem("kubeviz.reduceMotion", motion.checked ? "1" : "0");
});

// --- connect -----------------------------------------------------------------------------------------------------

const connection = document.querySelector('[data-testid="connection"]');
const CONNECTION_TEXT = {
  connecting: t("connecting…"),
  live: t("live"),
  reconnecting: t("reconnecting…"),
  gone: t("cluster not found"),
};
connect({
  url: config.ws,
  resourceVersion: () => (state.synced ? state.resourceVersion : null),
  onMessage: dispatch,
  onStatus(status) {
    connection.dataset.state = status;
    connection.textContent = CONNECTION_TEXT[status] || status;
  },
});

// For tests and the benchmark (bench/page.py feeds a synthetic stream through `dispatch`).
window.kubeviz = { get state() { return state; }, get shown() { return shown(); }, simNow, editor, select, dispatch,
  frameCosts, scrubber };
