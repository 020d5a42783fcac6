// The Job view: per Job, kubectl's COMPLETIONS with a progress bar (succeeded / completions, active, failed),
// its conditions, backoff and deadline, and a Gantt timeline of every pod's life — created, waiting for its
// container (scheduling, image pull), running, finished — so "four batches of two" can be seen at a glance.
//
// A pod's batch is its generation: 1 + the highest batch among the Job's pods that had finished when it was
// created (pods created while nothing had finished yet are batch 1). It needs no threshold and reads correctly
// whatever the start-up jitter between nodes.

import { h, esc } from "../dom.js";
import { t } from "../i18n.js";
import { controllerOf, humanDuration, jobCompletionsText, jobDurationText, jobFinishedTime, jobStatusText, parseTime, podStatusText, statusFamily } from "../kube.js";
import { podTimeline } from "../derive.js";

/** Assign batch numbers to a Job's pods (see the module comment); returns Map(uid → batch). */
export function batches(pods) {
  const lives = pods.map((pod) => ({ uid: pod.metadata.uid, ...podTimeline(pod) }))
    .sort((a, b) => (a.created ?? 0) - (b.created ?? 0));
  // Pods finished before a pod's creation were created before it, so their batches are known by then.
  const byFinish = lives.filter((l) => l.finished !== null).sort((a, b) => a.finished - b.finished);
  const batch = new Map();
  let next = 0;
  let highest = 0;
  for (const life of lives) {
    // (a pod that finished in the second it was created, this one or one created with it, has no batch yet: it
    // is counted for the pods created after it)
    while (next < byFinish.length && byFinish[next].finished <= (life.created ?? 0) && batch.has(byFinish[next].uid)) {
      highest = Math.max(highest, batch.get(byFinish[next].uid));
      next += 1;
    }
    batch.set(life.uid, highest + 1);
  }
  return batch;
}

function niceStep(span) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
  const seconds = span / 1000;
  return (steps.find((s) => seconds / s <= 8) || 86400) * 1000;
}

