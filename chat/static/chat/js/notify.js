// Browser notifications of what concerns the reader: a new message that
// mentions them (or, "@room", every member), or any new message of a direct
// conversation, when they would not see it otherwise (the tab hidden,
// another room, or the message out of view), and never their own, one of
// someone they blocked, or one in a muted room. One notification per room
// at a time; a click on it opens the room. Permission is asked only when the
// reader presses "Enable notifications".
import { request } from "./api.js";
import { shownAuthor } from "./render.js";

const BODY_MAX = 120;

const supported = () => typeof window.Notification === "function";

function clip(text, max) {
  const chars = Array.from(text.replace(/\s+/g, " ").trim());
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : chars.join("");
}

export class Notifier {
  // ``room``: the room on screen, of kind ``roomKind``; ``places``: the
  // reader's places (unread.js: what is muted); ``control``: the button
  // and the note of the sidebar.
  constructor({ room, roomKind, me, strings, places, store, scroller, sidebar, blocks, control }) {
    this.room = room;
    this.roomKind = roomKind;
    this.me = me;
    this.strings = strings;
    this.places = places;
    this.store = store;
    this.scroller = scroller;
    this.sidebar = sidebar;
    this.blocks = blocks;
    this.control = control;
    // slug -> the Notification last raised for it.
    this.raised = new Map();
    this.enable = control && control.querySelector("[data-notify-enable]");
    this.denied = control && control.querySelector("[data-notify-denied]");
    if (this.enable) this.enable.addEventListener("click", () => this.ask());
    this.showControl();
  }

  get allowed() {
    return Boolean(this.me) && supported() && window.Notification.permission === "granted";
  }

  // The button while the reader has not decided, a note once they refused.
  showControl() {
    if (!this.control) return;
    const permission = this.me && supported() ? window.Notification.permission : null;
    this.enable.hidden = permission !== "default";
    this.denied.hidden = permission !== "denied";
    this.control.hidden = this.enable.hidden && this.denied.hidden;
  }

  async ask() {
    try {
      // Older Safari answers through the callback only.
      await window.Notification.requestPermission(() => this.showControl());
    } catch (error) {
      console.warn("chat: could not ask for notifications", error);
    }
    this.showControl();
  }

  // A "message" frame (a new message) of any room the socket follows, once
  // the page shows it.
  saw(frame) {
    const message = frame.message;
    const slug = frame.room || this.room;
    if (!this.allowed || !message || message.member || message.deleted) return;
    if (!message.username || message.username === this.me || (this.blocks && this.blocks.has(message.username))) return;
    const place = this.places.get(slug);
    if (place && place.muted) return;
    if (!this.concerns(slug, message, place) || this.inView(slug, message)) return;
    this.raise(slug, message);
  }

  // Room ``slug`` just came to the reader's list (a conversation opened or
  // back, a room they were added to) with unread messages: the one that
  // brought it came before the page followed the room, so its newest
  // message is read here, as its frame would have brought it.
  async arrived(slug) {
    const place = this.places.get(slug);
    if (!this.allowed || !place || place.muted || place.unread <= 0) return;
    if (this.kindOf(slug) !== "direct" && place.mentions <= 0) return;
    try {
      const { data } = await request(`/api/rooms/${encodeURIComponent(slug)}/messages?limit=1`);
      const message = data && Array.isArray(data.messages) ? data.messages.at(-1) : null;
      if (message && Number(message.id) > place.cursor) this.saw({ room: slug, message });
    } catch (error) {
      console.warn("chat: could not read the newest message of", slug, error);
    }
  }

  // ``place``: the reader's in the room, null unless they joined it.
  concerns(slug, message, place) {
    const mentions = Array.isArray(message.mentions) ? message.mentions : [];
    return mentions.includes(this.me) || (message.notifies_room === true && place !== null) || this.kindOf(slug) === "direct";
  }

  // Whether the reader sees the message where it is: the tab shows, in
  // this room, scrolled to it.
  inView(slug, message) {
    if (document.hidden || slug !== this.room) return false;
    const element = this.store.element(Number(message.id));
    if (!element) return false;
    const view = this.scroller.getBoundingClientRect();
    const box = element.getBoundingClientRect();
    return box.bottom > view.top && box.top < view.bottom;
  }

  item(slug) {
    return this.sidebar ? this.sidebar.querySelector(`[data-sidebar-room="${CSS.escape(slug)}"]`) : null;
  }

  kindOf(slug) {
    if (slug === this.room) return this.roomKind;
    const item = this.item(slug);
    return item && item.closest('[data-sidebar-section="direct"]') ? "direct" : null;
  }

  titleOf(slug) {
    if (slug === this.room) {
      const title = document.querySelector("[data-room-title]");
      if (title) return title.textContent.trim();
    }
    const name = this.item(slug)?.querySelector(".sidebar-room-name");
    return name ? name.textContent.trim() : slug;
  }

  urlOf(slug) {
    const link = this.item(slug)?.querySelector("a[href]");
    return link ? link.href : new URL(`../${encodeURIComponent(slug)}/`, window.location.href).href;
  }

  raise(slug, message) {
    const text = message.text || (message.attachment && message.attachment.name) || "";
    const body = clip(`${shownAuthor(message, this.strings)}: ${text}`, BODY_MAX);
    this.raised.get(slug)?.close();
    let note;
    try {
      note = new window.Notification(this.titleOf(slug), { body, tag: slug, renotify: true });
    } catch (error) {
      // Some browsers (Chrome on Android) show them from a service worker only.
      console.warn("chat: could not show a notification", error);
      return;
    }
    this.raised.set(slug, note);
    note.onclick = () => {
      window.focus();
      note.close();
      if (slug !== this.room) window.location.assign(this.urlOf(slug));
    };
    note.onclose = () => {
      if (this.raised.get(slug) === note) this.raised.delete(slug);
    };
  }
}
