// "@wa" in the composer offers the people of the room whose username
// starts so, after "@room" (everyone in the room) when it starts so too;
// Up/Down choose, Enter or Tab takes one, Escape closes.

const BEFORE_CARET = /(?:^|[^\w@.+-])@([\w.+-]{0,30})$/;
const SHOWN = 6;

// "@room" as a whole word, read as the server reads "@name" (not inside a
// name or an address; dots after it end a sentence): everyone in the room.
// The server marks it data-mention="@room" (ROOM_MENTION) in a message.
export const EVERYONE = "room";
export const ROOM_MENTION = `@${EVERYONE}`;
const EVERYONE_MENTION = /(?<![\p{L}\p{N}_@.+-])@room\.*(?![\p{L}\p{N}_@.+-])/iu;

export const mentionsEveryone = (text) => EVERYONE_MENTION.test(String(text ?? ""));

export class MentionCompleter {
  // `people()` returns the usernames that may be offered, `me` is left out;
  // `offerEveryone()` whether "@room" may be offered, with `everyoneHint`
  // beside it saying what it does.
  constructor({ textarea, list, people, me, offerEveryone = () => false, everyoneHint = "" }) {
    this.textarea = textarea;
    this.list = list;
    this.people = people;
    this.me = me;
    this.offerEveryone = offerEveryone;
    this.everyoneHint = everyoneHint;
    this.options = [];
    this.active = 0;
    this.start = -1;
    textarea.addEventListener("input", () => this.update());
    textarea.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    list.addEventListener("mousedown", (event) => {
      const option = event.target.closest("[data-mention-option]");
      if (!option) return;
      event.preventDefault();
      this.take(option.dataset.mentionOption);
    });
  }

  get open() {
    return !this.list.hidden;
  }

  update() {
    const caret = this.textarea.selectionStart;
    const match = BEFORE_CARET.exec(this.textarea.value.slice(0, caret));
    if (!match) {
      this.close();
      return;
    }
    const prefix = match[1].toLowerCase();
    this.start = caret - match[1].length - 1;
    const people = [...new Set(this.people())]
      .filter((name) => name !== this.me && name !== EVERYONE && name !== ROOM_MENTION && name.toLowerCase().startsWith(prefix))
      .sort((a, b) => a.localeCompare(b));
    const everyone = EVERYONE.startsWith(prefix) && this.offerEveryone() ? [EVERYONE] : [];
    this.options = [...everyone, ...people].slice(0, SHOWN);
    this.active = 0;
    this.render();
  }

  render() {
    this.list.replaceChildren(
      ...this.options.map((name, index) => {
        const option = document.createElement("li");
        option.className = "mention-option";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", String(index === this.active));
        option.dataset.mentionOption = name;
        option.textContent = `@${name}`;
        if (name === EVERYONE && this.everyoneHint) {
          const hint = document.createElement("span");
          hint.className = "mention-hint muted";
          hint.textContent = this.everyoneHint;
          option.append(" ", hint);
        }
        return option;
      }),
    );
    this.list.hidden = this.options.length === 0;
  }

  close() {
    this.list.hidden = true;
    this.options = [];
  }

  // Put "@name " in place of what was typed after the "@".
  take(name) {
    const box = this.textarea;
    const caret = box.selectionStart;
    const text = `@${name} `;
    box.value = box.value.slice(0, this.start) + text + box.value.slice(caret);
    const at = this.start + text.length;
    box.setSelectionRange(at, at);
    this.close();
    box.focus();
  }

  // Called for each key in the composer; true when the key was ours.
  handleKey(event) {
    if (!this.open || !this.options.length) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.options.length) % this.options.length;
      this.render();
    } else if (event.key === "Enter" || event.key === "Tab") {
      this.take(this.options[this.active]);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }
}
