// The teacher's grid of a class: a pure reducer of the class stream's messages (kubeviz/classroom/grid.py has the
// protocol), and pure functions that derive what the page shows: each cell's state, and the class's answers to
// every predict step. No DOM here: tests run this module in Node.

/** The state before the snapshot. `removed` remembers learners removed, so that a late row does not bring one
 * back. */
export function initialState() {
  return { synced: false, klass: null, lessons: [], learners: {}, removed: {}, serverNow: null, error: null, gone: false };
}

/** The next state after one message; `state` is never changed. */
export function reduce(state, message) {
  switch (message.type) {
    case "snapshot": {
      const learners = {};
      for (const row of message.learners) if (!state.removed[row.id]) learners[row.id] = row;
      return { ...state, synced: true, klass: message.class, lessons: message.lessons, learners, serverNow: message.now,
        error: null };
    }
    case "learner": {
      const row = message.learner;
      const old = state.learners[row.id];
      // A row read before the one shown (delivered late) is older: keep the newer.
      if (state.removed[row.id] || (old && old.v > row.v)) return state;
      return { ...state, learners: { ...state.learners, [row.id]: row } };
    }
    case "learner.removed": {
      const learners = { ...state.learners };
      delete learners[message.id];
      return { ...state, learners, removed: { ...state.removed, [message.id]: true } };
    }
    case "error":
      return { ...state, error: message.message };
    default:
      return state;
  }
}

/** The learners, by name (case and accents aside), then by id. */
export function sortedLearners(state) {
  return Object.values(state.learners).sort((a, b) =>
    a.name.localeCompare(b.name, undefined, { sensitivity: "base" }) || a.id - b.id);
}

/** Whole minutes from `since` (ISO) to `now` (epoch ms). */
export function minutesSince(since, now) {
  if (!since) return 0;
  return Math.max(0, Math.floor((now - Date.parse(since)) / 60000));
}

/**
 * What one cell (a learner × a step of a lesson) shows: {state, minutes, hints, prediction}.
 * `state`: "none" (the lesson not started), "passed", "current" (the learner is on it), "stuck" (on it for
 * `stuckMinutes` or more without passing), "todo".
 */
export function cellView(cell, index, now, stuckMinutes) {
  if (!cell) return { state: "none", minutes: 0, hints: 0, prediction: null };
  const hints = cell.hints[String(index)] || 0;
  const prediction = cell.predictions[String(index)] || null;
  const passed = cell.passed.includes(index);
  const minutes = cell.step === index ? minutesSince(cell.stepStarted, now) : 0;
  let state = "todo";
  if (passed) state = "passed";
  else if (cell.step === index) state = minutes >= stuckMinutes ? "stuck" : "current";
  return { state, minutes, hints, prediction, current: cell.step === index };
}

/** The value of a prediction as the page shows it (a choice, a number, a boolean). */
export function answerText(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "boolean" ? String(value) : String(value);
}

/**
 * The class's answers to every predict step of its lessons:
 * [{slug, lesson, index, question, answer, choices, committed, right, answers: [{value, count, correct}]}],
 * answers in the order of the step's choices (then by count); learners without a prediction are not counted.
 */
export function predictionTally(state) {
  const tally = [];
  for (const lesson of state.lessons) {
    for (const step of lesson.steps) {
      if (!step.predict) continue;
      const counts = new Map();
      let committed = 0;
      let right = 0;
      for (const row of Object.values(state.learners)) {
        const prediction = row.lessons[lesson.slug]?.predictions[String(step.index)];
        if (!prediction) continue;
        committed += 1;
        if (prediction.correct) right += 1;
        const key = answerText(prediction.value);
        const entry = counts.get(key) || { value: key, count: 0, correct: 0 };
        entry.count += 1;
        if (prediction.correct) entry.correct += 1;
        counts.set(key, entry);
      }
      const order = step.predict.choices;
      const answers = [...counts.values()].sort((a, b) => {
        const ia = order.indexOf(a.value);
        const ib = order.indexOf(b.value);
        if (ia !== ib) return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
        return b.count - a.count || a.value.localeCompare(b.value, undefined, { numeric: true });
      });
      tally.push({ slug: lesson.slug, lesson: lesson.title, index: step.index, question: step.predict.question,
        answer: step.predict.answer, choices: order, committed, right, answers });
    }
  }
  return tally;
}

/** The learner's last refused apply across their lessons ({message, at, slug}), or null. */
export function lastError(row) {
  let found = null;
  for (const [slug, cell] of Object.entries(row.lessons)) {
    if (cell.lastError && (!found || cell.lastError.at > found.at)) found = { ...cell.lastError, slug };
  }
  return found;
}
