// Mute in the room's header (members only): a muted room's counts show grey
// in the sidebar and stay out of the tab's title.
import { problem } from "./api.js";

export class MuteToggle {
  constructor({ button, room, url, places, strings, report }) {
    this.button = button;
    this.room = room;
    this.url = url;
    this.places = places;
    this.strings = strings;
    this.report = report;
    if (button) button.addEventListener("click", () => this.toggle());
  }

  get muted() {
    const place = this.places.get(this.room);
    return Boolean(place && place.muted);
  }

  async toggle() {
    this.button.disabled = true;
    try {
      await this.places.setMuted(this.room, this.url, !this.muted);
    } catch (error) {
      this.report(problem(error, this.strings));
    } finally {
      this.button.disabled = false;
      this.show();
    }
  }

  // Shown to members only, saying what a press does.
  show() {
    if (!this.button) return;
    this.button.hidden = this.places.get(this.room) === null;
    this.button.textContent = this.muted ? this.strings.unmute : this.strings.mute;
  }
}
