// The room's people: their number on the Members button of the header, and
// the panel that button opens. It lists them; those who may add people
// (``canAdd``) add them by username, and those who manage the room
// (``canManage``) take others out.
import { problem, request } from "./api.js";
import { button, el } from "./dom.js";
import { interpolate } from "./format.js";

// Member lines often come in a row (a catch-up): the list is asked for once.
const REFRESH_DELAY_MS = 300;

export class MembersPanel {
  constructor({ url, me, canAdd, canManage, strings, panel, toggle, count }) {
    this.url = url;
    this.me = me;
    this.canAdd = canAdd;
    this.canManage = canManage;
    this.strings = strings;
    this.panel = panel;
    this.toggle = toggle;
    this.count = count;
    this.list = panel.querySelector("[data-members-list]");
    this.error = panel.querySelector("[data-members-error]");
    this.form = panel.querySelector("[data-member-add]");
    this.input = this.form && this.form.querySelector("[data-member-add-input]");
    this.members = [];
    this.ended = false;
    this.refreshTimer = 0;

    toggle.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    panel.querySelector("[data-members-close]").addEventListener("click", () => this.close());
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close();
      }
    });
    document.addEventListener("pointerdown", (event) => {
      if (this.isOpen && !panel.contains(event.target) && !toggle.contains(event.target)) {
        this.close({ refocus: false });
      }
    });
    this.list.addEventListener("click", (event) => {
      const control = event.target.closest("[data-member-remove]");
      if (control) this.remove(control.dataset.memberRemove, control.dataset.memberName);
    });
    if (this.form) {
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.add(this.input.value.trim().replace(/^@/, ""));
      });
    }
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  open() {
    if (this.ended) return;
    this.panel.hidden = false;
    this.toggle.setAttribute("aria-expanded", "true");
    this.say("");
    this.refresh();
    (this.input || this.panel.querySelector("[data-members-close]")).focus();
  }

  close({ refocus = true } = {}) {
    if (!this.isOpen) return;
    this.panel.hidden = true;
    this.toggle.setAttribute("aria-expanded", "false");
    if (refocus) this.toggle.focus();
  }

  // The members changed (a member line came): ask for them again soon.
  changed() {
    if (this.ended) return;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refresh(), REFRESH_DELAY_MS);
  }

  async refresh() {
    if (this.ended) return;
    try {
      const { data } = await request(this.url);
      if (this.ended) return;
      this.members = Array.isArray(data && data.members) ? data.members : [];
      this.count.textContent = String(this.members.length);
      this.render();
    } catch (error) {
      console.warn("chat: could not load the members", error);
      if (this.isOpen) this.say(this.strings.membersFailed);
    }
  }

  render() {
    const { strings } = this;
    this.list.replaceChildren();
    this.list.removeAttribute("aria-busy");
    if (!this.members.length) this.list.append(el("li", "members-empty muted", strings.noMembers || ""));
    for (const member of this.members) {
      const username = String(member.username);
      const name = String(member.name ?? username);
      const item = el("li", "member");
      item.dataset.member = username;
      const who = el("span", "member-who");
      const shownName = el("span", "member-name", name);
      shownName.dir = "auto";
      who.append(shownName, el("span", "member-username", `@${username}`));
      if (username === this.me) who.append(el("span", "member-you muted", strings.you || ""));
      item.append(who);
      if (this.canManage && username !== this.me) {
        const label = interpolate(strings.removeMember, { name });
        const remove = button("member-remove", "×");
        remove.dataset.memberRemove = username;
        remove.dataset.memberName = name;
        remove.title = label;
        remove.setAttribute("aria-label", label);
        item.append(remove);
      }
      this.list.append(item);
    }
  }

  // Tell the reader what happened (``error``: it went wrong).
  say(text, { error = true } = {}) {
    this.error.textContent = text;
    this.error.hidden = !text;
    this.error.classList.toggle("is-success", !error);
  }

  async add(username) {
    if (!username) {
      this.input.focus();
      return;
    }
    const submit = this.form.querySelector("[type=submit]");
    submit.disabled = true;
    try {
      const { data, status } = await request(this.url, { method: "POST", body: { username } });
      const name = (data && data.member && data.member.name) || username;
      this.say(interpolate(status === 201 ? this.strings.memberAdded : this.strings.alreadyMember, { name }), {
        error: false,
      });
      this.input.value = "";
      this.refresh();
    } catch (error) {
      this.say(problem(error, this.strings));
    } finally {
      submit.disabled = false;
      this.input.focus();
    }
  }

  async remove(username, name) {
    if (!window.confirm(interpolate(this.strings.confirmRemove, { name }))) return;
    try {
      await request(`${this.url}/${encodeURIComponent(username)}`, { method: "DELETE" });
      this.say("");
      this.refresh();
    } catch (error) {
      this.say(problem(error, this.strings));
    }
  }

  // The reader can no longer see the room's people.
  end() {
    this.ended = true;
    clearTimeout(this.refreshTimer);
    this.close({ refocus: false });
    this.toggle.disabled = true;
  }
}
