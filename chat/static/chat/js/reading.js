// Reading the room on screen. While the page is visible, the server hears how
// far the reader got: the newest message once they are at the bottom, else
// the last one they scrolled past ("read" frames; the "read" and "unread"
// frames that answer clear the counts in every tab). A guest's place stays in
// the browser instead. Also the "New messages" line above what was unread
// when the page opened, and "Mark unread", after which the room is left
// unread until the reader scrolls on or writes.
import { request } from "./api.js";
import { el } from "./dom.js";
import { newClientId } from "./ids.js";

// Reading waits for the reader to settle (scrolling, a burst of messages).
const READ_DELAY_MS = 400;
// The "New messages" line opens this far below the top of the view.
const DIVIDER_MARGIN_PX = 16;
// What marks the read frames' client_ids: their errors are not the writer's.
const READ_ID_PREFIX = "read-";
const SCROLL_KEYS = new Set(["ArrowDown", "PageDown", "End", " "]);

const storageKey = (room) => `chat:read:${room}`;

function loadLocal(room) {
  try {
    const value = Number(window.localStorage.getItem(storageKey(room)));
    return Number.isSafeInteger(value) && value > 0 ? value : null;
  } catch {
    return null; // Storage may be off; a guest then has no place.
  }
}

function saveLocal(room, id) {
  try {
    window.localStorage.setItem(storageKey(room), String(id));
  } catch {
    // Full or off: the place is not kept.
  }
}

export const isReadFrameId = (clientId) => typeof clientId === "string" && clientId.startsWith(READ_ID_PREFIX);

export class Reading {
  // ``places``: the reader's places (unread.js); ``me``: "" for a guest.
  // ``history``: the room's pages over HTTP (history.js).
  constructor({ room, me, store, history, list, scroller, socket, places, strings, readUrl, lastReadId }) {
    this.room = room;
    this.me = me;
    this.guest = !me;
    this.store = store;
    this.history = history;
    this.list = list;
    this.scroller = scroller;
    this.socket = socket;
    this.places = places;
    this.strings = strings;
    this.readUrl = readUrl;
    // A guest's place in the room, as this browser keeps it.
    this.local = this.guest ? loadLocal(room) : null;
    // The "New messages" line goes above the first message after this id
    // (null: nowhere) and up to ``dividerUpTo``: what was there at opening.
    this.dividerAfter = this.guest ? this.local : lastReadId ?? null;
    this.dividerUpTo = null;
    this.divider = null;
    this.started = false;
    // The first unread messages are being loaded: nothing is read meanwhile.
    this.opening = false;
    // After "Mark unread": nothing is read until the reader moves on.
    this.suspended = false;
    // The furthest read sent on this connection.
    this.sentUpTo = 0;
    this.timer = 0;

    scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    const onward = () => this.resume();
    scroller.addEventListener("wheel", (event) => {
      if (event.deltaY > 0) onward();
    }, { passive: true });
    scroller.addEventListener("touchmove", onward, { passive: true });
    scroller.addEventListener("keydown", (event) => {
      if (SCROLL_KEYS.has(event.key) && !event.target.closest("input, textarea")) onward();
    });
    if (store.pill) store.pill.addEventListener("click", onward);
    window.addEventListener("focus", () => this.schedule());
    document.addEventListener("visibilitychange", () => this.schedule());
    // Leaving or reloading the page: what was seen counts now, not after
    // the delay (a guest who reloaded at once found the "New messages"
    // line above what they had just read).
    window.addEventListener("pagehide", () => {
      clearTimeout(this.timer);
      this.read();
    });
  }

  // The reader's cursor here; null if they keep none (a logged-in reader
  // who is not a member).
  get cursor() {
    if (this.guest) return this.local ?? 0;
    const place = this.places.get(this.room);
    return place ? place.cursor : null;
  }

  // The first history is on screen, scrolled to the bottom.
  async opened() {
    this.started = true;
    this.dividerUpTo = this.store.maxId;
    const first = this.firstNews();
    if (first !== null && !this.surely(first) && this.history.hasMore) {
      // More came than the first page holds: load from where reading
      // stopped, the last message read included.
      this.opening = true;
      try {
        await this.history.loadAfter(Math.max(0, this.dividerAfter - 1));
      } catch (error) {
        console.warn("chat: could not load the first unread messages", error);
      } finally {
        this.opening = false;
      }
    }
    this.placeDivider();
    if (this.divider && this.divider.isConnected) this.reveal();
    this.schedule();
  }

  // The list changed: the line may move; there may be more to read.
  changed() {
    if (!this.started) return;
    this.placeDivider();
    this.schedule();
  }

  // Whether the room's new messages are read as they come.
  takesIn() {
    return this.started && !this.opening && !this.suspended && this.cursor !== null
      && document.visibilityState === "visible" && this.store.isNearBottom();
  }

