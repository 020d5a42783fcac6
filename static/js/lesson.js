// The lesson panel: the current step's text, kubectl commands and manifests, and the buttons a learner uses
// (Load YAML, Check, Show me, Previous/Next, a hint at a time, a predict step's prediction). Everything it changes
// goes through /lessons/<slug>/api/...; the dashboard below it (main.js) shows the cluster live as usual.
//
// Every few seconds the panel asks the server to run the actions that are due while the step has some (resume a
// Job once another completed, ...), and, while the step has not passed, how its checks stand: the server
// evaluates them again as the cluster changes, so the step turns green by itself. Check stays, for a learner who
// wants to know now.

import { csrfHeader, h } from "./dom.js";
import { t } from "./i18n.js";
import { toast } from "./controls.js";

const POLL_MS = 2000;

const config = JSON.parse(document.getElementById("lesson-config").textContent);
const panel = document.getElementById("lesson-panel");
const $ = (selector) => panel.querySelector(selector);
const result = $('[data-testid="lesson-result"]');
let step = config.step;
let busy = false;
let pollTimer = null;
// Actions of the step still to run (-1: not known yet, ask the server).
let pendingActions = -1;
// The evaluation shown, to redraw only when the server's changed.
let shownEvaluation = "";

async function call(path, body) {
  const response = await fetch(`${config.api}/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json", ...csrfHeader() },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const parsed = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(parsed.error || parsed.message || `${response.status} ${response.statusText}`);
  return parsed;
}

// --- showing a step ----------------------------------------------------------------------------------------

function renderProgress(steps) {
  for (const button of panel.querySelectorAll("[data-goto]")) {
    const index = Number(button.dataset.goto);
    if (index === step.index) button.setAttribute("aria-current", "step");
    else button.removeAttribute("aria-current");
    const info = steps[index];
    if (info && info.passed) button.dataset.passed = "true";
    else delete button.dataset.passed;
  }
  $('[data-testid="lesson-counter"]').textContent = t("Step {n} of {total}", { n: step.index + 1, total: step.count });
  $('[data-action="prev"]').disabled = step.index === 0;
  $('[data-action="next"]').disabled = step.index >= step.count - 1;
  panel.dataset.step = String(step.index);
  panel.dataset.passed = String(Boolean(step.passed));
}

function renderStep() {
  $('[data-testid="lesson-step-title"]').textContent = step.title;
  // Rendered on the server from the lesson's Markdown: escaped first, then a fixed set of tags.
  $('[data-testid="lesson-text"]').innerHTML = step.html;
  $('[data-testid="lesson-kubectl"]').textContent = step.kubectl.map((c) => `$ ${c}`).join("\n");
  const notes = $('[data-testid="lesson-notes"]');
  notes.textContent = step.notes.join("; ");
  notes.hidden = !step.notes.length;
  renderHints();
  renderPredict();
  $('[data-action="load"]').disabled = !step.manifests.length;
  result.replaceChildren();
  result.dataset.state = "";
  shownEvaluation = "";
  if (step.evaluation) renderChecks(step.evaluation);
  renderProgress(step.steps);
}

function renderHints() {
  const hints = $('[data-testid="lesson-hints"]');
  $('[data-testid="lesson-hint-list"]').replaceChildren(...step.hints.map((hint) => h("li", null, hint)));
  hints.hidden = !step.hintCount;
  const left = step.hintCount - step.hints.length;
  const button = $('[data-action="hint"]');
  button.hidden = left <= 0;
  button.textContent = step.hints.length ? t("Another hint ({n} left)", { n: left }) : t("Show a hint");
}

function renderChecks(body) {
  shownEvaluation = JSON.stringify([body.passed, body.checks]);
  const checks = body.checks || [];
  const passing = checks.filter((c) => c.passed).length;
  result.dataset.state = body.passed ? "passed" : "failed";
  const summary = body.passed
    ? t("All checks pass. Well done!")
    : t("{n} of {total} checks pass.", { n: passing, total: checks.length });
  const extra = [...(body.problems || []), ...(body.done || []).filter((d) => d.includes(": "))];
  result.replaceChildren(...[
    h("p", { class: "lesson-summary", "data-testid": "lesson-summary" }, summary),
    // A check's message says what is still wrong; once it passes, say what was seen instead.
    h("ul", { class: "lesson-checks" }, checks.map((c) => h("li", {
      class: "lesson-check", "data-testid": "lesson-check-item", "data-passed": String(c.passed),
      title: c.passed ? c.message : c.detail,
    }, h("span", { class: "mark", "aria-hidden": "true" }, c.passed ? "✓" : "✗"), " ",
    h("span", { class: "visually-hidden" }, c.passed ? t("passed") : t("failed")), c.passed ? c.detail : c.message))),
    extra.length ? h("p", { class: "lesson-problems" }, extra.map((p) => t("Could not do: {problem}", { problem: p })).join("\n")) : null,
  ].filter(Boolean));
  if (body.steps) step.steps = body.steps;
  if (body.passed) step.passed = true;
  renderProgress(step.steps);
}

// --- a predict step ----------------------------------------------------------------------------------------------

function renderPredict() {
  const predict = step.predict;
  $('[data-testid="lesson-predict"]').hidden = !predict;
  const pending = Boolean(predict && !predict.committed);
  document.body.dataset.predicting = String(pending);
  lockClock(pending);
  if (!predict) return;
  $('[data-testid="predict-question"]').textContent = predict.question;
  $('[data-testid="predict-choices"]').replaceChildren(...predict.choices.map((choice, i) => h("label",
    { class: "lesson-choice-option" },
    h("input", { type: "radio", name: "choice", value: choice, "data-testid": `predict-choice-${i}` }), " ", choice)));
  $('[data-testid="predict-number-label"]').hidden = predict.choices.length > 0;
  const committed = predict.committed;
  $('[data-testid="predict-form"]').hidden = Boolean(committed);
  $('[data-testid="predict-note"]').hidden = Boolean(committed);
  const out = $('[data-testid="predict-result"]');
  if (!committed) {
    out.replaceChildren();
    delete out.dataset.correct;
    return;
  }
  out.dataset.correct = String(Boolean(committed.correct));
  const actual = committed.actual === null || committed.actual === undefined ? t("nothing") : String(committed.actual);
  out.replaceChildren(
    h("p", null, t("You predicted {value}; the simulation shows {actual}.", { value: String(committed.value), actual }),
      " ", committed.correct ? t("Right!") : t("Not this time.")),
    committed.explain ? h("p", { class: "explain" }, committed.explain) : null,
  );
}

/** While a prediction is pending the dashboard's clock controls are off: predict first, then the clock moves. */
function lockClock(locked) {
  for (const el of document.querySelectorAll(".clock button, .clock select, .clock input")) {
    if (locked) {
      el.dataset.lockedByLesson = "true";
      el.disabled = true;
    } else if (el.dataset.lockedByLesson) {
      delete el.dataset.lockedByLesson;
      el.disabled = false;
    }
  }
}

function predictionValue() {
  const form = $('[data-testid="predict-form"]');
  if (step.predict.choices.length) return form.querySelector('input[name="choice"]:checked')?.value ?? null;
  const raw = form.querySelector('input[name="value"]').value.trim();
  return raw === "" ? null : Number(raw);
}

// --- the buttons ---------------------------------------------------------------------------------------------

function loadYaml() {
  const manifests = step.manifests;
  if (!manifests.length) return;
  const text = manifests.map((m) => m.yaml.replace(/\s+$/, "") + "\n").join("---\n");
  window.kubeviz.editor.load(text);
  document.querySelector('[data-tabs="side"] [data-tab="editor"]')?.click();
  const output = document.getElementById("apply-output");
  if (output) {
    output.textContent = t("loaded {n} file(s): {names}", { n: manifests.length, names: manifests.map((m) => m.name).join(", ") });
    output.dataset.state = "";
  }
}

async function busyWith(button, pending, work) {
  if (busy) return;
  busy = true;
  button.disabled = true;
  result.dataset.state = "pending";
  result.replaceChildren(h("p", { class: "lesson-summary" }, pending));
  try {
    await work();
  } catch (error) {
    result.dataset.state = "error";
    result.replaceChildren(h("p", { class: "lesson-summary" }, error.message));
    toast(error.message, "error");
  } finally {
    busy = false;
    button.disabled = false;
    renderProgress(step.steps);
  }
}

async function goTo(index, button) {
  if (index < 0 || index >= step.count || index === step.index) return;
  await busyWith(button, t("loading…"), async () => {
    step = await call("step", { step: index });
    pendingActions = -1;
    renderStep();
    for (const problem of step.problems || []) toast(t("Could not do: {problem}", { problem }), "error");
    startPolling();
  });
}

panel.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.goto !== undefined) {
    goTo(Number(button.dataset.goto), button);
    return;
  }
  switch (button.dataset.action) {
    case "load":
      loadYaml();
      break;
    case "check":
      busyWith(button, t("checking…"), async () => renderChecks(await call("check", {})));
      break;
    case "show-me":
      busyWith(button, t("Applying the solution and running the step…"), async () => {
        const body = await call("show-me", {});
        renderChecks(body);
        if (body.log && body.log.length) toast(body.log.join("\n"));
      });
      break;
    case "hint":
      busyWith(button, t("loading…"), async () => {
        const body = await call("hint", {});
        step.hints = body.hints;
        step.hintCount = body.hintCount;
        result.replaceChildren();
        result.dataset.state = "";
        shownEvaluation = "";
        renderHints();
      });
      break;
    case "prev":
      goTo(step.index - 1, button);
      break;
    case "next":
      goTo(step.index + 1, button);
      break;
    default:
      break;
  }
});

$('[data-testid="predict-form"]').addEventListener("submit", (event) => {
  event.preventDefault();
  const value = predictionValue();
  if (value === null || Number.isNaN(value)) {
    toast(t("Pick or type your answer first."), "error");
    return;
  }
  busyWith($('[data-testid="predict-commit"]'), t("The clock moves; the simulation grades your prediction…"),
    async () => {
      const body = await call("predict", { value });
      step.predict = body.predict;
      renderPredict();
      renderChecks(body);
    });
});

// --- while the learner works: due actions, and the checks as the server evaluates them again ---------------------

function startPolling() {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, POLL_MS);
}

async function poll() {
  if (busy || document.hidden) {
    startPolling();
    return;
  }
  let again = false;
  try {
    if (pendingActions !== 0) {
      const body = await call("actions", {});
      for (const done of body.done || []) toast(t("Lesson: {action}", { action: done }));
      pendingActions = body.pending;
      again ||= body.pending > 0;
    }
    if (!step.passed) {
      again = true;
      const body = await call("progress");
      if (!busy && body.index === step.index) {
        const evaluation = body.evaluation;
        if (evaluation && JSON.stringify([evaluation.passed, evaluation.checks]) !== shownEvaluation) {
          renderChecks({ ...evaluation, steps: body.steps });
        }
        if (body.passed && !step.passed) {
          step.passed = true;
          step.steps = body.steps;
          renderProgress(step.steps);
        }
      }
    }
  } catch {
    again = true;
  }
  if (again) startPolling();
}

// main.js (a later module) loads the translations; render once every module has run.
document.addEventListener("DOMContentLoaded", () => {
  renderStep();
  startPolling();
});
