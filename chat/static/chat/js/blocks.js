// People the reader blocked (GET/POST /api/blocks): their messages show
// collapsed, "Message from a blocked user", until the reader asks to see
// one; blocking and unblocking go to the server.
import { request } from "./api.js";
import { button, el } from "./dom.js";

export class Blocks {
  constructor({ url, usernames = [] }) {
    this.url = url;
    this.usernames = new Set(usernames);
    // Messages of blocked people the reader opened, by id.
    this.revealed = new Set();
  }

  has(username) {
    return Boolean(username) && this.usernames.has(username);
  }

  // Whether message ``message`` is shown collapsed.
  hides(message) {
    return !message.member && !message.deleted && this.has(message.username) && !this.revealed.has(message.id);
  }

  async block(username) {
    await request(this.url, { method: "POST", body: { username } });
    this.usernames.add(username);
  }

  async unblock(username) {
    await request(`${this.url}/${encodeURIComponent(username)}`, { method: "DELETE" });
    this.usernames.delete(username);
  }
}

// A message of a blocked person, collapsed: its buttons use the message
// actions ("show", "unblock").
export function renderBlocked(message, strings) {
  const item = el("li", "message is-blocked");
  item.dataset.messageId = String(message.id);
  item.dataset.blockedMessage = "";
  item.tabIndex = -1;
  const line = el("p", "blocked-line");
  line.append(el("span", "blocked-line-text", strings.blockedMessage || ""));
  for (const [action, label] of [["show", strings.show], ["unblock", strings.unblockShort]]) {
    const control = button("link-button", label || action);
    control.dataset.action = action;
    line.append(control);
  }
  item.append(line);
  return item;
}

// Above an opened message of a blocked person: a way to fold it again.
export function renderRevealedNote(strings) {
  const note = el("p", "blocked-line is-revealed");
  note.append(el("span", "blocked-line-text", strings.blockedMessage || ""));
  const hide = button("link-button", strings.hide || "hide");
  hide.dataset.action = "hide";
  note.append(hide);
  return note;
}
