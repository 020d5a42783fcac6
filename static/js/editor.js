// The YAML editor: CodeMirror 5 (vendored) with YAML highlighting, the seed examples one click away, validation
// while typing (a debounced server-side dry-run apply, errors marked at their line), Apply, and uploading .yaml
// files (button or drag-and-drop, several documents per file).

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { toast } from "./controls.js";

const VALIDATE_AFTER_MS = 450;

// kubectl's resource name for `kubectl apply` output: the kind in lower case, qualified by its API group
// (job.batch/pi created, pod/x created), for any kind, served or not.
function resourceName(result) {
  const kind = (result.kind || "").toLowerCase();
  const apiVersion = result.apiVersion || "";
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  return `${group ? `${kind}.${group}` : kind}/${result.name || ""}`;
}

/** Every error of an ApplyResult as {line, column, text}, duplicates dropped, in line order. */
export function applyErrors(body) {
  const seen = new Set();
  const found = [];
  const add = (error, fallbackLine) => {
    const text = error.field ? `${error.field}: ${error.message}` : error.message;
    const line = error.line || fallbackLine || 1;
    const id = `${line}:${text}`;
    if (seen.has(id)) return;
    seen.add(id);
    found.push({ line, column: error.column || 1, text });
  };
  for (const error of body?.errors || []) add(error);
  for (const result of body?.results || []) {
    if (result.status && !(result.errors || []).length) add({ message: result.status.message }, result.line);
    for (const error of result.errors || []) add(error, result.line);
  }
  return found.sort((a, b) => a.line - b.line);
}

