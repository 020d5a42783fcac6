// The page's controls: the simulated clock (play/pause, step, speed, fast-forward) and adding a node.
// Each control calls the HTTP API; the new clock comes back in the answer (and on the websocket), and is fed to the
// reducer as a `clock` message so the page reacts at once.

import { h } from "./dom.js";
import { t } from "./i18n.js";

/** A short message in the corner: `kind` is "info" or "error". */
export function toast(message, kind = "info") {
  const root = document.getElementById("toasts");
  const el = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  root.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
}

function pad(n) {
  return String(n).padStart(2, "0");
}

/** "2025-01-01 12:00:05" in UTC: simulated time is UTC, as the cluster's timestamps are. */
export function formatSimTime(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** The clock's controls; `locked()` says they stay off whatever the clock does (the page shows the past). */
export function createClock({ api, dispatch, getState, simNow, locked = () => false }) {
  const play = document.querySelector('[data-testid="clock-play"]');
  const step = document.querySelector('[data-testid="clock-step"]');
  const speed = document.querySelector('[data-testid="clock-speed"]');
  const now = document.querySelector('[data-testid="clock-now"]');
  const advanceForm = document.querySelector('[data-testid="clock-advance-form"]');
  const progress = document.querySelector('[data-testid="clock-advance-progress"]');
  const cancel = document.querySelector('[data-testid="clock-advance-cancel"]');

  /** Feed an HTTP answer's clock to the reducer; simulated time never goes back on the page. */
  function adopt(clock) {
    if (!clock || !clock.now) return;
    const current = getState().clock;
    const now = current && current.now > clock.now ? current.now : clock.now;
    dispatch({ type: "clock", clock: { ...clock, now } });
  }

  // A clock message published by a tick that was already running when the clock was paused (or its speed changed)
  // can reach the page after the change and carry the old paused/speed; read the clock again a little later.
  let confirmTimers = [];
  function confirmSoon() {
    for (const timer of confirmTimers) clearTimeout(timer);
    confirmTimers = [400, 1500].map((ms) => setTimeout(() => api.clock().then(adopt).catch(() => {}), ms));
  }

  async function run(button, call) {
    button.disabled = true;
    try {
      adopt(await call());
      confirmSoon();
    } catch (error) {
      toast(error.message, "error");
    } finally {
      button.disabled = false;
    }
  }

  play.addEventListener("click", () => {
    const clock = getState().clock;
    run(play, () => api.setClock({ paused: !(clock ? clock.paused : true) }));
  });
  step.addEventListener("click", () => run(step, () => api.step()));
  speed.addEventListener("change", () => run(speed, () => api.setClock({ speed: Number(speed.value) })));
  advanceForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const seconds = Number(new FormData(advanceForm).get("seconds"));
    if (!(seconds > 0)) return;
    // A long fast-forward answers before it is done (202) and goes on on the server: the progress bar follows it.
    run(advanceForm.querySelector("button"), () => api.advance(seconds));
  });
  cancel.addEventListener("click", () => run(cancel, () => api.cancelAdvance()));

  function render() {
    const clock = getState().clock;
    if (!clock) return;
    const paused = clock.paused;
    play.dataset.paused = String(paused);
    play.querySelector(".label").textContent = paused ? t("Play") : t("Pause");
    play.setAttribute("aria-pressed", String(!paused));
    const value = String(clock.speed);
    if (document.activeElement !== speed) {
      const option = [...speed.options].find((o) => Number(o.value) === clock.speed);
      if (option) speed.value = option.value;
      else speed.value = value;
    }
    renderProgress(clock);
    tick();
  }

  function renderProgress(clock) {
    const advance = clock.advance;
    progress.hidden = !advance;
    advanceForm.querySelector("button").disabled = Boolean(advance) || locked();
    if (!advance) return;
    const from = Date.parse(advance.from), target = Date.parse(advance.target);
    const done = target > from ? (Date.parse(clock.now) - from) / (target - from) : 1;
    progress.querySelector("progress").value = Math.max(0, Math.min(1, done));
    progress.querySelector(".label").textContent =
      t("Fast-forwarding to {time}: {percent}%").replace("{time}", formatSimTime(target))
        .replace("{percent}", String(Math.floor(Math.max(0, Math.min(1, done)) * 100)));
  }

  function tick() {
    const clock = getState().clock;
    if (!clock) return;
    const ms = simNow();
    now.textContent = formatSimTime(ms);
    now.dataset.time = new Date(ms).toISOString();
  }

  return { render, tick };
}

/** "a=b,c=d" → {a: "b", c: "d"} */
export function parseLabels(text) {
  const labels = {};
  for (const part of (text || "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const [key, ...rest] = part.split("=");
    labels[key.trim()] = rest.join("=").trim();
  }
  return labels;
}

/** "key=value:Effect,key2:Effect" → [{key, value, effect}] (kubectl taint's syntax). */
export function parseTaints(text) {
  const taints = [];
  for (const part of (text || "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const colon = part.lastIndexOf(":");
    const effect = colon >= 0 ? part.slice(colon + 1) : "NoSchedule";
    const kv = colon >= 0 ? part.slice(0, colon) : part;
    const [key, ...rest] = kv.split("=");
    const taint = { key: key.trim(), effect };
    if (rest.length) taint.value = rest.join("=");
    taints.push(taint);
  }
  return taints;
}

export function createNodeActions({ api, form }) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await api.addNode({
        name: String(data.get("name")).trim(),
        labels: parseLabels(data.get("labels")),
        taints: parseTaints(data.get("taints")),
      });
      toast(t("node/{name} joined the cluster", { name: data.get("name") }));
      form.reset();
      form.closest("details").open = false;
    } catch (error) {
      toast(error.message, "error");
    }
  });
}

/** Import a recording file into a new cluster (named after the recorded one, with the first free ``-copy``
 * suffix) and open it; fork the cluster at its live instant and open the fork. */
export function createRecordingActions({ api, config, input, forkButton, open = (url) => window.location.assign(url) }) {
  input?.addEventListener("change", async () => {
    const file = input.files[0];
    if (!file) return;
    const text = await file.text();
    let base = "imported";
    try {
      base = String(JSON.parse(text)?.cluster?.name || base);
    } catch {
      // the server names what is wrong with the file
    }
    base = base.slice(0, 50).replace(/-+$/, "") || "imported";
    for (let n = 1; n <= 9; n += 1) {
      const name = n === 1 ? `${base}-copy` : `${base}-copy-${n}`;
      try {
        const made = await api.importRecording(text, name);
        open(`/c/${encodeURIComponent(made.name)}/`);
        return;
      } catch (error) {
        if (error.status === 409 && /already exists/.test(error.message)) continue;
        toast(t("Import refused: {message}", { message: error.message }), "error");
        break;
      }
    }
    input.value = "";
  });
  forkButton?.addEventListener("click", async () => {
    forkButton.disabled = true;
    try {
      const made = await api.fork({});
      toast(t("Forked {name}", { name: made.name }));
      open(`/c/${encodeURIComponent(made.name)}/`);
    } catch (error) {
      toast(error.message, "error");
    } finally {
      forkButton.disabled = false;
    }
  });
}
