// Whether the reader is at the screen, for the presence of every room the
// socket follows ({"type": "activity", "state": "active" | "idle"}): idle
// while the tab is hidden or after 5 minutes without input, active again on
// input or when the tab shows. Sent when it changes, and on each new
// connection if idle (the server takes a new socket for active).
const IDLE_AFTER_MS = 5 * 60 * 1000;
// What counts as input; focus comes back with the reader too.
const INPUTS = ["keydown", "pointerdown", "wheel", "focus"];

export const Activity = Object.freeze({ ACTIVE: "active", IDLE: "idle" });

export class ActivityWatch {
  // send(state): tell the server, if connected.
  constructor({ send, idleAfterMs = IDLE_AFTER_MS }) {
    this.send = send;
    this.idleAfterMs = idleAfterMs;
    this.state = document.hidden ? Activity.IDLE : Activity.ACTIVE;
    this.lastInput = Date.now();
    this.timer = 0;
    const onInput = () => this.input();
    for (const type of INPUTS) window.addEventListener(type, onInput, { capture: true, passive: true });
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.set(Activity.IDLE);
      else this.input();
    });
    this.arm();
  }

  input() {
    this.lastInput = Date.now();
    if (!document.hidden) this.set(Activity.ACTIVE);
    this.arm();
  }

  // One timer at a time, however much input comes: when it fires early
  // (input meanwhile), it waits for the rest.
  arm() {
    if (this.timer) return;
    const wait = Math.max(0, this.lastInput + this.idleAfterMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = 0;
      if (Date.now() - this.lastInput >= this.idleAfterMs) this.set(Activity.IDLE);
      else this.arm();
    }, wait);
  }

  set(state) {
    if (state === this.state) return;
    this.state = state;
    this.send(state);
  }

  // A new connection opened.
  connected() {
    if (this.state !== Activity.ACTIVE) this.send(this.state);
  }
}
