// The reader's own membership of the room: Join (a public room), Leave
// ("Hide conversation" for a direct one), and where the room sits in the
// sidebar: under the rooms joined, or the rooms to browse.
import { problem, request } from "./api.js";
import { dropRoom, placeRoom } from "./sidebar.js";

export class Membership {
  // report(detail) tells the reader what went wrong; onChange(joined, room)
  // follows the reader's membership (``room``: the API's Room, if known).
  constructor({ config, me, strings, joinButton, leaveButton, sidebar, report, onChange = () => {} }) {
    this.room = config.room;
    this.kind = config.roomKind;
    this.joined = Boolean(config.joined);
    this.joinUrl = config.joinUrl;
    this.membersUrl = config.membersUrl;
    this.me = me;
    this.strings = strings;
    this.joinButton = joinButton;
    this.leaveButton = leaveButton;
    this.sidebar = sidebar;
    this.report = report;
    this.onChange = onChange;
    if (joinButton) joinButton.addEventListener("click", () => this.join());
    if (leaveButton) leaveButton.addEventListener("click", () => this.leave());
  }

  async join() {
    this.joinButton.disabled = true;
    try {
      const { data } = await request(this.joinUrl, { method: "POST" });
      this.set(true, data && data.room);
    } catch (error) {
      this.report(problem(error, this.strings));
    } finally {
      this.joinButton.disabled = false;
    }
  }

  async leave() {
    if (this.kind === "private" && !window.confirm(this.strings.confirmLeavePrivate)) return;
    this.leaveButton.disabled = true;
    try {
      await request(`${this.membersUrl}/${encodeURIComponent(this.me)}`, { method: "DELETE" });
    } catch (error) {
      this.report(problem(error, this.strings));
      this.leaveButton.disabled = false;
      return;
    }
    this.leaveButton.disabled = false;
    if (this.kind === "public") {
      this.set(false);
    } else {
      // Nothing more to read here: a private room is closed to the reader
      // now, and a direct conversation is out of their list.
      window.location.assign(this.strings.roomListUrl || "/");
    }
  }

  // Show the reader as a member (``joined``) or not.
  set(joined, room = null) {
    if (joined === this.joined) return;
    this.joined = joined;
    const focused = [this.joinButton, this.leaveButton].includes(document.activeElement);
    if (this.joinButton) this.joinButton.hidden = joined;
    if (this.leaveButton) this.leaveButton.hidden = !joined;
    if (focused) (joined ? this.leaveButton : this.joinButton)?.focus();
    placeRoom(this.sidebar, this.room, joined ? "joined" : "browse");
    this.onChange(joined, room);
  }

  // A member frame: the reader may have joined or left in another tab.
  saw(frame) {
    if (!this.me || frame.username !== this.me) return;
    if (frame.action === "join" || frame.action === "add") this.set(true);
    // Out of a private room, the "removed" frame follows (end()).
    else if ((frame.action === "leave" || frame.action === "remove") && this.kind === "public") this.set(false);
  }

  // The reader can no longer read the room.
  end() {
    this.joined = false;
    for (const control of [this.joinButton, this.leaveButton]) if (control) control.hidden = true;
    dropRoom(this.sidebar, this.room);
  }
}
