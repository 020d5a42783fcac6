// The CronJob view: a time axis per CronJob with its past triggers and the Jobs they created (coloured by how
// each ended), runs skipped because one was still active (Forbid: JobAlreadyActive), Jobs replaced (Replace),
// Jobs deleted by the history limits, and the next scheduled times.

import { h, esc } from "../dom.js";
import { t } from "../i18n.js";
import { controllerOf, jobFinishedTime, jobStatusText, parseTime, since } from "../kube.js";
import { eventTime } from "../derive.js";

const SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp";
const MACROS = {
  "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
};
const NAMES = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
  sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

function field(text, min, max) {
  const values = new Set();
  for (const part of text.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText ? Number(stepText) : 1;
    let lo;
    let hi;
    if (range === "*" || range === "?") [lo, hi] = [min, max];
    else {
      const [a, b] = range.split("-").map((v) => (v.toLowerCase() in NAMES ? NAMES[v.toLowerCase()] : Number(v)));
      lo = a;
      hi = b === undefined ? (stepText ? max : a) : b;
    }
    if ([lo, hi, step].some((v) => Number.isNaN(v)) || step <= 0) return null;
    for (let v = lo; v <= hi; v += step) values.add(v === 7 && max === 7 ? 0 : v);
  }
  return values;
}

/** The next `count` times (epoch ms, UTC) after `from` matching a standard 5-field schedule; [] if unsupported. */
export function nextTimes(schedule, from, count) {
  const text = MACROS[(schedule || "").trim()] || (schedule || "").trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5) return [];
  const [minute, hour, dom, month, dow] = [field(parts[0], 0, 59), field(parts[1], 0, 23), field(parts[2], 1, 31),
    field(parts[3], 1, 12), field(parts[4], 0, 7)];
  if (!minute || !hour || !dom || !month || !dow) return [];
  const domStar = parts[2] === "*" || parts[2] === "?";
  const dowStar = parts[4] === "*" || parts[4] === "?";
  const found = [];
  let at = Math.floor(from / 60000) * 60000 + 60000;
  for (let i = 0; i < 60 * 24 * 366 && found.length < count; i++, at += 60000) {
    const d = new Date(at);
    if (!minute.has(d.getUTCMinutes()) || !hour.has(d.getUTCHours()) || !month.has(d.getUTCMonth() + 1)) continue;
    const domOk = dom.has(d.getUTCDate());
    const dowOk = dow.has(d.getUTCDay());
    // cron's rule: when both day fields are restricted, either may match.
    if (domStar || dowStar ? domOk && dowOk : domOk || dowOk) found.push(at);
  }
  return found;
}

/** The scheduled time (epoch ms) in a text that ends in a CronJob's Job name ("hello-28928162", "Created job
 * hello-28928162"): the Job is named after its scheduled minute since the epoch. Null when it does not end so. */
function namedSlot(message) {
  const minutes = Number(((message || "").match(/-(\d+)\s*$/) || [])[1]);
  return Number.isFinite(minutes) && minutes > 0 ? minutes * 60000 : null;
}

function scheduledTime(job) {
  return parseTime(job.metadata.annotations?.[SCHEDULED_ANNOTATION]) ?? namedSlot(job.metadata.name)
    ?? parseTime(job.metadata.creationTimestamp);
}

/** The schedule slots a Forbid CronJob skipped, from its JobAlreadyActive Events: the recorder folds them into one
 * Event (count, first and last time), and a slot the controller refused while a Job ran may still start late once
 * it ends. So: the slots of the schedule from the Event's first time to its last for which no Job was created.
 * Null when the slots cannot be worked out here (a time zone, a schedule this view does not read). */
export function skippedSlots(schedule, events, createdSlots, timeZone) {
  if (timeZone) return null;
  const slots = [];
  for (const ev of events) {
    const first = parseTime(ev.firstTimestamp) ?? eventTime(ev);
    const last = eventTime(ev);
    // Triggers fall on whole minutes; the controller sees one within a second or so of it.
    const times = nextTimes(schedule, first - 60000, 1 + Math.round((last - first) / 60000));
    if (!times.length) return null;
    for (const at of times) if (at <= last && !createdSlots.has(at) && !slots.includes(at)) slots.push(at);
  }
  return slots.sort((a, b) => a - b);
}

const MINUTE = 60000;
const DAY = 24 * 60 * MINUTE;
const MAX_TICKS = 15;

