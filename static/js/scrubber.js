// The timeline scrubber: a time bar over the cluster's kept history. Dragging it (or stepping with `[` and `]`, or
// Alt+← and Alt+→) shows the cluster as it was at that instant, read-only, until "Back to live" (or Escape).
//
// The change log is loaded from the history endpoint the first time the bar is used (in pages), then grown from the
// live stream (static/js/history.js); each time the page goes from live to the past it catches up with the
// endpoint, for the exact time and author of what the stream brought. The past state is handed to `onSeek`, with the
// changes since the last one in the message loop's shape, so the views update incrementally; the controllers'
// traces of the instant come from the traces endpoint (`from`/`to`), the page's own recent ones meanwhile.

import { Timeline } from "./history.js";
import { t } from "./i18n.js";
import { formatSimTime } from "./controls.js";

const PAGE = 5000;
const TRACE_WINDOW_MS = 5 * 60 * 1000; // how far back from the instant the trace panel reaches
const NARROW_TRACE_WINDOW_MS = 20 * 1000; // the same, when the wide window holds more than a page of traces
const TRACES_SHOWN = 500;

function iso(ms) {
  return new Date(ms).toISOString();
}

function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.closest(".CodeMirror, [contenteditable='true']")) return true;
  const tag = target.tagName;
  return (tag === "INPUT" && target.type !== "range") || tag === "TEXTAREA" || tag === "SELECT";
}

/** "MODIFIED Pod default/pi-x7k2p", and who: "job", "you (editor)", "system". */
export function describeActor(actor) {
  if (!actor) return "";
  if (actor.type === "controller") return actor.controller || t("a controller");
  if (actor.type === "user") {
    const door = actor.door || "api";
    return actor.who ? t("{who} ({door})", { who: actor.who, door }) : t("a user ({door})", { door });
  }
  if (actor.type === "system") return actor.what ? t("the simulator: {what}", { what: actor.what }) : t("the simulator");
  return "";
}

