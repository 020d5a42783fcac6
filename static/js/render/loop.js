// The control-loop diagram (API server → store → watch → queue → controller → API server): each store change
// lights the first half of the loop, each reconcile trace the second, and the controller box names who ran.
// Pulses are rate-limited so a burst keeps the loop lit rather than flickering.

const HOLD_MS = 450;

export function createLoopDiagram(svg, caption) {
  const stage = (name) => svg.querySelector(`[data-stage="${name}"]`);
  const edge = (name) => svg.querySelector(`[data-edge="${name}"]`);
  const controllerName = svg.querySelector("#loop-controller-name");
  const timers = new Map();

  function light(el) {
    if (!el) return;
    el.classList.add("lit");
    clearTimeout(timers.get(el));
    timers.set(el, setTimeout(() => el.classList.remove("lit"), HOLD_MS));
  }

  function pulse(changes) {
    if (changes.events) {
      for (const name of ["api", "store", "watch", "queue"]) light(stage(name));
      for (const name of ["api-store", "store-watch", "watch-queue"]) light(edge(name));
    }
    const last = changes.traces[changes.traces.length - 1];
    if (last) {
      light(stage("queue"));
      light(edge("queue-controller"));
      light(stage("controller"));
      controllerName.textContent = last.controller;
      if ((last.actions || []).length) {
        light(edge("controller-api"));
        light(stage("api"));
      }
      caption.textContent = `${last.controller} · ${last.object}: ${last.decision}`;
    }
  }

  return { pulse };
}
