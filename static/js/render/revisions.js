// One object's history, for the Details panel: every kept revision, newest first, with who made it (a controller
// and the reconcile trace that decided it, a user and the door they came through, or the simulator) and what it
// changed against the revision before, as a line diff of the YAML.
//
// The revisions come from the history endpoint filtered to the object (kind, namespace, name; paged); a trace is
// read from the traces endpoint when the reader opens it. Everything the object holds is put on the page as text.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { dump } from "../yaml.js";
import { hunks, lineDiff } from "../diff.js";
import { describeActor } from "../scrubber.js";
import { formatSimTime } from "../controls.js";

const CONTEXT = 2;

/** The object as the diff shows it: its resourceVersion (new in every revision) and managedFields left out. */
function diffable(obj) {
  if (!obj) return [];
  const { metadata = {}, ...rest } = obj;
  const { resourceVersion, managedFields, ...meta } = metadata; // eslint-disable-line no-unused-vars
  return dump({ ...rest, metadata: meta }).replace(/\n$/, "").split("\n");
}

function diffView(before, after, type) {
  const lines = type === "DELETED" ? [] : hunks(lineDiff(diffable(before), diffable(after)), CONTEXT);
  if (type === "DELETED") return h("p", { class: "revision-deleted" }, t("deleted"));
  if (!lines.length) return h("p", { class: "empty" }, t("no change but its resourceVersion"));
  return h("pre", { class: "diff", "data-testid": "revision-diff" }, lines.map((line) =>
    h("span", { class: `diff-line diff-${{ "+": "add", "-": "del", " ": "same", "…": "gap" }[line.op]}` },
      line.op === "…" ? "…" : `${line.op} ${line.text}`, "\n")));
}

function traceView(trace) {
  const actions = trace.actions || [];
  return h("div", { class: "trace revision-trace", "data-testid": "revision-trace", "data-controller": trace.controller },
    h("div", { class: "trace-head" },
      h("time", { class: "trace-time" }, (trace.time || "").slice(11, 19)),
      h("span", { class: "trace-controller", "data-controller": trace.controller }, trace.controller),
      h("span", { class: "trace-object" }, trace.object)),
    trace.trigger ? h("p", { class: "trace-line" }, h("b", null, t("Why:")), " ", trace.trigger) : null,
    h("p", { class: "trace-line" }, h("b", null, t("Saw:")), " ", trace.observed),
    h("p", { class: "trace-line trace-decision" }, h("b", null, t("Decided:")), " ", trace.decision),
    actions.length ? h("p", { class: "trace-line" }, h("b", null, t("Did:")), " ", actions.join("; ")) : null);
}

/**
 * The history of {kind, namespace, name}: answers an element at once and fills it when the revisions arrive.
 * `onShowAt(resourceVersion)` shows the whole cluster as it was right after a revision (the timeline scrubber).
 */
export function revisionsView({ api, kind, namespace, name, onShowAt }) {
  const root = h("div", { class: "revisions", "data-testid": "revisions" }, h("p", { class: "empty" }, t("loading…")));

  async function openTrace(revision, holder, button) {
    button.disabled = true;
    try {
      const second = Date.parse(revision.time);
      const answer = await api.traces({
        from: new Date(Math.floor(second / 1000) * 1000).toISOString(),
        to: new Date(Math.floor(second / 1000) * 1000 + 999).toISOString(),
        controller: revision.actor.controller,
      });
      const trace = (answer.items || []).find((tr) => tr.sequence === revision.actor.trace);
      holder.replaceChildren(trace ? traceView(trace) : h("p", { class: "empty" }, t("That trace is no longer kept.")));
    } catch (error) {
      holder.replaceChildren(h("p", { class: "empty" }, error.message));
    }
  }

  function item(revision, before, number) {
    const actor = revision.actor || {};
    const traceHolder = h("div", { class: "revision-trace-holder" });
    const traceButton = actor.type === "controller" && actor.trace !== undefined && actor.trace !== null
      ? h("button", {
        type: "button", class: "btn btn-small", "data-testid": "revision-trace-open",
        onclick: (event) => openTrace(revision, traceHolder, event.currentTarget),
      }, t("the reconcile that decided it"))
      : null;
    return h("li", {
      class: "revision", "data-testid": "revision", "data-type": revision.type,
      "data-resource-version": String(revision.resourceVersion), "data-actor-type": actor.type || "",
      "data-actor": actor.controller || actor.door || actor.what || "",
    },
    h("div", { class: "revision-head" },
      h("b", null, t("revision {n}", { n: number })),
      h("span", { class: "chip" }, revision.type),
      h("time", { datetime: revision.time }, formatSimTime(Date.parse(revision.time))),
      h("span", { class: "muted" }, `resourceVersion ${revision.resourceVersion}`),
      h("span", { class: "revision-author", "data-testid": "revision-author" },
        t("by {who}", { who: describeActor(actor) || t("unknown") })),
      traceButton,
      onShowAt ? h("button", {
        type: "button", class: "btn btn-small linklike", "data-testid": "revision-show",
        onclick: () => onShowAt(Number(revision.resourceVersion)),
      }, t("see the cluster then")) : null),
    traceHolder,
    diffView(before, revision.object, revision.type));
  }

  (async () => {
    const revisions = [];
    let token = null;
    try {
      do {
        const params = { kind, name, limit: 5000 };
        if (namespace) params.namespace = namespace;
        if (token) params.continue = token;
        const page = await api.history(params);
        revisions.push(...(page.changes || []));
        token = page.continue || null;
      } while (token);
    } catch (error) {
      root.replaceChildren(h("p", { class: "empty" }, t("history unavailable: {message}", { message: error.message })));
      return;
    }
    if (!revisions.length) {
      root.replaceChildren(h("p", { class: "empty" }, t("No revisions kept.")));
      return;
    }
    const items = revisions.map((revision, i) => {
      // A deletion, then a creation under the same name: a new object, diffed against nothing.
      const previous = i > 0 && revision.type !== "ADDED" ? revisions[i - 1].object : null;
      return item(revision, previous, i + 1);
    });
    root.replaceChildren(
      h("p", { class: "hint" }, t("{n} revisions kept, newest first; each diff is against the revision before (resourceVersion and managedFields left out).", { n: revisions.length })),
      h("ol", { class: "revision-list", reversed: true }, items.reverse()));
  })();

  return root;
}
