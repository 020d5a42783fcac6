// The notice of work waiting on a paused clock: a learner who applies a Job while the clock is paused sees that the
// controllers have it queued and that Play or Step will run it, instead of a page where nothing happens.
//
// The server's clock says what is waiting (`clock.pending`: count, the first few {controller, key, due}, and whether
// it is the resync of controllers not started yet) in its answers and in the clock messages of a run. A write while
// paused arrives as object events with no new clock, so after such events (and after a snapshot) the notice reads the
// clock again, once the burst is over.

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { formatSimTime } from "./controls.js";

// How long after the last change the clock is read again (ms): a burst of writes costs one read.
const SETTLE_MS = 300;

export function createPendingNotice({ root, api, dispatch, getState }) {
  const title = root.querySelector(".pending-title");
  const list = root.querySelector(".pending-items");
  let timer = null;
  let shown = "";

  function reread() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      api.clock().then((clock) => {
        const current = getState().clock;
        if (!clock || !clock.now || (current && current.now > clock.now)) return; // overtaken by a newer clock
        dispatch({ type: "clock", clock });
      }).catch(() => {});
    }, SETTLE_MS);
  }

  function item({ controller, key, due }, now) {
    const when = Date.parse(due);
    const text = when > now
      ? t("{controller}: {key} (due {time})", { controller, key, time: formatSimTime(when) })
      : t("{controller}: {key}", { controller, key });
    return h("li", { dataset: { controller, key } }, text);
  }

  function render(clock) {
    const pending = clock && clock.paused ? clock.pending : null;
    const key = pending ? JSON.stringify(pending) : "";
    if (key === shown) return;
    shown = key;
    if (!pending || !pending.count) {
      root.hidden = true;
      return;
    }
    title.textContent = pending.resync
      ? t("The clock is paused and the controllers have not started: {n} key(s) to look at first.", { n: pending.count })
      : t("The clock is paused and the controllers have work waiting: {n} key(s) queued.", { n: pending.count });
    const now = Date.parse(clock.now);
    const more = pending.count - pending.items.length;
    list.replaceChildren(...pending.items.map((one) => item(one, now)),
      more > 0 ? h("li", { class: "more" }, t("and {n} more", { n: more })) : null);
    root.hidden = false;
  }

  /** Called with each frame's changes: show what the clock says, and read it again after writes on a paused clock
   * (or a clock without its pending work, such as a snapshot's). */
  function update(state, changes) {
    const clock = state.clock;
    render(clock);
    if (!clock || !clock.paused || clock.advance) return;
    if (changes.events || changes.full || (changes.clock && !clock.pending)) reread();
  }

  return { update };
}
