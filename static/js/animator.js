// Capped, staggered animations.
//
// A burst of changes (a rolling update of 2,000 pods, a snapshot) must not start thousands of animations at once:
// each frame gets a budget, animations beyond it apply their end state directly, and those that do run start a
// little after one another (a stagger) so a batch reads as a wave. Animations use the Web Animations API on
// transform and opacity only, which the compositor runs without layout. Each running animation is a compositor
// layer, so besides the per-frame budget at most MAX_ACTIVE run at once. "Reduce motion" sets the budget to 0.

const FRAME_BUDGET = 12;
const MAX_ACTIVE = 40;
const STAGGER_MS = 28;
const STAGGER_SLOTS = 10;

export class Animator {
  constructor() {
    this.reduced = false;
    this.budget = FRAME_BUDGET;
    this.slot = 0;
    this.active = 0;
  }

  setReduced(reduced) {
    this.reduced = reduced;
    document.body.classList.toggle("reduce-motion", reduced);
  }

  /** Call once per rendered frame: refills the budget. */
  beginFrame() {
    this.budget = this.reduced ? 0 : FRAME_BUDGET;
    this.slot = 0;
  }

  /** True (and one unit of budget spent) when an animation may run now. */
  take() {
    if (this.budget <= 0 || this.reduced || this.active >= MAX_ACTIVE) return false;
    this.budget -= 1;
    return true;
  }

  /** Start an animation on `el` and count it while it runs. */
  _run(el, keyframes, options) {
    this.active += 1;
    const animation = el.animate(keyframes, options);
    const done = () => {
      this.active -= 1;
    };
    animation.addEventListener("finish", done, { once: true });
    animation.addEventListener("cancel", done, { once: true });
    return animation;
  }

  _delay() {
    return (this.slot++ % STAGGER_SLOTS) * STAGGER_MS;
  }

  /** A pod appears: grows from a dot. */
  enter(el) {
    if (!this.take()) return;
    this._run(el,
      [{ transform: "scale(0.2)", opacity: 0 }, { transform: "scale(1)", opacity: 1 }],
      { duration: 420, delay: this._delay(), easing: "cubic-bezier(.2,.8,.3,1.2)", fill: "backwards" },
    );
  }

  /** A pod's status changed (scheduled, pulled, running, completed, failed, restarted): a short pulse. */
  pulse(el, strong = false) {
    if (!this.take()) return;
    const peak = strong ? 1.35 : 1.18;
    this._run(el,
      [{ transform: "scale(1)" }, { transform: `scale(${peak})` }, { transform: "scale(1)" }],
      { duration: strong ? 520 : 360, delay: this._delay(), easing: "ease-out" },
    );
  }

  /** A pod moved between containers (unscheduled lane → node): FLIP from its old box. */
  move(el, from) {
    if (!from || !this.take()) return;
    const to = el.getBoundingClientRect();
    const dx = from.left - to.left;
    const dy = from.top - to.top;
    if (Math.abs(dx) < 1 && Math.abs(dy) < 1) return;
    this._run(el,
      [{ transform: `translate(${dx}px, ${dy}px)` }, { transform: "translate(0, 0)" }],
      { duration: 600, delay: this._delay(), easing: "cubic-bezier(.3,.7,.2,1)" },
    );
  }

  /** A pod is gone: shrinks and fades, then leaves the DOM (at once when over budget). */
  exit(el) {
    if (!this.take()) {
      el.remove();
      return;
    }
    el.classList.add("leaving");
    const animation = this._run(el,
      [{ transform: "scale(1)", opacity: 1 }, { transform: "scale(0.2)", opacity: 0 }],
      { duration: 380, delay: this._delay(), easing: "ease-in", fill: "forwards" },
    );
    animation.addEventListener("finish", () => el.remove(), { once: true });
    animation.addEventListener("cancel", () => el.remove(), { once: true });
  }
}
