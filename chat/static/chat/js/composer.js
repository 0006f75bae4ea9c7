// The message box: Enter sends, Shift+Enter starts a new line.
import { interpolate } from "./format.js";

const MAX_HEIGHT_PX = 200;

export class Composer {
  // `onKey(event)` sees each key first and returns true to keep it.
  constructor({ form, strings, maxLength, onSend, onKey = () => false }) {
    this.form = form;
    this.strings = strings;
    this.maxLength = maxLength;
    this.onSend = onSend;
    this.textarea = form.querySelector("[data-composer-input]");
    this.error = form.querySelector("[data-composer-error]");
    this.errorTimer = 0;

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.textarea.addEventListener("keydown", (event) => {
      if (onKey(event)) return;
      // Enter while an input method composes a word confirms the word.
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) {
        return;
      }
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      event.preventDefault();
      this.submit();
    });
    this.textarea.addEventListener("input", () => this.autosize());
  }

  get value() {
    return this.textarea.value;
  }

  // Take the text out of the box (for an upload that carries it).
  take() {
    const text = this.textarea.value;
    this.textarea.value = "";
    this.autosize();
    return text;
  }

  // Put text back, unless something new was written meanwhile.
  restore(text) {
    if (text && this.textarea.value === "") {
      this.textarea.value = text;
      this.autosize();
    }
  }

  submit() {
    const text = this.textarea.value;
    if (text.trim() === "") {
      this.textarea.focus();
      return;
    }
    if (text.length > this.maxLength) {
      this.showError(interpolate(this.strings.tooLong, { length: text.length, limit: this.maxLength }));
      return;
    }
    this.clearError();
    this.take();
    this.onSend(text);
    this.textarea.focus();
  }

  showError(detail, { timeout = 0 } = {}) {
    clearTimeout(this.errorTimer);
    this.error.textContent = detail;
    this.error.hidden = false;
    if (timeout) this.errorTimer = setTimeout(() => this.clearError(), timeout);
  }

  clearError() {
    clearTimeout(this.errorTimer);
    this.error.hidden = true;
    this.error.textContent = "";
  }

  // Grow with the text up to a few lines (where CSS field-sizing is missing).
  autosize() {
    if (CSS.supports && CSS.supports("field-sizing", "content")) return;
    const box = this.textarea;
    box.style.height = "auto";
    box.style.height = `${Math.min(box.scrollHeight + 2, MAX_HEIGHT_PX)}px`;
  }
}
