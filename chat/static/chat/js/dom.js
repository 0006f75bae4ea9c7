// Making elements. Text only ever enters as text nodes and attributes.

export function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

// A button that is not a form's submit button.
export function button(className, text) {
  const element = el("button", className, text);
  element.type = "button";
  return element;
}

// Explicit bidirectional embeddings, overrides and isolates (U+202A-202E,
// U+2066-2069) can make "pay \u202Egpj.exe" read "pay exe.jpg". They are
// dropped from what is shown (the stored text keeps them); right-to-left
// letters need none of them and keep their direction, and dir="auto"
// isolates each message so that its direction never leaks into the page.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

export function inertBidi(text) {
  return text.replace(BIDI_CONTROLS, "");
}
