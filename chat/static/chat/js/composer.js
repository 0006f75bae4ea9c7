// The message box: Enter sends, Shift+Enter starts a new line. It writes a
// new message, a reply (a "Replying to …" bar above it) or the new text of
// one's own message ("Editing message"); Escape goes back to a new message,
// and Up in an empty box edits one's last message.
import { interpolate } from "./format.js";

const MAX_HEIGHT_PX = 200;

export class Composer {
  // `onKey(event)` sees each key first and returns true to keep it;
  // `onSend(text, context)` gets the text and what it is for (null, or
  // {kind: "reply" | "edit", id}); `onEditLast()` asks to edit one's last
  // message; `maySend(text, context)` may keep the text in the box instead
  // (false).
  constructor({ form, strings, maxLength, onSend, onKey = () => false, onEditLast = () => {}, maySend = () => true }) {
    this.form = form;
    this.strings = strings;
    this.maxLength = maxLength;
    this.onSend = onSend;
    this.maySend = maySend;
    this.onEditLast = onEditLast;
    this.textarea = form.querySelector("[data-composer-input]");
    this.error = form.querySelector("[data-composer-error]");
    this.bar = form.querySelector("[data-composer-context]");
    this.barLabel = form.querySelector("[data-composer-context-label]");
    this.barDetail = form.querySelector("[data-composer-context-detail]");
    this.errorTimer = 0;
    this.context = null;
    // What was being written when an edit began, given back after it.
    this.draft = "";

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    form.querySelector("[data-composer-context-cancel]").addEventListener("click", () => {
      this.cancel();
      this.textarea.focus();
    });
    this.textarea.addEventListener("keydown", (event) => {
      if (onKey(event)) return;
      if (event.isComposing || event.keyCode === 229) return;
      if (event.key === "Escape" && this.context) {
        event.preventDefault();
        this.cancel();
        return;
      }
      if (event.key === "ArrowUp" && this.textarea.value === "" && !this.context) {
        event.preventDefault();
        this.onEditLast();
        return;
      }
      // Enter while an input method composes a word confirms the word.
      if (event.key !== "Enter" || event.shiftKey) return;
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      event.preventDefault();
      this.submit();
    });
    this.textarea.addEventListener("input", () => this.autosize());
  }

  get value() {
    return this.textarea.value;
  }

  // Write a reply to, or the new text of, message ``id``: ``label`` and
  // ``detail`` say which on the bar; an edit starts from ``text``, and may
  // be left empty when ``allowEmpty`` (a message that carries a file).
  begin({ kind, id, label, detail = "", text, allowEmpty = false }) {
    if (this.context && this.context.kind === "edit") this.textarea.value = this.draft;
    if (kind === "edit") {
      this.draft = this.textarea.value;
      this.textarea.value = text;
    }
    this.context = { kind, id, allowEmpty };
    this.bar.dataset.kind = kind;
    this.barLabel.textContent = label;
    this.barDetail.textContent = detail;
    this.barDetail.hidden = !detail;
    this.bar.hidden = false;
    this.autosize();
    this.textarea.focus();
    const end = this.textarea.value.length;
    this.textarea.setSelectionRange(end, end);
  }

  // Back to writing a new message; an edit gives back the earlier draft.
  cancel() {
    if (!this.context) return;
    if (this.context.kind === "edit") {
      this.textarea.value = this.draft;
      this.draft = "";
      this.autosize();
    }
    this.context = null;
    this.bar.hidden = true;
    this.clearError();
  }

  // Message ``id`` is gone: stop replying to it (an edit of it keeps its
  // text in the box, to copy from).
  forget(id) {
    if (!this.context || this.context.id !== id) return;
    if (this.context.kind === "edit") {
      this.context = null;
      this.draft = "";
      this.bar.hidden = true;
    } else {
      this.cancel();
    }
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
    const context = this.context;
    if (text.trim() === "" && !(context && context.allowEmpty)) {
      this.textarea.focus();
      return;
    }
    if (text.length > this.maxLength) {
      this.showError(interpolate(this.strings.tooLong, { length: text.length, limit: this.maxLength }));
      return;
    }
    if (!this.maySend(text, context)) {
      this.textarea.focus();
      return;
    }
    this.clearError();
    this.take();
    this.cancel();
    this.onSend(text, context);
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
