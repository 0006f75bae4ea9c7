// Who is in the room on screen (its subscription asks with "presence"): "3 online
// · 2 guests" beside the Members button, and the people online at the top of
// the Members panel, each with a dot, filled while active and hollow while
// idle. After the room's history the server sends everyone ("presence"),
// then what changed ("presence_diff"); a connection lost leaves nothing to
// trust until the next one says it anew. The reader is in it from the
// start: the server's view shows them only in the diff after their arrival.
import { el } from "./dom.js";
import { interpolate, plural } from "./format.js";

const IDLE = "idle";

const countOf = (value) => {
  const number = Number(value);
  return Number.isSafeInteger(number) && number > 0 ? number : 0;
};

export class Presence {
  // ``badge``: the "N online" of the header; ``section``: the panel's list
  // of people online; onGone(username): someone is no longer online.
  constructor({ room, me, myName, strings, badge, section, onGone = () => {} }) {
    this.room = room;
    this.me = me;
    this.myName = myName;
    this.strings = strings;
    this.badge = badge;
    this.section = section;
    this.list = section && section.querySelector("[data-online-list]");
    this.onGone = onGone;
    // username -> {username, name, state}
    this.online = new Map();
    this.guests = 0;
    this.known = false;
    this.ended = false;
  }

  // A "presence" frame: everyone in the room, anew.
  snapshot(frame) {
    if (this.ended) return;
    const before = [...this.online.keys()];
    this.online = new Map();
    this.take(frame.online);
    if (this.me && !this.online.has(this.me)) {
      this.online.set(this.me, { username: this.me, name: this.myName || this.me, state: "active" });
    }
    this.guests = countOf(frame.guests);
    this.known = true;
    for (const username of before) if (!this.online.has(username)) this.onGone(username);
    this.draw();
  }

  // A "presence_diff" frame: who came or changed, who went.
  diff(frame) {
    if (this.ended || !this.known) return;
    this.take(frame.online);
    for (const gone of Array.isArray(frame.offline) ? frame.offline : []) {
      if (this.online.delete(String(gone))) this.onGone(String(gone));
    }
    this.guests = countOf(frame.guests);
    this.draw();
  }

  take(entries) {
    for (const entry of Array.isArray(entries) ? entries : []) {
      if (!entry || !entry.username) continue;
      const username = String(entry.username);
      const name = String(entry.name ?? username);
      this.online.set(username, { username, name, state: entry.state === IDLE ? IDLE : "active" });
    }
  }

  // The connection is down: who is here is not known until it is back.
  lost() {
    this.known = false;
    this.draw();
  }

  // The reader can no longer read the room.
  end() {
    this.ended = true;
    this.known = false;
    this.online.clear();
    this.draw();
  }

  draw() {
    const { strings } = this;
    if (this.badge) {
      this.badge.hidden = !this.known;
      const count = this.badge.querySelector("[data-room-online-count]");
      const guests = this.badge.querySelector("[data-room-online-guests]");
      count.textContent = interpolate(strings.online, { count: this.online.size });
      guests.textContent = this.guests ? ` · ${plural(strings.guests, this.guests)}` : "";
    }
    if (!this.list) return;
    this.section.hidden = !this.known || this.online.size === 0;
    const people = [...this.online.values()].sort((a, b) => a.name.localeCompare(b.name));
    this.list.replaceChildren(
      ...people.map(({ username, name, state }) => {
        const item = el("li", "online-person");
        item.dataset.onlinePerson = username;
        item.dataset.state = state;
        const label = state === IDLE ? strings.idle : strings.active;
        const dot = el("span", "presence-dot");
        dot.dataset.state = state;
        dot.title = label;
        dot.setAttribute("aria-hidden", "true");
        const who = el("span", "member-who");
        const shownName = el("span", "member-name", name);
        shownName.dir = "auto";
        who.append(shownName, el("span", "member-username", `@${username}`));
        if (username === this.me) who.append(el("span", "member-you muted", strings.you || ""));
        item.append(dot, who, el("span", "visually-hidden", ` (${label})`));
        return item;
      }),
    );
  }
}
