// The page's WebSocket (/ws/, docs/protocol.md): follows rooms by
// "subscribe" frames, resumes each after the last change seen ("since"),
// reconnects with backoff, and delivers our frames exactly once. An outgoing
// frame (a message, an edit, a delete, a reaction) stays in the outbox, and
// is sent again on every new connection with the same client_id, until its
// answer arrives; the server carries out a client_id once.

// The one socket for many rooms.
export const SOCKET_PATH = "/ws/";

// Waits between attempts grow by half each time, from 0.5 s to 15 s: a
// server back after a restart of a few seconds is found within seconds.
const BACKOFF_START_MS = 500;
const BACKOFF_FACTOR = 1.5;
const BACKOFF_MAX_MS = 15000;
// The server sends a heartbeat every 15 s. With no frame for this long, an
// open socket is taken for dead.
const DEAD_AFTER_MS = 30000;
// After this much silence the socket asks the server for a sign of life.
const PROBE_AFTER_MS = 20000;
// How long an answer to that question may take.
const PROBE_GRACE_MS = 8000;
const WATCH_EVERY_MS = 2000;
// A heartbeat naming a newer change than we hold may race the change
// itself; a gap still open after this long is closed by subscribing again.
const BEHIND_GRACE_MS = 3000;
// A handshake that has not finished by then is abandoned and tried again.
const OPEN_TIMEOUT_MS = 10000;
// Close codes the server uses (chat/consumers.py).
const CLOSE_NOT_FOUND = 4404;
const CLOSE_LOGGED_OUT = 4401;
const CLOSE_DEAD = 4000;

export const Status = Object.freeze({
  CONNECTING: "connecting",
  LIVE: "live",
  RECONNECTING: "reconnecting",
  OFFLINE: "offline",
});

