// The kubectl console: a terminal panel where a learner types kubectl commands. The server runs the real kubectl
// against this cluster (POST <sim>/console), so what it prints is exactly what a real cluster prints.
//
// An output area and one input line: Enter runs, ↑/↓ walk the history, Tab completes subcommands, resource types
// and resource names (from the live state), `clear` (or Ctrl-L) empties the screen. `kubectl apply -f -` (and any
// `-f -`) sends the YAML editor's text as stdin. Other code runs a command with `window.kubevizConsole.run(cmd)`,
// and any element with `data-console-run="kubectl get pods"` runs its command when clicked (lesson text).

import { csrfHeader, h } from "./dom.js";
import { t } from "./i18n.js";
import { selectors } from "./state.js";

export const SUBCOMMANDS = [
  "get", "describe", "logs", "apply", "create", "delete", "label", "annotate", "taint", "cordon", "uncordon",
  "patch", "rollout", "explain", "api-resources", "api-versions", "version", "replace",
];

// kubectl's names for the kinds the page keeps in its state: the plural first, then the other accepted names.
const RESOURCE_TYPES = {
  Pod: ["pods", "pod", "po"],
  Node: ["nodes", "node", "no"],
  Job: ["jobs", "job", "jobs.batch"],
  CronJob: ["cronjobs", "cronjob", "cj"],
  DaemonSet: ["daemonsets", "daemonset", "ds"],
  ControllerRevision: ["controllerrevisions", "controllerrevision"],
  Event: ["events", "event", "ev"],
  Namespace: ["namespaces", "namespace", "ns"],
  ResourceQuota: ["resourcequotas", "resourcequota", "quota"],
};
const KIND_OF = {};
for (const [kind, names] of Object.entries(RESOURCE_TYPES)) for (const name of names) KIND_OF[name] = kind;
const CLUSTER_SCOPED = new Set(["Node", "Namespace"]);
const TYPED = new Set(["get", "describe", "delete", "label", "annotate", "patch", "explain", "replace"]);
const ROLLOUT = ["history", "pause", "restart", "resume", "status", "undo"];
const OUTPUTS = ["wide", "yaml", "json", "name", "jsonpath=", "custom-columns="];
const VALUE_FLAGS = new Set(["-n", "--namespace", "-o", "--output", "-l", "--selector", "-c", "--container", "-f",
  "--filename", "-p", "--patch", "--type", "--field-selector", "--sort-by", "--tail", "--since"]);
const HISTORY_SIZE = 200;

/** Split a command line as the shell (and the server's shlex) would, for completion: quotes group words. */
export function words(line) {
  const found = [];
  let current = null;
  let quote = null;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      current ??= "";
    } else if (/\s/.test(ch)) {
      if (current !== null) found.push(current);
      current = null;
    } else {
      current = (current ?? "") + ch;
    }
  }
  found.push(current ?? ""); // the word being typed (maybe empty)
  return found;
}

