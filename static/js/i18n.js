// The page's translated strings: Django renders the catalogue (English text → the active language's text)
// into a json_script element; `t()` looks a text up and fills its {placeholders}.

let catalogue = {};

export function loadCatalogue(element) {
  catalogue = element ? JSON.parse(element.textContent) : {};
}

/** The translation of `text` (itself when the catalogue has none), with `{name}` placeholders filled. */
export function t(text, params) {
  const translated = catalogue[text] ?? text;
  if (!params) return translated;
  return translated.replace(/\{(\w+)\}/g, (whole, key) => (key in params ? String(params[key]) : whole));
}