export function createScrubber({ root, banner, api, kinds, getLive, simNow, onSeek, onLive, onLoadError }) {
  const range = root.querySelector('[data-testid="timeline-range"]');
  const oldestLabel = root.querySelector('[data-testid="timeline-oldest"]');
  const status = root.querySelector('[data-testid="timeline-status"]');
  const prev = root.querySelector('[data-testid="timeline-prev"]');
  const next = root.querySelector('[data-testid="timeline-next"]');
  const backButtons = document.querySelectorAll('[data-testid="back-to-live"]');
  const bannerTime = banner.querySelector('[data-testid="past-time"]');
  const bannerChange = banner.querySelector('[data-testid="past-change"]');

  const timeline = new Timeline(kinds);
  let loading = null; // the promise of the first load or a catch-up
  let pendingLive = []; // live events that came while the first load ran
  let past = null; // {position, time}
  let wanted = null; // what the user asked for while the log loaded: {time}, {step} or {rv}
  let framePending = false;
  let traceTimer = null;
  let traceFetched = null; // {from, to, items}
  let available = true;

  // -- loading -----------------------------------------------------------------------------------------------

  async function fetchPages(after) {
    let token = null;
    do {
      const params = { limit: PAGE };
      if (token) params.continue = token;
      else if (after) params.after = after;
      const page = await api.history(params);
      if (timeline.load(page) && past) past.position = timeline.positionOfRv(past.rv);
      token = page.continue || null;
      if (!timeline.loaded) status.textContent = t("loading history… {n} changes", { n: timeline.length });
    } while (token);
  }

  function ensureLoaded() {
    if (timeline.loaded) return Promise.resolve();
    if (!loading) {
      status.textContent = t("loading history…");
      loading = fetchPages(0).then(() => {
        timeline.loaded = true;
        const now = simNow();
        for (const message of pendingLive) timeline.appendLive(message, now);
        pendingLive = [];
        status.textContent = "";
        renderBar();
      }).catch((error) => {
        available = false;
        status.textContent = t("history unavailable: {message}", { message: error.message });
        if (onLoadError) onLoadError(error);
        throw error;
      }).finally(() => {
        loading = null;
      });
    }
    return loading;
  }

  /** Catch up with the endpoint: the exact times and authors of what the live stream brought since the load. */
  function catchUp() {
    if (!timeline.loaded || loading) return loading || Promise.resolve();
    loading = fetchPages(timeline.exactThrough).catch(() => {}).finally(() => {
      loading = null;
    });
    return loading;
  }

  // A cheap first look: how far back the history goes, for the bar's left end, without loading it.
  api.history({ limit: 1 }).then((page) => {
    if (!timeline.loaded) timeline.load({ ...page, changes: [] });
    renderBar();
  }).catch((error) => {
    available = false;
    range.disabled = prev.disabled = next.disabled = true;
    status.textContent = t("history unavailable: {message}", { message: error.message });
  });

  // -- the bar -----------------------------------------------------------------------------------------------

  function bounds() {
    const now = getLive().clock ? Date.parse(getLive().clock.now) : simNow();
    const oldest = timeline.oldest && timeline.oldest.time !== null ? timeline.oldest.time
      : (timeline.length ? timeline.entries[0].time : now);
    return { oldest: Math.min(oldest, now), now };
  }

  function renderBar() {
    const { oldest, now } = bounds();
    // Whole seconds: a simulated instant is what the bar picks.
    range.min = String(Math.floor(oldest / 1000));
    range.max = String(Math.ceil(now / 1000));
    if (!past && document.activeElement !== range) range.value = range.max;
    else if (past) range.value = String(Math.floor(past.time / 1000));
    oldestLabel.textContent = available ? t("history from {time}", { time: formatSimTime(oldest) }) : "";
    oldestLabel.dataset.time = iso(oldest);
    root.dataset.mode = past ? "past" : "live";
  }

  function renderBanner() {
    banner.hidden = !past;
    document.body.dataset.past = past ? "true" : "false";
    for (const button of backButtons) button.hidden = !past;
    if (!past) return;
    bannerTime.textContent = formatSimTime(past.time);
    bannerTime.dateTime = iso(past.time);
    banner.dataset.position = String(past.position);
    banner.dataset.resourceVersion = String(timeline.rvOf(past.position));
    const entry = timeline.entry(past.position);
    bannerChange.textContent = entry
      ? t("change {n} of {total}: {type} {kind} {name}", {
        n: past.position, total: timeline.length, type: entry.type, kind: entry.kind, name: entry.key,
      }) + (entry.actor ? ` · ${describeActor(entry.actor)}` : "")
      : t("before the first kept change");
    bannerChange.dataset.kind = entry ? entry.kind : "";
    bannerChange.dataset.name = entry ? entry.key : "";
    bannerChange.dataset.type = entry ? entry.type : "";
  }

  // -- moving ------------------------------------------------------------------------------------------------

  // What each move cost (ms): [changes crossed, rebuilding the state, drawing it]; the benchmark reads it.
  const costs = [];

  function show(position, time) {
    const started = performance.now();
    const from = timeline.cursor ? timeline.cursor.position : timeline.length;
    const result = timeline.seek(position);
    const sought = performance.now();
    const entryTime = timeline.timeOf(result.position);
    past = { position: result.position, rv: timeline.rvOf(result.position), time: time ?? entryTime };
    renderBar();
    renderBanner();
    onSeek({ ...result, time: past.time, rv: past.rv, traces: tracesAt(past.time) });
    costs.push([Math.abs(result.position - from), sought - started, performance.now() - sought]);
    if (costs.length > 2000) costs.splice(0, 1000);
    scheduleTraces();
  }

  function apply() {
    framePending = false;
    if (!wanted || !timeline.loaded) return;
    const request = wanted;
    wanted = null;
    if ("rv" in request) {
      show(timeline.positionOfRv(request.rv));
    } else if ("time" in request) {
      const { now } = bounds();
      if (request.time >= now) {
        live();
        return;
      }
      show(timeline.positionAt(request.time), request.time);
    } else {
      const from = past ? past.position : timeline.length;
      const target = from + request.step;
      if (target > timeline.length) {
        live();
        return;
      }
      show(Math.max(timeline.minPosition, target));
    }
  }

  function request(what) {
    if (!available) return;
    const entering = !past;
    wanted = what;
    const go = () => {
      if (!framePending) {
        framePending = true;
        requestAnimationFrame(apply);
      }
    };
    if (!timeline.loaded) ensureLoaded().then(go, () => {});
    else {
      go();
      if (entering) catchUp().then(() => past && renderBanner());
    }
  }

  function live() {
    if (!past) return;
    past = null;
    wanted = null;
    clearTimeout(traceTimer);
    renderBar();
    renderBanner();
    onLive();
  }

  // -- the controllers' traces of the instant -------------------------------------------------------------------

  function tracesAt(time) {
    const limit = (items) => items.filter((tr) => Date.parse(tr.time) <= time).slice(-TRACES_SHOWN);
    if (traceFetched && traceFetched.from <= time && time <= traceFetched.to) return limit(traceFetched.items);
    const own = getLive().traces;
    if (own.length && Date.parse(own[0].time) <= time) return limit(own);
    return traceFetched ? limit(traceFetched.items) : [];
  }

  function scheduleTraces() {
    clearTimeout(traceTimer);
    traceTimer = setTimeout(async () => {
      if (!past) return;
      const time = past.time;
      // Whole seconds: the endpoint's bounds are RFC 3339 instants, and the traces of the instant's second count.
      const to = Math.floor(time / 1000) * 1000 + 999;
      try {
        // Oldest first, a page at a time: a busy window (more than a page) is read again, narrower, for its end.
        let span = TRACE_WINDOW_MS;
        let answer = await api.traces({ from: iso(to - span), to: iso(to) });
        if (answer.continue) {
          span = NARROW_TRACE_WINDOW_MS;
          answer = await api.traces({ from: iso(to - span), to: iso(to) });
        }
        traceFetched = { from: to - span, to: time, items: (answer.items || []).slice(-TRACES_SHOWN) };
        if (past && past.time === time) onSeek({ traces: tracesAt(time), tracesOnly: true });
      } catch {
        // the page's own traces stay
      }
    }, 150);
  }

  // -- input -------------------------------------------------------------------------------------------------

  range.addEventListener("pointerdown", () => ensureLoaded().catch(() => {}));
  range.addEventListener("focus", () => ensureLoaded().catch(() => {}));
  range.addEventListener("input", () => request({ time: Number(range.value) * 1000 }));
  prev.addEventListener("click", () => request({ step: -1 }));
  next.addEventListener("click", () => request({ step: 1 }));
  for (const button of backButtons) button.addEventListener("click", live);
  document.addEventListener("keydown", (event) => {
    if (isTyping(event.target) || event.ctrlKey || event.metaKey) return;
    const back = (event.key === "[" && !event.altKey) || (event.altKey && event.key === "ArrowLeft");
    const forward = (event.key === "]" && !event.altKey) || (event.altKey && event.key === "ArrowRight");
    if (back || forward) {
      event.preventDefault();
      request({ step: back ? -1 : 1 });
    } else if (event.key === "Escape" && past) {
      event.preventDefault();
      live();
    }
  });

  return {
    timeline,
    costs,
    /** A live message went through the reducer: the log grows (once loaded), the bar's right end moves. */
    noteLive(message) {
      if (message.type !== "event") return;
      if (timeline.loaded) timeline.appendLive(message, simNow());
      else if (loading) pendingLive.push(message);
    },
    renderBar,
    /** Show the cluster right after the change that made resourceVersion `rv`. */
    showResourceVersion: (rv) => request({ rv }),
    isPast: () => Boolean(past),
    time: () => (past ? past.time : null),
    live,
  };
}
