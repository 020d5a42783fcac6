// The teacher's live grid of a class: the class's stream (a snapshot, then a row per change) through the pure
// reducer (./state.js), drawn as a table of learners × steps and a tally of the class's predictions; plus the
// buttons that act on the class (pause or play every sandbox, reset a learner).
//
// Everything a learner wrote (their name, a prediction, an apply's error) is put on the page as text
// (`textContent`, attribute values), never as HTML.

import { connect } from "../socket.js";
import { csrfHeader, h } from "../dom.js";
import { loadCatalogue, t } from "../i18n.js";
import { toast } from "../controls.js";
import { answerText, cellView, initialState, lastError, predictionTally, reduce, sortedLearners } from "./state.js";

const config = JSON.parse(document.getElementById("grid-config").textContent);
loadCatalogue(document.getElementById("kubeviz-catalogue"));

const table = document.querySelector('[data-testid="grid"]');
const empty = document.querySelector('[data-testid="grid-empty"]');
const tallyRoot = document.querySelector('[data-testid="tally"]');
let state = initialState();
// Server time minus this browser's (ms), so that "stuck for N minutes" is counted by the server's clock.
let offset = 0;
let frameRequested = false;

function now() {
  return Date.now() + offset;
}

function url(template, values) {
  let result = template;
  for (const [key, value] of Object.entries(values)) result = result.replace(key, encodeURIComponent(value));
  return result;
}

// --- drawing ---------------------------------------------------------------------------------------------------

function header() {
  const lessons = state.lessons;
  return h("thead", null,
    h("tr", null, h("th", { rowspan: "2" }, t("Learner")),
      lessons.map((lesson) => h("th", { class: "lesson-head", colspan: String(lesson.steps.length + 1) }, lesson.title)),
      h("th", { rowspan: "2" }, t("Last apply error")), h("th", { rowspan: "2" })),
    h("tr", null, lessons.map((lesson) => [
      ...lesson.steps.map((step, i) => h("th", { class: i === 0 ? "first-step" : null, title: step.title,
        scope: "col" }, step.predict ? `${i + 1}?` : String(i + 1))),
      h("th", null),
    ])));
}

function cellContent(view, step) {
  const parts = [];
  if (view.state === "passed") parts.push("✓");
  else if (view.current) parts.push("▶");
  if (view.current && view.state !== "passed" && view.minutes > 0) parts.push(h("small", null, t("{n} min", { n: view.minutes })));
  if (view.prediction) {
    parts.push(h("small", { class: "guess", "data-correct": String(view.prediction.correct),
      title: t("predicted {value}; the simulation showed {actual}", { value: answerText(view.prediction.value),
        actual: answerText(view.prediction.actual) }) }, answerText(view.prediction.value)));
  }
  if (view.hints) parts.push(h("small", { title: t("hints asked for") }, `?${view.hints}`));
  return parts;
}

function stateLabel(view) {
  return {
    passed: t("passed"), current: t("working on it"), stuck: t("stuck for {n} minutes", { n: view.minutes }),
    todo: t("not reached"), none: t("lesson not started"),
  }[view.state];
}

function row(learner) {
  const cells = [];
  for (const lesson of state.lessons) {
    const cell = learner.lessons[lesson.slug];
    lesson.steps.forEach((step, i) => {
      const view = cellView(cell, step.index, now(), config.stuckMinutes);
      cells.push(h("td", { class: i === 0 ? "first-step" : null },
        h("div", { class: "grid-cell", "data-testid": "grid-cell", "data-lesson": lesson.slug,
          "data-step": String(step.index), "data-state": view.state,
          title: `${learner.name} · ${step.title}: ${stateLabel(view)}` }, cellContent(view, step))));
    });
    cells.push(h("td", { class: "grid-links" }, cell ? [
      cell.idle ? h("span", { "data-testid": "grid-idle", title: t("paused: nobody used it for a while") }, "⏸ ")
        : cell.paused ? h("span", { "data-testid": "grid-paused", title: t("its clock is paused") }, "⏸ ") : null,
      h("a", { href: url(config.urls.view, { CLUSTER: cell.cluster }), "data-testid": "grid-view",
        title: t("Open the sandbox, read-only") }, t("view")),
      h("a", { href: url(config.urls.present, { CLUSTER: cell.cluster }), "data-testid": "grid-present",
        title: t("Show it on the projector") }, t("project")),
    ] : null));
  }
  const error = lastError(learner);
  return h("tr", { "data-testid": "grid-row", "data-learner": String(learner.id) },
    h("th", { class: "learner-name", scope: "row", "data-testid": "grid-name" }, learner.name),
    cells,
    h("td", { class: "grid-error", "data-testid": "grid-error", title: error ? error.message : null },
      error ? error.message : ""),
    h("td", null, h("button", { type: "button", class: "btn btn-small", "data-testid": "grid-reset",
      "data-learner": String(learner.id) }, t("Reset"))));
}