function commonPrefix(values) {
  if (!values.length) return "";
  let prefix = values[0];
  for (const value of values) while (!value.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/** Completion candidates for the last word of `line`, given the page's state. */
export function candidates(line, state) {
  const parts = words(line);
  const current = parts.pop();
  if (!parts.length) return ["kubectl"].filter((w) => w.startsWith(current));
  if (!["kubectl", "k"].includes(parts[0])) return [];
  const previous = parts[parts.length - 1];
  let namespace = "default";
  let allNamespaces = false;
  const positional = [];
  for (let i = 1; i < parts.length; i++) {
    const word = parts[i];
    if (word === "-n" || word === "--namespace") namespace = parts[++i] ?? namespace;
    else if (word.startsWith("--namespace=")) namespace = word.slice(12);
    else if (word === "-A" || word === "--all-namespaces") allNamespaces = true;
    else if (VALUE_FLAGS.has(word)) i++;
    else if (!word.startsWith("-")) positional.push(word);
  }
  const names = (kind) => selectors.list(state, kind)
    .filter((obj) => CLUSTER_SCOPED.has(kind) || allNamespaces || obj.metadata.namespace === namespace)
    .map((obj) => obj.metadata.name);
  const starting = (list) => [...new Set(list)].filter((w) => w.startsWith(current)).sort();

  if (previous === "-n" || previous === "--namespace") return starting(names("Namespace"));
  if (previous === "-o" || previous === "--output") return starting(OUTPUTS);
  if (VALUE_FLAGS.has(previous)) return [];
  if (current.startsWith("-")) return [];
  const [sub, ...rest] = positional;
  if (sub === undefined) return starting(SUBCOMMANDS);
  if (current.includes("/")) {
    const [type, partial] = current.split("/", 2);
    const kind = KIND_OF[type];
    return kind ? names(kind).filter((n) => n.startsWith(partial)).map((n) => `${type}/${n}`).sort() : [];
  }
  const types = Object.values(RESOURCE_TYPES).map((list) => list[0]).concat(
    Object.values(RESOURCE_TYPES).flatMap((list) => list.slice(1)).filter((n) => n.length <= 3));
  if (sub === "logs") return starting(names("Pod"));
  if (sub === "cordon" || sub === "uncordon") return starting(names("Node"));
  if (sub === "taint") return rest.length === 0 ? starting(["nodes"]) : starting(names("Node"));
  if (sub === "rollout") {
    if (rest.length === 0) return starting(ROLLOUT);
    return starting(["daemonsets", "ds", ...names("DaemonSet").map((n) => `daemonset/${n}`)]);
  }
  if (TYPED.has(sub)) {
    if (rest.length === 0) return starting(types);
    const kind = KIND_OF[rest[0].split(",")[0]];
    return kind && sub !== "explain" ? starting(names(kind)) : [];
  }
  return [];
}

export function createConsole({ root, config, getState, getEditorText, onShow }) {
  const output = root.querySelector('[data-testid="console-output"]');
  const input = root.querySelector('[data-testid="console-input"]');
  const form = root.querySelector("form");
  const hint = root.querySelector('[data-testid="console-hint"]');
  const storageKey = `kubeviz.console.history.${config.cluster}`;
  let history = [];
  try {
    history = JSON.parse(sessionStorage.getItem(storageKey) || "[]");
  } catch {
    history = [];
  }
  let position = history.length;
  let draft = "";
  let busy = Promise.resolve();

  function scroll() {
    output.scrollTop = output.scrollHeight;
  }

  function print(className, text, attrs = {}) {
    if (!text) return null;
    const el = h("div", { class: className, ...attrs }, text.replace(/\n$/, ""));
    output.append(el);
    scroll();
    return el;
  }

  function remember(command) {
    if (history[history.length - 1] !== command) history.push(command);
    if (history.length > HISTORY_SIZE) history.splice(0, history.length - HISTORY_SIZE);
    position = history.length;
    try {
      sessionStorage.setItem(storageKey, JSON.stringify(history));
    } catch {
      // private mode: history stays in memory
    }
  }

  function usesStdin(command) {
    return /(^|\s)(-f|--filename)(\s+|=)-(\s|$)/.test(command);
  }

  async function execute(command) {
    const trimmed = command.trim();
    if (!trimmed) return null;
    remember(trimmed);
    if (trimmed === "clear") {
      output.replaceChildren();
      return null;
    }
    const entry = h("div", { class: "console-entry", "data-testid": "console-entry", "data-state": "running" },
      h("div", { class: "console-command" }, h("span", { class: "console-prompt", "aria-hidden": "true" }, "$ "), trimmed));
    output.append(entry);
    const body = { command: trimmed };
    if (usesStdin(trimmed)) {
      body.stdin = getEditorText();
      const lines = body.stdin.trim() ? body.stdin.trimEnd().split("\n").length : 0;
      entry.append(h("div", { class: "console-note" }, lines
        ? t("(stdin: the YAML editor's text, {n} lines)", { n: lines })
        : t("(stdin: the YAML editor is empty)")));
    }
    scroll();
    let result;
    try {
      const response = await fetch(`${config.sim}/console`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...csrfHeader() },
        body: JSON.stringify(body),
      });
      const parsed = await response.json().catch(() => null);
      result = response.ok && parsed && "exitCode" in parsed
        ? parsed
        : { stdout: "", stderr: `error: ${parsed?.message || response.statusText}\n`, exitCode: 1 };
    } catch (error) {
      result = { stdout: "", stderr: `error: ${error.message}\n`, exitCode: 1 };
    }
    entry.dataset.state = "done";
    entry.dataset.exitCode = String(result.exitCode);
    if (result.stdout) entry.append(h("pre", { class: "console-stdout", "data-testid": "console-stdout" }, result.stdout));
    if (result.stderr) entry.append(h("pre", { class: "console-stderr", "data-testid": "console-stderr" }, result.stderr));
    if (result.note) entry.append(h("div", { class: "console-note" }, result.note));
    scroll();
    return result;
  }

  /** Run a command (queued after any that is still running); answers {stdout, stderr, exitCode}. */
  function run(command) {
    if (onShow) onShow();
    const next = busy.then(() => execute(command));
    busy = next.catch(() => null);
    return next;
  }

  function complete() {
    const before = input.value.slice(0, input.selectionStart);
    const after = input.value.slice(input.selectionStart);
    const found = candidates(before, getState());
    if (!found.length) return;
    const current = words(before).pop();
    let insert = commonPrefix(found).slice(current.length);
    if (found.length === 1 && !found[0].endsWith("=") && !found[0].endsWith("/")) insert += " ";
    if (insert) {
      input.value = before + insert + after;
      const at = before.length + insert.length;
      input.setSelectionRange(at, at);
    } else {
      print("console-candidates", found.join("  "), { "data-testid": "console-candidates" });
    }
    updateHint();
  }

  function updateHint() {
    const value = input.value;
    hint.hidden = !usesStdin(value);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const command = input.value;
    input.value = "";
    draft = "";
    updateHint();
    input.setAttribute("aria-busy", "true");
    await run(command);
    input.removeAttribute("aria-busy");
    input.focus();
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Tab") {
      event.preventDefault();
      complete();
    } else if (event.key === "ArrowUp") {
      if (position === 0) return;
      if (position === history.length) draft = input.value;
      position -= 1;
      input.value = history[position];
      event.preventDefault();
      updateHint();
    } else if (event.key === "ArrowDown") {
      if (position >= history.length) return;
      position += 1;
      input.value = position === history.length ? draft : history[position];
      event.preventDefault();
      updateHint();
    } else if (event.key === "l" && event.ctrlKey) {
      event.preventDefault();
      output.replaceChildren();
    }
  });
  input.addEventListener("input", updateHint);
  output.addEventListener("click", () => {
    if (!window.getSelection()?.toString()) input.focus();
  });

  root.querySelector("[data-console-editor]")?.addEventListener("click", () => {
    input.value = "kubectl apply -f -";
    updateHint();
    input.focus();
  });

  // Commands in lesson text (or anywhere on the page): <code data-console-run="kubectl get pods">.
  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-console-run]");
    if (!target) return;
    event.preventDefault();
    run(target.dataset.consoleRun || target.textContent);
  });

  return { run, candidates: (line) => candidates(line, getState()), focus: () => input.focus() };
}
