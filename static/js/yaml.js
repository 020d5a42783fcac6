// A small YAML writer for showing and editing live objects (JSON in, block-style YAML out, keys in their order).
// Strings that YAML would read as something else (numbers, booleans, null, leading symbols) are quoted as JSON,
// which is valid YAML; multi-line strings become literal blocks.

const PLAIN = /^[A-Za-z0-9_./][A-Za-z0-9_ ./:@()+=,-]*$/;
const AMBIGUOUS = /^(true|false|yes|no|on|off|y|n|null|~|[-+]?(\d[\d_]*)?\.?\d+([eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan)$/i;

function scalar(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  const text = String(value);
  if (text === "" || !PLAIN.test(text) || AMBIGUOUS.test(text) || text.endsWith(" ") || text.includes(": ") ||
      text.includes(" #")) {
    return JSON.stringify(text);
  }
  return text;
}

function key(k) {
  return PLAIN.test(k) && !AMBIGUOUS.test(k) && !k.includes(": ") ? k : JSON.stringify(k);
}

function isEmpty(value) {
  return (Array.isArray(value) && value.length === 0) ||
    (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0);
}

function block(text, indent) {
  const pad = " ".repeat(indent);
  const chomp = text.endsWith("\n") ? "|" : "|-";
  const body = text.replace(/\n$/, "").split("\n").map((line) => (line ? pad + line : "")).join("\n");
  return `${chomp}\n${body}`;
}

function write(value, indent, lines, prefix) {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item && typeof item === "object" && !isEmpty(item)) {
        const sub = [];
        write(item, indent + 2, sub, "");
        sub[0] = pad + "- " + sub[0].slice(indent + 2);
        lines.push(...sub);
      } else {
        lines.push(`${pad}- ${inline(item, indent + 2)}`);
      }
    }
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (v && typeof v === "object" && !isEmpty(v)) {
      lines.push(`${pad}${key(k)}:`);
      write(v, Array.isArray(v) ? indent : indent + 2, lines, prefix);
    } else {
      lines.push(`${pad}${key(k)}: ${inline(v, indent + 2)}`);
    }
  }
}

function inline(value, indent) {
  if (Array.isArray(value)) return "[]";
  if (value && typeof value === "object") return "{}";
  if (typeof value === "string" && value.includes("\n")) return block(value, indent);
  return scalar(value);
}

/** YAML text of a JSON-like value (an object at the top). */
export function dump(value) {
  const lines = [];
  write(value, 0, lines, "");
  return lines.join("\n") + "\n";
}

/** The manifest to edit and re-apply: the object without status and the fields the server owns. */
export function editable(obj) {
  const copy = JSON.parse(JSON.stringify(obj));
  delete copy.status;
  const md = copy.metadata || {};
  for (const field of ["uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
    "deletionTimestamp", "deletionGracePeriodSeconds"]) delete md[field];
  if (md.annotations) {
    delete md.annotations["kubectl.kubernetes.io/last-applied-configuration"];
    delete md.annotations["deprecated.daemonset.template.generation"];
    if (!Object.keys(md.annotations).length) delete md.annotations;
  }
  return copy;
}