export function createJobsView({ root, onSelect }) {
  root.addEventListener("click", (event) => {
    const el = event.target.closest("[data-select-kind]");
    if (el) onSelect({ kind: el.dataset.selectKind, key: el.dataset.selectKey });
  });

  function render(state, now) {
    const jobs = Object.entries(state.objects.Job).sort(([, a], [, b]) =>
      (parseTime(b.metadata.creationTimestamp) - parseTime(a.metadata.creationTimestamp)) || a.metadata.name.localeCompare(b.metadata.name));
    if (!jobs.length) {
      root.replaceChildren(h("p", { class: "empty" }, t("No Jobs yet. Apply the pi or paral-1 example from the editor.")));
      return;
    }
    const podsByJob = new Map();
    for (const pod of Object.values(state.objects.Pod)) {
      const owner = controllerOf(pod);
      if (owner?.kind !== "Job") continue;
      if (!podsByJob.has(owner.uid)) podsByJob.set(owner.uid, []);
      podsByJob.get(owner.uid).push(pod);
    }
    // Many Jobs (a CronJob's history): show the newest dozen in full.
    root.innerHTML = jobs.slice(0, 12).map(([key, job]) => card(key, job, podsByJob.get(job.metadata.uid) || [], now)).join("") +
      (jobs.length > 12 ? `<p class="hint">${esc(t("{n} older Jobs are in the Tables tab.", { n: jobs.length - 12 }))}</p>` : "");
  }

  function card(key, job, pods, now) {
    const spec = job.spec || {};
    const s = job.status || {};
    const status = jobStatusText(job);
    const wanted = spec.completions ?? Math.max(1, spec.parallelism ?? 1);
    const pct = (n) => `${Math.min(100, (100 * n) / Math.max(1, wanted)).toFixed(2)}%`;
    const conditions = (s.conditions || []).filter((c) => c.status === "True")
      .map((c) => `<span class="chip chip-cond" title="${esc(c.message || "")}">${esc(c.type)}${c.reason ? ` · ${esc(c.reason)}` : ""}</span>`).join("");
    const owner = controllerOf(job);
    return `<article class="workload job-card" data-testid="job" data-job-name="${esc(job.metadata.name)}" data-status="${esc(status)}">
      <header class="workload-head">
        <h3><button type="button" class="linklike" data-select-kind="Job" data-select-key="${esc(key)}">job/${esc(job.metadata.name)}</button></h3>
        <span class="badge" data-job-status="${esc(status)}">${esc(status)}</span>
        <span class="big-number" data-testid="job-completions" title="COMPLETIONS">${esc(jobCompletionsText(job))}</span>
        <span class="muted">DURATION ${esc(jobDurationText(job, now) || "—")}</span>
        ${owner ? `<span class="muted">← ${esc(owner.kind.toLowerCase())}/${esc(owner.name)}</span>` : ""}
      </header>
      <div class="progress" role="img" aria-label="${esc(t("{succeeded} succeeded, {active} active, {failed} failed of {wanted}", { succeeded: s.succeeded || 0, active: s.active || 0, failed: s.failed || 0, wanted }))}">
        <span class="seg seg-succeeded" style="width:${pct(s.succeeded || 0)}"></span><span class="seg seg-active" style="width:${pct(s.active || 0)}"></span>
      </div>
      <p class="stats">
        <span><b>${s.succeeded || 0}</b> ${esc(t("succeeded"))} / ${wanted}</span>
        <span><b>${s.active || 0}</b> ${esc(t("active"))} (${esc(t("parallelism"))} ${spec.parallelism ?? 1})</span>
        <span class="${s.failed ? "bad" : ""}"><b>${s.failed || 0}</b> ${esc(t("failed"))} (backoffLimit ${spec.backoffLimit ?? 6})</span>
        ${spec.activeDeadlineSeconds ? `<span>activeDeadlineSeconds ${spec.activeDeadlineSeconds}</span>` : ""}
        ${conditions}
      </p>
      ${gantt(job, pods, now)}
    </article>`;
  }

  function gantt(job, pods, now) {
    if (!pods.length) return `<p class="empty">${esc(t("No pods (yet)."))}</p>`;
    const order = batches(pods);
    const rows = pods.map((pod) => ({ pod, life: podTimeline(pod), batch: order.get(pod.metadata.uid) }))
      .sort((a, b) => a.batch - b.batch || (a.life.created ?? 0) - (b.life.created ?? 0) || a.pod.metadata.name.localeCompare(b.pod.metadata.name));
    const start = Math.min(parseTime(job.status?.startTime) ?? Infinity, ...rows.map((r) => r.life.created ?? Infinity));
    const completion = parseTime(job.status?.completionTime);
    const finishedAt = jobFinishedTime(job);
    const deadline = job.spec?.activeDeadlineSeconds && parseTime(job.status?.startTime) !== null
      ? parseTime(job.status.startTime) + job.spec.activeDeadlineSeconds * 1000 : null;
    let end = Math.max(finishedAt ?? now, ...rows.map((r) => r.life.finished ?? 0));
    if (deadline && deadline > end && deadline - start < 3 * (end - start)) end = deadline;
    const span = Math.max(10000, end - start);
    const x = (ms) => `${((100 * (ms - start)) / span).toFixed(3)}%`;
    const w = (a, b) => `${Math.max(0.4, (100 * (b - a)) / span).toFixed(3)}%`;
    const step = niceStep(span);
    let ticks = "";
    for (let ms = 0; ms <= span; ms += step) {
      ticks += `<span class="tick" style="left:${((100 * ms) / span).toFixed(3)}%">+${esc(humanDuration(ms))}</span>`;
    }
    // After a failed pod, the Job controller waits (backoff: 10 s, doubling) before creating the next one.
    const creations = rows.map((r) => r.life.created).filter((c) => c !== null).sort((a, b) => a - b);
    // (a later pod's: one that fails in the second it was created must not find itself)
    const nextCreation = (after, created) => creations.find((c) => c >= after && c > created) ?? null;
    const ROW_LIMIT = 150;
    const hidden = rows.length - ROW_LIMIT;
    let lastBatch = 0;
    const body = rows.slice(0, ROW_LIMIT).map(({ pod, life, batch }) => {
      const status = podStatusText(pod);
      const family = statusFamily(status);
      const created = life.created ?? start;
      const started = life.started;
      const finished = life.finished;
      const runEnd = finished ?? (pod.metadata.deletionTimestamp ? parseTime(pod.metadata.deletionTimestamp) : now);
      const waitEnd = started ?? (finished ?? now);
      const restarts = (pod.status?.containerStatuses || []).map((cs) => parseTime(cs.lastState?.terminated?.finishedAt)).filter((v) => v !== null);
      const backoff = (fam, end) => {
        if (fam !== "failed" || end === null) return "";
        const next = nextCreation(end, created);
        if (next === null && finishedAt !== null) return "";  // the Job ended: no pod comes after this one
        const until = next ?? now;
        if (until - end < 1000) return "";
        return `<span class="g-backoff" style="left:${x(end)};width:${w(end, until)}" title="${esc(t("backoff {s}s before the next pod", { s: Math.round((until - end) / 1000) }))}"></span>`;
      };
      const first = batch !== lastBatch;
      lastBatch = batch;
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      return `<div class="g-row${first ? " g-first" : ""}" data-batch="${batch}">
        <span class="g-batch">${first ? esc(t("batch {n}", { n: batch })) : ""}</span>
        <button type="button" class="g-label linklike" data-select-kind="Pod" data-select-key="${esc(key)}" title="${esc(pod.metadata.name)}">${esc(pod.metadata.name)}</button>
        <span class="g-status" data-family="${family}">${esc(status)}</span>
        <div class="g-track">
          <span class="g-bar" data-testid="gantt-bar" data-pod-name="${esc(pod.metadata.name)}" data-batch="${batch}" data-start="${created}" data-end="${finished ?? ""}" style="left:${x(created)};width:${w(created, runEnd)}">
            <span class="g-wait" style="width:${((100 * (waitEnd - created)) / Math.max(1, runEnd - created)).toFixed(2)}%" title="${esc(t("waiting: scheduling, image pull, container start"))}"></span><span class="g-run" data-family="${family}" title="${esc(status)}"></span>
          </span>
          ${restarts.map((r) => `<span class="g-restart" style="left:${x(r)}" title="${esc(t("container restarted"))}"></span>`).join("")}
          ${backoff(family, finished)}
        </div>
      </div>`;
    }).join("") + (hidden > 0 ? `<p class="hint">${esc(t("{n} more pods not drawn.", { n: hidden }))}</p>` : "");
    return `<div class="gantt" data-testid="gantt">
      <div class="g-axis"><span class="g-batch"></span><span class="g-label"></span><span class="g-status"></span><div class="g-track">${ticks}</div></div>
      ${body}
      <div class="g-overlay"><div class="g-track">
        ${finishedAt === null ? `<span class="g-now" style="left:${x(now)}" title="${esc(t("now"))}"></span>`
          : `<span class="g-done${completion === null ? " g-job-failed" : ""}" style="left:${x(finishedAt)}" title="${completion === null ? "Failed" : "completionTime"}"></span>`}
        ${deadline ? `<span class="g-deadline" style="left:${x(deadline)}" title="activeDeadlineSeconds"></span>` : ""}
      </div></div>
      <p class="g-legend"><span class="g-key g-key-wait"></span>${esc(t("waiting (scheduled, pulling, starting)"))} <span class="g-key g-key-run"></span>${esc(t("running"))} <span class="g-key g-key-done"></span>${esc(t("completed"))} <span class="g-key g-key-fail"></span>${esc(t("failed"))} <span class="g-key g-key-backoff"></span>${esc(t("backoff"))}${deadline ? ` <span class="g-key g-key-deadline"></span>activeDeadlineSeconds` : ""}</p>
    </div>`;
  }

  return {
    stale: true,
    accepts: (changes) => changes.full || changes.kinds.has("Job") || changes.kinds.has("Pod"),
    render,
  };
}
