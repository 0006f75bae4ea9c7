// Our changes to messages (edits, deletes, reactions) that the server has
// not answered yet. They are shown at once, over the message as the server
// last described it, until the answer with their client_id settles them
// (or any state of the message that shows them made), or an error takes
// them back.
import { reactedBy, withReaction } from "./reactions.js";

export class LocalEcho {
  constructor(me) {
    this.me = me;
    // clientId -> {id, kind: "edit" | "delete" | "react", text, emoji, on}
    this.changes = new Map();
  }

  add(clientId, change) {
    this.changes.set(clientId, change);
  }

  get(clientId) {
    return this.changes.get(clientId) || null;
  }

  // Forget change ``clientId``; return it, or null if it was not ours.
  take(clientId) {
    const change = this.changes.get(clientId) || null;
    this.changes.delete(clientId);
    return change;
  }

  made(change, message) {
    if (message.deleted) return true;
    if (change.kind === "edit") return message.text === change.text;
    if (change.kind === "react") return reactedBy(message, change.emoji, this.me) === change.on;
    return false;
  }

  // Forget the changes that ``message`` (a new state from the server)
  // shows made.
  settle(message) {
    for (const [clientId, change] of this.changes) {
      if (change.id === message.id && this.made(change, message)) this.changes.delete(clientId);
    }
  }

  // ``message`` with our changes on it, and what renderMessage shows of them.
  apply(message, strings) {
    let shown = message;
    const local = { state: null, status: "", emoji: new Set() };
    for (const change of this.changes.values()) {
      if (change.id !== message.id || message.deleted) continue;
      if (change.kind === "edit") {
        // The server formats the text; until then it shows as written.
        shown = { ...shown, text: change.text, html: "" };
        local.state = local.state || "edit";
        local.status = strings.saving || "";
      } else if (change.kind === "delete") {
        local.state = "delete";
        local.status = strings.deleting || "";
      } else if (change.kind === "react") {
        shown = withReaction(shown, change.emoji, this.me, change.on);
        local.emoji.add(change.emoji);
      }
    }
    return { message: shown, local };
  }
}