/** A tick every minute on a short axis; on a long one (a yearly schedule's next run is a year away) a round step
 * that keeps the ticks to MAX_TICKS, so the page never draws one per minute of a year. */
export function tickStep(span) {
  const minutes = [1, 2, 5, 10, 15, 30, 60, 120, 360, 720, 1440].find((m) => span / (m * MINUTE) <= MAX_TICKS);
  return minutes ? minutes * MINUTE : Math.ceil(span / (MAX_TICKS * DAY)) * DAY;
}

function hhmm(ms) {
  return new Date(ms).toISOString().slice(11, 16);
}

export function createCronJobsView({ root, onSelect }) {
  root.addEventListener("click", (event) => {
    const el = event.target.closest("[data-select-kind]");
    if (el) onSelect({ kind: el.dataset.selectKind, key: el.dataset.selectKey });
  });

  function render(state, now) {
    const cronjobs = Object.entries(state.objects.CronJob).sort(([a], [b]) => a.localeCompare(b));
    if (!cronjobs.length) {
      root.replaceChildren(h("p", { class: "empty" }, t("No CronJobs yet. Apply the hello example from the editor.")));
      return;
    }
    root.innerHTML = cronjobs.map(([key, cj]) => card(key, cj, state, now)).join("");
  }

  function card(key, cj, state, now) {
    const spec = cj.spec || {};
    const ns = cj.metadata.namespace;
    const jobs = Object.entries(state.objects.Job).filter(([, job]) => controllerOf(job)?.uid === cj.metadata.uid);
    const events = Object.values(state.objects.Event).filter((ev) => ev.involvedObject?.uid === cj.metadata.uid);
    const created = new Set(events.filter((ev) => ev.reason === "SuccessfulCreate").map(eventTime));
    // The slots Jobs were created for: a Job's name ends in its scheduled minute (since the epoch).
    const createdSlots = new Set(jobs.map(([, job]) => scheduledTime(job)));
    for (const ev of events) {
      const slot = ev.reason === "SuccessfulCreate" || ev.reason === "SuccessfulDelete" ? namedSlot(ev.message) : null;
      if (slot !== null) createdSlots.add(slot);
    }
    const skipped = skippedSlots(spec.schedule, events.filter((ev) => ev.reason === "JobAlreadyActive"),
      createdSlots, spec.timeZone);
    const next = spec.suspend ? [] : nextTimes(spec.schedule, now, 4);
    const windowStart = Math.max(parseTime(cj.metadata.creationTimestamp) - 30000, now - 10 * 60000);
    const windowEnd = Math.max(now + 60000, (next[Math.min(2, next.length - 1)] ?? now) + 30000);
    const span = windowEnd - windowStart;
    const x = (ms) => `${((100 * (ms - windowStart)) / span).toFixed(3)}%`;
    const inWindow = (ms) => ms >= windowStart && ms <= windowEnd;
    const marks = [];
    for (const [jobKey, job] of jobs) {
      const at = scheduledTime(job);
      // The bar runs from the Job's creation (later than its slot when Forbid made it wait) to its end.
      const begin = Math.max(at, parseTime(job.metadata.creationTimestamp) ?? at);
      const status = jobStatusText(job);
      const end = jobFinishedTime(job) ?? now;
      if (!inWindow(at) && !inWindow(end)) continue;
      marks.push(`<button type="button" class="cj-run" data-testid="cronjob-run" data-status="${esc(status)}" data-select-kind="Job" data-select-key="${esc(jobKey)}"
        style="left:${x(Math.max(begin, windowStart))};width:${Math.max(0.6, (100 * (Math.min(end, windowEnd) - Math.max(begin, windowStart))) / span).toFixed(3)}%"
        title="job/${esc(job.metadata.name)} · ${esc(status)}"></button>
        <span class="cj-label" style="left:${x(Math.max(at, windowStart))}">${esc(job.metadata.name.split("-").pop())}</span>`);
    }
    for (const ev of events) {
      let at = eventTime(ev);
      let kind = null;
      let label = "";
      if (ev.reason === "JobAlreadyActive") {
        if (skipped) continue;  // drawn per slot below
        [kind, label] = ["skipped", t("skipped (Forbid: a Job is still active)")];
      } else if (ev.reason === "SuccessfulDelete") {
        const replaced = (spec.concurrencyPolicy === "Replace") && created.has(at);
        [kind, label] = replaced ? ["replaced", t("replaced (Replace)")] : ["deleted", t("deleted by the history limit")];
        // Draw the deleted Job where it ran: at its scheduled time.
        at = namedSlot(ev.message) ?? at;
      } else if (ev.reason === "MissSchedule" || ev.reason === "TooManyMissedTimes") [kind, label] = ["missed", ev.message];
      if (!kind || !inWindow(at)) continue;
      const count = ev.count > 1 ? ` ×${ev.count}` : "";
      marks.push(`<span class="cj-mark cj-${kind}" data-testid="cronjob-${kind}" style="left:${x(at)}" title="${esc(label)}${count}: ${esc(ev.message || "")}"></span>`);
    }
    for (const at of skipped || []) {
      if (inWindow(at)) marks.push(`<span class="cj-mark cj-skipped" data-testid="cronjob-skipped" style="left:${x(at)}" title="${esc(t("skipped (Forbid: a Job is still active)"))}: ${hhmm(at)}"></span>`);
    }
    for (const at of next) {
      if (inWindow(at)) marks.push(`<span class="cj-next" data-testid="cronjob-next" style="left:${x(at)}" title="${esc(t("next: {time}", { time: new Date(at).toISOString() }))}"><span>${hhmm(at)}</span></span>`);
    }
    const ticks = [];
    const step = tickStep(span);
    for (let m = Math.ceil(windowStart / step) * step; m <= windowEnd; m += step) {
      ticks.push(`<span class="tick" style="left:${x(m)}">${step >= DAY ? new Date(m).toISOString().slice(5, 10) : hhmm(m)}</span>`);
    }
    const counts = {
      skipped: skipped ? skipped.length
        : events.filter((e) => e.reason === "JobAlreadyActive").reduce((n, e) => n + (e.count || 1), 0),
      deleted: events.filter((e) => e.reason === "SuccessfulDelete").reduce((n, e) => n + (e.count || 1), 0),
    };
    return `<article class="workload cronjob-card" data-testid="cronjob" data-cronjob-name="${esc(cj.metadata.name)}">
      <header class="workload-head">
        <h3><button type="button" class="linklike" data-select-kind="CronJob" data-select-key="${esc(key)}">cronjob/${esc(cj.metadata.name)}</button></h3>
        <code class="big-number">${esc(spec.schedule || "")}</code>
        <span class="chip">concurrencyPolicy ${esc(spec.concurrencyPolicy || "Allow")}</span>
        ${spec.suspend ? `<span class="badge badge-warn">suspend</span>` : ""}
        <span class="muted">LAST SCHEDULE ${esc(cj.status?.lastScheduleTime ? since(cj.status.lastScheduleTime, now) : "<none>")}</span>
        <span class="muted">ACTIVE ${(cj.status?.active || []).length}</span>
      </header>
      <div class="cj-axis">
        <div class="cj-track">${ticks.join("")}${marks.join("")}<span class="g-now" style="left:${x(now)}" title="${esc(t("now"))}"></span></div>
      </div>
      <p class="stats">
        <span><b>${jobs.length}</b> ${esc(t("Jobs kept"))} (${esc(t("history limits"))}: ${spec.successfulJobsHistoryLimit ?? 3} ${esc(t("successful"))}, ${spec.failedJobsHistoryLimit ?? 1} ${esc(t("failed"))})</span>
        <span><b>${counts.skipped}</b> ${esc(t("skipped"))}</span>
        <span><b>${counts.deleted}</b> ${esc(t("deleted"))}</span>
        <span>${esc(t("next"))}: ${next.slice(0, 3).map(hhmm).join(", ") || "—"}</span>
      </p>
      <p class="g-legend"><span class="g-key g-key-run"></span>${esc(t("running"))} <span class="g-key g-key-done"></span>${esc(t("completed"))} <span class="g-key g-key-fail"></span>${esc(t("failed"))}
        <span class="cj-mark-key cj-skipped"></span>${esc(t("skipped (Forbid)"))} <span class="cj-mark-key cj-replaced"></span>${esc(t("replaced (Replace)"))}
        <span class="cj-mark-key cj-deleted"></span>${esc(t("deleted (history limit)"))} <span class="cj-mark-key cj-next-key"></span>${esc(t("next triggers"))}</p>
    </article>`;
  }

  return {
    stale: true,
    accepts: (changes) => changes.full || changes.kinds.has("CronJob") || changes.kinds.has("Job") || changes.kinds.has("Event"),
    render,
  };
}