  // A new connection: what was sent on the last one may not have arrived.
  connected() {
    this.sentUpTo = 0;
    this.schedule();
  }

  resume() {
    if (!this.suspended) return;
    this.suspended = false;
    this.schedule();
  }

  schedule(delay = READ_DELAY_MS) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.read(), delay);
  }

  read() {
    if (!this.started || this.opening || this.suspended || document.visibilityState !== "visible") return;
    const cursor = this.cursor;
    if (cursor === null) return;
    const seen = this.seenUpTo();
    if (seen === null || seen <= Math.max(cursor, this.sentUpTo)) return;
    if (this.guest) {
      this.local = seen;
      saveLocal(this.room, seen);
      return;
    }
    const frame = { type: "read", room: this.room, id: seen, client_id: READ_ID_PREFIX + newClientId() };
    // Not connected: read again once the socket is back (connected()).
    if (this.socket.sendNow(frame)) this.sentUpTo = seen;
  }

  // The newest message the reader has had on screen: the newest of all at
  // the bottom, else the last one above the bottom of the view.
  seenUpTo() {
    if (this.store.maxId === null) return null;
    if (this.store.isNearBottom()) return this.store.maxId;
    const bottom = this.scroller.getBoundingClientRect().bottom;
    const items = this.list.querySelectorAll("[data-message-id]");
    for (let index = items.length - 1; index >= 0; index -= 1) {
      if (items[index].getBoundingClientRect().bottom <= bottom + 1) return Number(items[index].dataset.messageId);
    }
    return null;
  }

  // Mark message ``id`` unread: the cursor goes to just before it (back,
  // or forward past what was unread before it).
  markUnread(id) {
    if (this.guest || this.cursor === null) return;
    this.suspended = true;
    clearTimeout(this.timer);
    this.moveDivider(id - 1);
    const frame = { type: "read", room: this.room, id, unread: true, client_id: READ_ID_PREFIX + newClientId() };
    if (this.socket.sendNow(frame)) return;
    request(this.readUrl, { method: "POST", body: { id, unread: true } }).then(
      ({ data }) => this.places.apply(data && data.room, { marked: true }),
      (error) => console.warn("chat: could not mark unread", error),
    );
  }

  // The cursor of the room on screen moved (in this tab or another);
  // ``marked``: back, by "Mark unread".
  cursorMoved(cursor, previous, marked) {
    if (cursor >= previous) {
      this.sentUpTo = Math.max(this.sentUpTo, cursor);
      return;
    }
    this.sentUpTo = Math.min(this.sentUpTo, cursor);
    if (!marked) {
      this.schedule();
      return;
    }
    // Marked unread (in another tab too): the room stays unread.
    this.suspended = true;
    clearTimeout(this.timer);
    this.moveDivider(cursor);
  }

  // The line goes above the first news after ``cursor``, from now on.
  moveDivider(cursor) {
    this.dividerAfter = cursor;
    this.dividerUpTo = this.store.maxId;
    this.placeDivider();
  }

  // Whether ``message`` would be news to the reader.
  news(message) {
    return !message.member && !message.deleted && (this.guest || message.username !== this.me);
  }

  // The first message held that was news when the page opened (or was
  // marked unread), or null.
  firstNews() {
    if (this.dividerAfter === null || this.dividerUpTo === null) return null;
    let first = null;
    for (const [id, message] of this.store.messages) {
      if (id > this.dividerAfter && id <= this.dividerUpTo && (first === null || id < first) && this.news(message)) {
        first = id;
      }
    }
    return first;
  }

  // Whether message ``id`` is surely the first news: every message from the
  // cursor up to it is held.
  surely(id) {
    const from = this.dividerAfter + 1;
    return this.store.segments.ranges.some((range) => range.low <= from && id <= range.high);
  }

  // The line goes above the first news, once it is surely that.
  placeDivider() {
    const first = this.firstNews();
    const anchor = first === null || !this.surely(first) ? null : this.store.element(first);
    if (!anchor) {
      if (this.divider) this.divider.remove();
      return;
    }
    if (!this.divider) {
      this.divider = el("li", "unread-divider");
      this.divider.dataset.unreadDivider = "";
      this.divider.setAttribute("role", "separator");
      this.divider.append(el("span", "unread-divider-text", this.strings.newMessages || ""));
    }
    if (anchor.previousElementSibling !== this.divider) anchor.before(this.divider);
  }

  // More is unread than the view holds: open at the line, not at the bottom.
  reveal() {
    const view = this.scroller.getBoundingClientRect();
    const offset = this.divider.getBoundingClientRect().top - view.top;
    if (offset >= 0) return; // The line, and all after it, are on screen.
    this.scroller.scrollTop = Math.max(0, this.scroller.scrollTop + offset - DIVIDER_MARGIN_PX);
    this.store.stick = this.store.isNearBottom();
    if (!this.store.stick) this.store.pill.hidden = false;
  }
}
