// Small DOM helpers shared by the renderers.

/** Create an element: `h("div", {class: "x", dataset: {a: 1}}, child, "text")`. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : value);
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** The header that carries the page's CSRF token (from `<meta name="csrf-token">`), for requests that change
 * something: the server refuses those from a browser without it. */
export function csrfHeader() {
  const token = document.querySelector('meta[name="csrf-token"]')?.content;
  return token ? { "X-CSRFToken": token } : {};
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escape text for use inside HTML built as a string (tables with many rows). */
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A stable colour (hue) for a name, so that an owner keeps its colour across frames and reloads. */
export function hue(name) {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return Math.abs(hash) % 360;
}

/** Call `fn` at most once every `ms` milliseconds (the last call wins, run at the end of the window). */
export function throttle(fn, ms) {
  let timer = null;
  let last = 0;
  return function throttled(...args) {
    const wait = last + ms - performance.now();
    if (timer) return;
    if (wait <= 0) {
      last = performance.now();
      fn(...args);
      return;
    }
    timer = setTimeout(() => {
      timer = null;
      last = performance.now();
      fn(...args);
    }, wait);
  };
}