function tally() {
  const steps = predictionTally(state);
  if (!steps.length) return [h("p", { class: "muted" }, t("No predict step in this class's lessons."))];
  return steps.map((step) => {
    const most = Math.max(1, ...step.answers.map((a) => a.count));
    return h("section", { class: "tally-step", "data-testid": "tally-step", "data-lesson": step.slug,
      "data-step": String(step.index) },
    h("h3", null, `${step.lesson} · ${step.index + 1}: ${step.question}`),
    h("p", { class: "muted" }, t("{n} predicted, {right} right; the lesson's answer: {answer}",
      { n: step.committed, right: step.right, answer: step.answer })),
    h("ul", { class: "tally-bars" }, step.answers.map((answer) => h("li", {
      class: "tally-bar", "data-testid": "tally-answer", "data-value": answer.value,
      "data-count": String(answer.count), "data-correct": String(answer.correct > 0) },
    h("span", { class: "tally-value" }, answer.value),
    h("span", { class: "bar", style: `width: ${Math.round((100 * answer.count) / most)}%` }),
    h("span", null, String(answer.count))))));
  });
}

function render() {
  frameRequested = false;
  if (!state.synced) return;
  const learners = sortedLearners(state);
  table.replaceChildren(header(), h("tbody", null, learners.map(row)));
  empty.hidden = learners.length > 0;
  tallyRoot.replaceChildren(h("div", { class: "tally" }, tally()));
}

function dispatch(message) {
  if (message.type === "snapshot") offset = Date.parse(message.now) - Date.now();
  state = reduce(state, message);
  if (message.type === "error") toast(message.message, "error");
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(render);
  }
}

// "stuck for N minutes" moves on with time.
setInterval(() => dispatch({ type: "tick" }), 30000);

// --- acting on the class -----------------------------------------------------------------------------------------

async function post(path, fields) {
  const response = await fetch(path, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded", ...csrfHeader() },
    body: new URLSearchParams(fields),
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || body.message || `${response.status} ${response.statusText}`);
  return body;
}

for (const button of document.querySelectorAll('[data-testid="pause-all"], [data-testid="play-all"]')) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const body = await post(config.urls.clock, { paused: button.dataset.paused });
      toast(body.paused ? t("Every sandbox is paused ({n} clocks stopped).", { n: body.changed })
        : t("Every sandbox plays ({n} clocks started).", { n: body.changed }));
    } catch (error) {
      toast(error.message, "error");
    } finally {
      button.disabled = false;
    }
  });
}

// Reset asks twice: the first click arms the button for a few seconds, the second resets.
table.addEventListener("click", async (event) => {
  const button = event.target.closest('[data-testid="grid-reset"]');
  if (!button) return;
  if (button.dataset.armed !== "true") {
    button.dataset.armed = "true";
    button.textContent = t("Reset: sure?");
    setTimeout(() => {
      if (!button.isConnected) return;
      delete button.dataset.armed;
      button.textContent = t("Reset");
    }, 4000);
    return;
  }
  button.disabled = true;
  try {
    await post(config.urls.reset.replace("/learners/0/", `/learners/${Number(button.dataset.learner)}/`), {});
    toast(t("Reset: their next Start begins afresh."));
  } catch (error) {
    toast(error.message, "error");
    button.disabled = false;
  }
});

// --- the stream ------------------------------------------------------------------------------------------------

const connection = document.querySelector('[data-testid="connection"]');
const CONNECTION_TEXT = {
  connecting: t("connecting…"), live: t("live"), reconnecting: t("reconnecting…"), gone: t("class not found"),
  forbidden: t("not your class"),
};
connect({
  url: config.ws,
  resourceVersion: () => null,
  onMessage: dispatch,
  onStatus(status) {
    connection.dataset.state = status;
    connection.textContent = CONNECTION_TEXT[status] || status;
  },
});

// For tests.
window.kubevizGrid = { get state() { return state; } };
