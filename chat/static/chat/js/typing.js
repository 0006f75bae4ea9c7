// Who is typing in the room on screen: "Anna is typing…" above the composer.
// The reader's typing goes to the server as "typing" frames, one per room
// every 10 s at most (the server relays no more often), and at once again
// after the reader posts (so does the server); others' come back as
// "typing" frames, the reader's own too (left out here). Editing a message
// is not typing one: nothing is sent while the composer edits. Someone stops
// showing when their message comes, when they go offline, or 15 s after
// their last notice: typing on, they would have sent another by then.
import { interpolate, plural } from "./format.js";

const SEND_EVERY_MS = 10000;
const SHOWN_FOR_MS = 15000;

export class Typing {
  // ``line``: where it shows; ``textarea``: the composer's box (none for a
  // guest, who only reads); send(frame): send it now if connected, and
  // return whether it went; editing(): whether the box holds an edit.
  constructor({ room, me, strings, line, textarea, send, editing }) {
    this.room = room;
    this.me = me;
    this.strings = strings;
    this.line = line;
    this.send = send;
    this.editing = editing;
    // username -> {name, until}, in the order they started.
    this.typists = new Map();
    this.sentAt = -Infinity;
    this.timer = 0;
    if (textarea && me) textarea.addEventListener("input", () => this.typed(textarea.value));
  }

  // The reader typed; ``text``: what the box now holds.
  typed(text) {
    const now = Date.now();
    if (!text.trim() || this.editing() || now - this.sentAt < SEND_EVERY_MS) return;
    if (this.send({ type: "typing", room: this.room })) this.sentAt = now;
  }

  // The reader posted: the server lets the next notice through at once.
  posted() {
    this.sentAt = -Infinity;
  }

  // A "typing" frame of the room.
  saw(frame) {
    const username = String(frame.username || "");
    if (!username || username === this.me) return;
    const name = String(frame.name || username);
    this.typists.set(username, { name, until: Date.now() + SHOWN_FOR_MS });
    this.changed();
  }

  // ``username`` is done: their message came, or they went offline.
  stopped(username) {
    if (username && this.typists.delete(username)) this.changed();
  }

  // Nothing more comes from the room.
  stopAll() {
    this.typists.clear();
    this.changed();
  }

  changed() {
    const now = Date.now();
    for (const [username, typist] of this.typists) {
      if (typist.until <= now) this.typists.delete(username);
    }
    clearTimeout(this.timer);
    if (this.typists.size) {
      const next = Math.min(...[...this.typists.values()].map((typist) => typist.until));
      this.timer = setTimeout(() => this.changed(), Math.max(0, next - now));
    }
    this.draw();
  }

  draw() {
    const { strings } = this;
    const names = [...this.typists.values()].map((typist) => typist.name);
    let text = "";
    if (names.length === 1) text = interpolate(strings.typingOne, { name: names[0] });
    else if (names.length === 2) text = interpolate(strings.typingTwo, { first: names[0], second: names[1] });
    else if (names.length > 2) text = plural(strings.typingMany, names.length - 1, { name: names[0] });
    if (this.line.textContent !== text) this.line.textContent = text;
  }
}
