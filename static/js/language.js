// The language switch at the top right: choosing a language submits its form (no inline handler: the page's
// Content-Security-Policy runs scripts from static/ only).

const select = document.getElementById("language-select");
if (select) select.addEventListener("change", () => select.form.submit());
