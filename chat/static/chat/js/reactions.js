// Reactions: the chips under a message ("👍 2", pressed when the reader is
// among those who reacted), what a toggle makes of them, and the picker of
// an emoji to react with.
import { button, el } from "./dom.js";

// The picker's choices; any other emoji can be typed.
export const COMMON_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"];

function reactionsOf(message) {
  return Array.isArray(message.reactions) ? message.reactions : [];
}

export function reactedBy(message, emoji, username) {
  const reaction = reactionsOf(message).find((r) => r.emoji === emoji);
  return Boolean(reaction && Array.isArray(reaction.users) && reaction.users.includes(username));
}

// The reactions of ``message`` once ``username`` put ``emoji`` on (``on``)
// or took it off: what the server will say, shown before it says it.
export function withReaction(message, emoji, username, on) {
  const reactions = reactionsOf(message).map((r) => ({ ...r, users: [...(r.users || [])] }));
  let reaction = reactions.find((r) => r.emoji === emoji);
  const has = Boolean(reaction && reaction.users.includes(username));
  if (on && !has) {
    if (!reaction) {
      reaction = { emoji, count: 0, users: [] };
      reactions.push(reaction);
    }
    reaction.users.push(username);
    reaction.count += 1;
  } else if (!on && has) {
    reaction.users = reaction.users.filter((user) => user !== username);
    reaction.count -= 1;
  }
  return { ...message, reactions: reactions.filter((r) => r.count > 0) };
}

// The chips; null when there are none. ``waiting`` holds the emoji whose
// toggle by the reader the server has not answered yet.
export function renderReactions(reactions, { me, canWrite, waiting }) {
  if (!Array.isArray(reactions) || reactions.length === 0) return null;
  const row = el("div", "reactions");
  row.dataset.reactions = "";
  for (const reaction of reactions) {
    if (typeof reaction.emoji !== "string") continue;
    const users = Array.isArray(reaction.users) ? reaction.users.map(String) : [];
    const chip = canWrite ? button("reaction") : el("span", "reaction");
    chip.dataset.reaction = reaction.emoji;
    chip.title = users.join(", ");
    if (canWrite) chip.setAttribute("aria-pressed", String(Boolean(me) && users.includes(me)));
    if (waiting && waiting.has(reaction.emoji)) chip.classList.add("is-waiting");
    chip.append(
      el("span", "reaction-emoji", reaction.emoji),
      " ",
      el("span", "reaction-count", String(Number(reaction.count) || 0)),
    );
    row.append(chip);
  }
  return row;
}

// Clicking a chip toggles the reader's reaction: toggle(messageId, emoji).
export function followChips(list, toggle) {
  list.addEventListener("click", (event) => {
    const chip = event.target.closest("button[data-reaction]");
    const item = chip && chip.closest("[data-message-id]");
    if (item && list.contains(item)) toggle(Number(item.dataset.messageId), chip.dataset.reaction);
  });
}

// Is ``text`` one emoji (skin tones, flags and joined sequences are one)?
// The server decides; this only spares a round trip for plain words.
export function isOneEmoji(text) {
  if (!text) return false;
  const graphemes =
    typeof Intl !== "undefined" && Intl.Segmenter
      ? [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)]
      : [...text];
  return graphemes.length === 1 && /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u.test(text);
}

// The picker: the common emoji and a field for any other. One for the page,
// opened beside the message it reacts to.
export class ReactionPicker {
  // onPick(messageId, emoji) toggles the reader's reaction.
  constructor({ element, strings, onPick }) {
    this.element = element;
    this.strings = strings;
    this.onPick = onPick;
    this.messageId = null;
    this.returnFocus = null;
    this.form = element.querySelector("[data-reaction-form]");
    this.input = element.querySelector("[data-reaction-input]");
    this.error = element.querySelector("[data-reaction-error]");
    const common = element.querySelector("[data-reaction-common]");
    for (const emoji of COMMON_EMOJI) {
      const choice = button("reaction-choice", emoji);
      choice.dataset.reactionChoice = emoji;
      common.append(choice);
    }
    common.addEventListener("click", (event) => {
      const choice = event.target.closest("[data-reaction-choice]");
      if (choice) this.pick(choice.dataset.reactionChoice);
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const emoji = this.input.value.trim();
      if (isOneEmoji(emoji)) {
        this.pick(emoji);
      } else {
        this.error.textContent = strings.oneEmoji || "";
        this.error.hidden = false;
        this.input.focus();
      }
    });
    element.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.close();
      }
    });
    // Tabbing out of the picker leaves it.
    element.addEventListener("focusout", (event) => {
      if (this.isOpen && event.relatedTarget && !element.contains(event.relatedTarget)) {
        this.close({ refocus: false });
      }
    });
    document.addEventListener("pointerdown", (event) => {
      if (this.isOpen && !element.contains(event.target) && !event.target.closest("[data-action=react]")) {
        this.close({ refocus: false });
      }
    });
  }

  get isOpen() {
    return !this.element.hidden;
  }

  // Open for message ``messageId`` beside ``anchor`` (the button pressed).
  open(messageId, anchor) {
    this.messageId = messageId;
    this.returnFocus = anchor;
    this.input.value = "";
    this.error.hidden = true;
    this.element.hidden = false;
    const box = this.element.offsetParent || document.body;
    const frame = box.getBoundingClientRect();
    const at = anchor.getBoundingClientRect();
    const width = this.element.offsetWidth;
    const height = this.element.offsetHeight;
    const left = Math.max(8, Math.min(at.right - frame.left - width, frame.width - width - 8));
    const below = at.bottom - frame.top + 4;
    const top = below + height > frame.height ? Math.max(8, at.top - frame.top - height - 4) : below;
    this.element.style.left = `${left}px`;
    this.element.style.top = `${top}px`;
    this.element.querySelector("[data-reaction-choice]").focus();
  }

  pick(emoji) {
    const id = this.messageId;
    this.close();
    if (id !== null) this.onPick(id, emoji);
  }

  close({ refocus = true } = {}) {
    if (!this.isOpen) return;
    this.element.hidden = true;
    const id = this.messageId;
    this.messageId = null;
    if (!refocus) return;
    // The button may have been drawn anew meanwhile: then its message.
    const target = this.returnFocus && this.returnFocus.isConnected
      ? this.returnFocus
      : document.querySelector(`[data-message-id="${id}"]`);
    if (target) target.focus();
  }
}