export function socketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}${path}`;
}

export class ChatSocket {
  // onFrame(frame): every frame but the answers the socket keeps;
  // onStatus(status); onBlame(clientId, errorFrame): an error answered our
  // frame clientId; onFatal(reason, room): a room (or the socket) is gone;
  // onOpen(): a connection opened, before its rooms are followed (what the
  // server should know of the reader first is sent then).
  constructor({ path = SOCKET_PATH, onFrame, onStatus, onBlame, onFatal, onOpen = () => {} }) {
    this.path = path;
    // room slug -> getSince(): the highest change seen in it, or null.
    this.rooms = new Map();
    // The rooms whose presence the page shows.
    this.presenceRooms = new Set();
    this.behindTimers = new Map();
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.onBlame = onBlame;
    this.onFatal = onFatal;
    this.onOpen = onOpen;
    this.ws = null;
    this.status = null;
    this.everLive = false;
    this.stopped = false;
    this.suspended = false;
    this.attempt = 0;
    this.retryTimer = 0;
    this.openTimer = 0;
    this.watchTimer = 0;
    this.pauseTimer = 0;
    this.paused = false;
    // clientId -> encoded frame, in the order they were made.
    this.outbox = new Map();
    // What was sent on the current connection and not answered yet, in
    // order: {clientId, error}. An error frame names the client_id it
    // answers; one that names none is blamed, as the server answers a
    // connection's frames in order, on the oldest unanswered send; if that
    // one's answer comes after all, the blame passes to the next one.
    this.inflight = [];
    this.lastFrameAt = 0;
    this.probeSentAt = 0;

    // The network is back: try at once, and soon again if that was too early.
    window.addEventListener("online", () => {
      this.attempt = 0;
      this.reconnectNow();
    });
    // The browser lost the network: a socket it keeps open hears nothing
    // more. Give it up now, and catch up once the network is back.
    window.addEventListener("offline", () => {
      if (this.ws) this.abandon("offline");
      else this.setStatus(Status.OFFLINE);
    });
    // Leaving the page closes the socket quietly (no "reconnecting" flash,
    // and the page may enter the back-forward cache); coming back reopens it.
    window.addEventListener("pagehide", () => this.suspend());
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) this.resume();
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    });
  }

  isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.onStatus(status);
  }

  start() {
    this.setStatus(Status.CONNECTING);
    this.connect();
  }

  // Follow ``room`` on this connection and every later one, from the
  // change ``getSince()`` returns (null: the latest page); with
  // ``presence``, hear who is in it too.
  follow(room, getSince, { presence = false } = {}) {
    this.rooms.set(room, getSince);
    if (presence) this.presenceRooms.add(room);
    else this.presenceRooms.delete(room);
    if (this.isOpen()) this.subscribe(room);
  }

  // Stop following ``room`` without asking the server: it stopped sending
  // it (the reader may no longer read it). What waits to go there is dropped.
  unfollow(room) {
    this.rooms.delete(room);
    this.presenceRooms.delete(room);
    clearTimeout(this.behindTimers.get(room));
    this.behindTimers.delete(room);
    for (const [clientId, encoded] of this.outbox) {
      if (JSON.parse(encoded).room === room) this.outbox.delete(clientId);
    }
  }

  // Stop following ``room``, and tell the server (it answers "unsubscribed").
  unsubscribe(room) {
    const followed = this.rooms.has(room);
    this.unfollow(room);
    if (followed) this.sendNow({ type: "unsubscribe", room });
  }

  // Send ``frame`` now if connected, outside the outbox: for what is sent
  // anew whenever it matters (where the reader stands), not retried. Return
  // whether it went.
  sendNow(frame) {
    if (!this.isOpen()) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch (error) {
      console.warn("chat: could not send", frame.type, error);
      return false;
    }
  }

  subscribe(room) {
    const getSince = this.rooms.get(room);
    if (!getSince) return;
    const since = getSince();
    try {
      const presence = this.presenceRooms.has(room);
      this.ws.send(JSON.stringify({ type: "subscribe", room, since: since ?? null, presence }));
    } catch (error) {
      console.warn("chat: could not subscribe; the next connection will", error);
    }
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    if (this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(socketUrl(this.path));
    } catch (error) {
      console.warn("chat: cannot open the socket", error);
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    clearTimeout(this.openTimer);
    this.openTimer = setTimeout(() => {
      if (ws !== this.ws || ws.readyState !== WebSocket.CONNECTING) return;
      this.ws = null;
      ws.close();
      this.scheduleReconnect();
    }, OPEN_TIMEOUT_MS);
    ws.addEventListener("open", () => this.handleOpen(ws));
    ws.addEventListener("message", (event) => this.handleMessage(ws, event));
    ws.addEventListener("close", (event) => this.handleClose(ws, event));
  }

  handleOpen(ws) {
    if (ws !== this.ws) return;
    clearTimeout(this.openTimer);
    this.inflight = [];
    this.lastFrameAt = Date.now();
    this.probeSentAt = 0;
    clearInterval(this.watchTimer);
    this.watchTimer = setInterval(() => this.watch(ws), WATCH_EVERY_MS);
    this.onOpen();
    // The server answers in order: each room's history comes before the
    // answers to what the outbox sends into it.
    for (const room of this.rooms.keys()) this.subscribe(room);
    this.flush();
  }

  handleMessage(ws, event) {
    if (ws !== this.ws) return;
    this.lastFrameAt = Date.now();
    this.probeSentAt = 0;
    if (this.status !== Status.LIVE) {
      // The first frame (the history) proves the connection works.
      this.attempt = 0;
      this.everLive = true;
      this.setStatus(Status.LIVE);
    }
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      console.warn("chat: a frame that is not JSON was ignored");
      return;
    }
    if (!frame || typeof frame !== "object") return;
    if ((frame.type === "message" || frame.type === "update") && frame.client_id) {
      this.acknowledge(frame.client_id);
    } else if (frame.type === "error") {
      if (this.roomGone(frame) || this.blame(frame)) return;
    } else if (frame.type === "heartbeat") {
      this.checkBehind(ws, frame.room, Number(frame.seq) || 0);
      return;
    } else if (frame.type === "pong") {
      return;
    }
    this.onFrame(frame);
  }

  handleClose(ws, event) {
    if (ws !== this.ws) return;
    clearTimeout(this.openTimer);
    clearInterval(this.watchTimer);
    this.ws = null;
    this.inflight = [];
    if (event.code === CLOSE_LOGGED_OUT) {
      // The login ended elsewhere: reload to show the page as it now is.
      this.stopped = true;
      window.location.reload();
      return;
    }
    if (event.code === CLOSE_NOT_FOUND) {
      this.stopped = true;
      this.setStatus(Status.OFFLINE);
      this.onFatal("not_found");
      return;
    }
    this.scheduleReconnect();
  }

  // A room's heartbeat named change ``seq``: if it has not come a moment
  // later, something was missed; subscribing again with since brings it.
  checkBehind(ws, room, seq) {
    const getSince = this.rooms.get(room);
    if (!getSince) return;
    const behind = () => seq > (getSince() ?? 0);
    if (!behind()) return;
    clearTimeout(this.behindTimers.get(room));
    this.behindTimers.set(room, setTimeout(() => {
      if (ws !== this.ws || !this.isOpen() || !behind()) return;
      console.warn("chat: missed changes of %s up to %d, catching up", room, seq);
      this.subscribe(room);
    }, BEHIND_GRACE_MS));
  }

  // An error that answers no frame of ours but names a room we follow
  // that does not exist (any more).
  roomGone(frame) {
    if (frame.client_id || frame.code !== "not_found" || !this.rooms.has(frame.room)) return false;
    this.rooms.delete(frame.room);
    this.onFatal("not_found", frame.room);
    return true;
  }

  scheduleReconnect() {
    if (this.stopped) return;
    const offline = navigator.onLine === false;
    this.setStatus(offline ? Status.OFFLINE : this.everLive ? Status.RECONNECTING : Status.CONNECTING);
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * BACKOFF_FACTOR ** this.attempt);
    this.attempt += 1;
    // Jitter keeps a room's readers from all coming back in the same instant.
    const delay = base / 2 + Math.random() * (base / 2);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  suspend() {
    if (this.stopped) return;
    this.suspended = true;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.openTimer);
    clearInterval(this.watchTimer);
    this.retryTimer = 0;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, "page hidden");
  }

  resume() {
    if (!this.suspended) return;
    this.suspended = false;
    this.stopped = false;
    this.attempt = 0;
    this.setStatus(Status.RECONNECTING);
    this.connect();
  }

  // Skip the wait when the network or the tab comes back.
  reconnectNow() {
    if (this.stopped || this.ws !== null || !this.retryTimer) return;
    this.connect();
  }

  // Close the current connection, taken for dead, and try again later.
  abandon(reason) {
    const ws = this.ws;
    this.ws = null;
    clearTimeout(this.openTimer);
    clearInterval(this.watchTimer);
    try {
      if (ws) ws.close(CLOSE_DEAD, reason);
    } catch {
      // Closing a dead socket may throw; it is being replaced anyway.
    }
    this.inflight = [];
    this.scheduleReconnect();
  }

  watch(ws) {
    if (ws !== this.ws || !this.isOpen()) return;
    const now = Date.now();
    const silence = now - this.lastFrameAt;
    if (this.probeSentAt && silence >= DEAD_AFTER_MS && now - this.probeSentAt >= PROBE_GRACE_MS) {
      console.warn("chat: no frame for %d s, reconnecting", Math.round(silence / 1000));
      this.abandon("silent");
      return;
    }
    if (!this.probeSentAt && silence >= PROBE_AFTER_MS) {
      this.probeSentAt = now;
      // With sends awaiting an answer, their answers are the sign of life.
      if (this.inflight.length === 0) this.probe();
    }
  }

  // Ask the server for a sign of life; it answers {"type": "pong"}.
  probe() {
    try {
      this.ws.send(JSON.stringify({ type: "ping" }));
    } catch {
      // The watchdog will notice.
    }
  }

  // Queue ``frame`` (with its client_id and room) and send it now if
  // connected.
  send(frame) {
    const clientId = frame.client_id;
    const encoded = JSON.stringify(frame);
    this.outbox.set(clientId, encoded);
    if (this.isOpen() && !this.paused) this.transmit(clientId, encoded);
  }

  transmit(clientId, frame) {
    try {
      this.ws.send(frame);
      this.inflight.push({ clientId, error: null });
    } catch (error) {
      console.warn("chat: send failed; the frame waits for the next connection", error);
    }
  }

  flush() {
    if (!this.isOpen() || this.paused) return;
    for (const [clientId, frame] of this.outbox) this.transmit(clientId, frame);
  }

  // Stop sending ``clientId`` (it failed, or the writer gave it up).
  drop(clientId) {
    this.outbox.delete(clientId);
  }

  acknowledge(clientId) {
    this.outbox.delete(clientId);
    const index = this.inflight.findIndex((entry) => entry.clientId === clientId);
    if (index < 0) return;
    const [entry] = this.inflight.splice(index, 1);
    this.inflight = this.inflight.filter((other) => other.clientId !== clientId);
    if (entry.error) {
      // The error was not this message's: pass it to the next one waiting.
      const next = this.inflight.slice(index).find((other) => !other.error);
      if (next) this.assign(next, entry.error);
    }
  }

  // Attribute an error frame to a sent message; false if none is waiting.
  blame(frame) {
    let entry;
    if (frame.client_id) {
      entry = this.inflight.find((other) => other.clientId === frame.client_id);
    } else {
      entry = this.inflight.find((other) => !other.error);
    }
    if (!entry) return false;
    this.assign(entry, frame);
    return true;
  }

  assign(entry, frame) {
    entry.error = frame;
    if (frame.code === "rate_limited") {
      this.pause(Number(frame.retry_after) || 1);
    } else {
      this.outbox.delete(entry.clientId);
    }
    this.onBlame(entry.clientId, frame);
  }

  // The server asked us to slow down: hold the outbox, then send it again.
  pause(seconds) {
    this.paused = true;
    clearTimeout(this.pauseTimer);
    this.pauseTimer = setTimeout(() => {
      this.paused = false;
      this.inflight = [];
      this.flush();
    }, Math.min(seconds, 300) * 1000);
  }
}
