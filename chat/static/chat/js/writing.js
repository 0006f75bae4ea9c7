// What the reader writes: new messages, shown pending until the server
// stores them, and changes to messages (edits, deletes, reactions), shown at
// once (echo.js); each sent over the socket with a client_id of its own.
// Also what becomes of them when the server refuses them.
import { interpolate } from "./format.js";
import { newClientId } from "./ids.js";
import { renderPending, setPendingStatus } from "./render.js";
import { quoteOf } from "./replies.js";

export class Writing {
  // report(detail) tells the reader what went wrong.
  constructor({ room, socket, store, echo, strings, author, me, report }) {
    this.room = room;
    this.socket = socket;
    this.store = store;
    this.echo = echo;
    this.strings = strings;
    this.author = author;
    this.me = me;
    this.report = report;
    // Our posts not stored yet, by client_id, as sent (for Retry).
    this.posts = new Map();
  }

  // Message ``id`` as the page shows it: with our changes on it.
  shown(id) {
    const message = this.store.get(id);
    return message ? this.echo.apply(message, this.strings).message : null;
  }

  // Post ``text``, a reply to message ``replyToId`` if given.
  post(text, replyToId = null) {
    const clientId = newClientId();
    const frame = { type: "message", room: this.room, text, client_id: clientId };
    const original = replyToId === null ? null : this.store.get(replyToId);
    if (original) frame.reply_to = original.id;
    this.posts.set(clientId, frame);
    const { author, me: username, strings } = this;
    const replyTo = original ? quoteOf(original) : null;
    this.store.addPending(clientId, renderPending({ clientId, author, username, text, replyTo, strings }));
    this.sending(clientId);
    this.socket.send(frame);
  }

  // Send a change (edit, delete, react) of message ``id``; show it at once.
  change(kind, id, fields = {}) {
    const clientId = newClientId();
    this.echo.add(clientId, { id, kind, ...fields });
    this.store.redraw(id);
    this.socket.send({ type: kind, room: this.room, id, client_id: clientId, ...fields });
  }

  // A message frame: true if it stored our post.
  stored(frame) {
    if (!frame.client_id || !this.store.getPending(frame.client_id)) return false;
    this.posts.delete(frame.client_id);
    this.store.confirm(frame.client_id, frame.message);
    return true;
  }

  // An update frame: our change with its client_id, if any, is made.
  answered(frame) {
    const change = frame.client_id ? this.echo.take(frame.client_id) : null;
    this.store.merge([frame.message]);
    if (change) this.store.redraw(change.id);
  }

  isOurs(clientId) {
    return Boolean(clientId && (this.echo.get(clientId) || this.store.getPending(clientId)));
  }

  sending(clientId) {
    const element = this.store.getPending(clientId);
    if (element) setPendingStatus(element, { state: "pending", text: this.strings.sending });
  }

  // Our post (or upload) ``clientId`` failed: say why, offer to try again.
  failed(clientId, detail, retry) {
    const { store, strings } = this;
    const element = store.getPending(clientId);
    this.report(detail);
    if (!element) return;
    setPendingStatus(element, {
      state: "failed",
      text: `${strings.failed}: ${detail}`,
      actions: [
        { label: strings.retry, run: retry },
        {
          label: strings.discard,
          run: () => {
            this.socket.drop(clientId);
            this.posts.delete(clientId);
            store.removePending(clientId);
          },
        },
      ],
    });
  }

  // Nothing more can be written to the room: our posts still waiting fail
  // for good, and our changes still waiting are taken back.
  abandon(detail) {
    const { store, strings } = this;
    for (const clientId of [...this.posts.keys()]) {
      this.posts.delete(clientId);
      const element = store.getPending(clientId);
      if (!element) continue;
      setPendingStatus(element, {
        state: "failed",
        text: `${strings.failed}: ${detail}`,
        actions: [{ label: strings.discard, run: () => store.removePending(clientId) }],
      });
    }
    for (const [clientId, change] of [...this.echo.changes]) {
      this.echo.take(clientId);
      store.redraw(change.id);
    }
  }

  // An error frame answered our frame ``clientId``.
  refused(clientId, frame) {
    const detail = frame.detail || frame.code;
    const change = this.echo.get(clientId);
    if (change) {
      // The socket keeps a rate-limited change and sends it again later.
      if (frame.code === "rate_limited") return;
      this.echo.take(clientId);
      this.store.redraw(change.id);
      this.report(detail);
      return;
    }
    if (frame.code === "rate_limited") {
      const seconds = Math.max(1, Math.ceil(Number(frame.retry_after) || 1));
      const element = this.store.getPending(clientId);
      if (element) {
        setPendingStatus(element, {
          state: "pending",
          text: interpolate(this.strings.rateLimited, { seconds }),
        });
        setTimeout(() => this.sending(clientId), seconds * 1000);
      }
      return;
    }
    this.failed(clientId, detail, () => {
      this.sending(clientId);
      if (this.posts.has(clientId)) this.socket.send(this.posts.get(clientId));
    });
  }
}