export function createEditor({ root, api, config }) {
  const frame = root.querySelector('[data-testid="yaml-editor"]');
  const fallback = root.querySelector("#yaml-fallback");
  const errorsList = root.querySelector("#editor-errors");
  const validation = root.querySelector("#validation");
  const output = root.querySelector("#apply-output");
  const applyButton = root.querySelector('[data-testid="apply"]');
  const upload = root.querySelector('[data-testid="yaml-upload"]');
  let cm = null;
  let marked = [];
  let timer = null;
  let sequence = 0;

  if (window.CodeMirror) {
    cm = window.CodeMirror.fromTextArea(fallback, {
      mode: "yaml",
      lineNumbers: true,
      indentUnit: 2,
      tabSize: 2,
      indentWithTabs: false,
      lineWrapping: false,
      gutters: ["kv-errors", "CodeMirror-linenumbers"],
      extraKeys: {
        Tab: (editor) => editor.replaceSelection("  "),
        "Ctrl-Enter": () => apply(),
        "Cmd-Enter": () => apply(),
      },
      viewportMargin: 20,
      dragDrop: false, // files dropped on the editor are loaded by the frame's own handler
    });
    cm.on("change", schedule);
  } else {
    fallback.addEventListener("input", schedule);
  }

  const value = () => (cm ? cm.getValue() : fallback.value);

  // The draft outlives a reload (the language switch reloads too): kept per cluster in this browser.
  const draftKey = `kubeviz.draft.${config.cluster}`;
  function saveDraft() {
    try {
      const text = value();
      if (text.trim()) localStorage.setItem(draftKey, text);
      else localStorage.removeItem(draftKey);
    } catch {
      // storage disabled or full: the draft lives as long as the page
    }
  }

  function setValue(text) {
    if (cm) {
      cm.setValue(text);
      cm.clearHistory();
    } else {
      fallback.value = text;
    }
    schedule();
  }

  function schedule() {
    saveDraft();
    clearTimeout(timer);
    validation.dataset.state = "pending";
    validation.textContent = t("checking…");
    timer = setTimeout(validate, VALIDATE_AFTER_MS);
  }

  function clearMarks() {
    if (cm) {
      for (const line of marked) {
        cm.removeLineClass(line, "background", "cm-error-line");
      }
      cm.clearGutter("kv-errors");
    }
    marked = [];
  }

  function showErrors(errors) {
    clearMarks();
    errorsList.replaceChildren(...errors.map((error) => h("li", {
      class: "editor-error", "data-testid": "editor-error", "data-line": error.line, tabindex: "0",
      onclick: () => jump(error.line, error.column),
    }, h("span", { class: "error-line" }, t("line {line}", { line: error.line })), " ", error.text)));
    if (!cm) return;
    for (const error of errors) {
      const line = Math.max(0, Math.min(cm.lineCount() - 1, error.line - 1));
      const handle = cm.addLineClass(line, "background", "cm-error-line");
      marked.push(handle);
      cm.setGutterMarker(line, "kv-errors", h("span", { class: "gutter-error", title: error.text }, "●"));
    }
  }

  function jump(line, column) {
    if (!cm) return;
    cm.focus();
    cm.setCursor({ line: line - 1, ch: Math.max(0, column - 1) });
    cm.scrollIntoView(null, 80);
  }

  async function validate() {
    const text = value();
    const mine = ++sequence;
    if (!text.trim()) {
      showErrors([]);
      validation.dataset.state = "";
      validation.textContent = "";
      return;
    }
    try {
      const body = await api.apply(text, { dryRun: true });
      if (mine !== sequence) return;
      const errors = applyErrors(body);
      showErrors(errors);
      if (errors.length) {
        validation.dataset.state = "invalid";
        validation.textContent = t("{n} problem(s)", { n: errors.length });
      } else {
        validation.dataset.state = "valid";
        const names = (body.results || []).map((r) => `${r.kind} ${r.name}`).join(", ");
        validation.textContent = t("valid: {names}", { names });
      }
    } catch (error) {
      if (mine !== sequence) return;
      validation.dataset.state = "invalid";
      validation.textContent = error.message;
    }
  }

  async function apply() {
    const text = value();
    if (!text.trim()) {
      showErrors([]);
      output.textContent = t("Nothing to apply: the editor is empty.");
      output.dataset.state = "invalid";
      return;
    }
    clearTimeout(timer);
    applyButton.disabled = true;
    try {
      const body = await api.apply(text, { door: text === uploaded ? "upload" : "editor" });
      const errors = applyErrors(body);
      showErrors(errors);
      const lines = (body.results || []).map((r) => (r.status ? `✗ ${resourceName(r)}: ${r.status.message}` : `${resourceName(r)} ${r.action}`));
      if (!lines.length && body.status) lines.push(`✗ ${body.status.message}`);
      output.textContent = lines.join("\n");
      output.dataset.state = errors.length ? "invalid" : "ok";
      validation.dataset.state = errors.length ? "invalid" : "valid";
      validation.textContent = errors.length ? t("{n} problem(s)", { n: errors.length }) : t("applied");
      if (!errors.length) toast(lines.join("\n"));
    } catch (error) {
      output.textContent = `✗ ${error.message}`;
      output.dataset.state = "invalid";
    } finally {
      applyButton.disabled = false;
    }
  }

  // What the last upload put in the editor: applied unchanged, the objects came through the upload door.
  let uploaded = null;

  async function loadFiles(files) {
    const texts = [];
    for (const file of files) texts.push((await file.text()).replace(/\s+$/, "") + "\n");
    if (!texts.length) return;
    // Several files become one multi-document stream, as `kubectl apply -f a.yaml -f b.yaml` sends them.
    setValue(texts.map((text) => (text.startsWith("---") ? text : text)).join("---\n"));
    uploaded = value();
    output.textContent = t("loaded {n} file(s): {names}", { n: files.length, names: [...files].map((f) => f.name).join(", ") });
    output.dataset.state = "";
  }

  applyButton.addEventListener("click", apply);
  upload.addEventListener("change", () => {
    loadFiles([...upload.files]);
    upload.value = "";
  });
  root.querySelector("#editor-clear").addEventListener("click", () => {
    setValue("");
    output.textContent = "";
  });
  root.querySelector(".examples").addEventListener("click", (event) => {
    const button = event.target.closest("[data-example]");
    if (!button) return;
    const example = config.examples.find((e) => e.id === button.dataset.example);
    if (example) setValue(example.yaml);
  });
  frame.addEventListener("dragover", (event) => {
    event.preventDefault();
    frame.classList.add("dropping");
  });
  frame.addEventListener("dragleave", () => frame.classList.remove("dropping"));
  frame.addEventListener("drop", (event) => {
    event.preventDefault();
    frame.classList.remove("dropping");
    const files = [...(event.dataTransfer?.files || [])].filter((f) => /\.ya?ml$/i.test(f.name) || f.type.includes("yaml"));
    if (files.length) loadFiles(files);
  });

  let draft = null;
  try {
    draft = localStorage.getItem(draftKey);
  } catch {
    // storage disabled
  }
  if (draft) setValue(draft);

  return {
    load: setValue,
    value,
    apply,
    validate,
    /** The CodeMirror instance (tests and power users). */
    get codemirror() {
      return cm;
    },
  };
}
