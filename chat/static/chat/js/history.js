// Pages of messages over HTTP (GET /api/rooms/<slug>/messages): older ones
// above the first, what a gap between loaded parts hides, the
// neighbourhood of a message a reply points to, and the first unread ones.

export class History {
  constructor({ url, pageSize, store, strings, olderButton, historyStart }) {
    this.url = url;
    this.pageSize = pageSize;
    this.store = store;
    this.strings = strings;
    this.olderButton = olderButton;
    this.historyStart = historyStart;
    this.hasMore = false;
    this.loadingOlder = false;
  }

  async fetchPage(query) {
    const params = new URLSearchParams({ ...query, limit: String(this.pageSize) });
    const response = await fetch(`${this.url}?${params}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new Error((data && data.detail) || `HTTP ${response.status}`);
    return data && Array.isArray(data.messages) ? data.messages : [];
  }

  // Whether the room goes back further than the oldest message held.
  setHasMore(value) {
    this.hasMore = value;
    this.olderButton.hidden = !value;
    this.historyStart.hidden = value || this.store.size === 0;
  }

  // The latest page came with the first history.
  started(messages) {
    const ids = messages.map((message) => Number(message.id));
    const complete = ids.length < this.pageSize;
    this.store.hold(complete ? 0 : Math.min(...ids), Infinity);
    this.store.merge(messages);
    this.setHasMore(!complete);
    this.store.scrollToBottom();
  }

  async loadOlder() {
    const top = this.store.minId;
    if (this.loadingOlder || !this.hasMore || top === null) return;
    this.loadingOlder = true;
    const button = this.olderButton;
    button.disabled = true;
    button.textContent = this.strings.loading;
    try {
      const messages = await this.fetchPage({ before: top });
      const complete = messages.length < this.pageSize;
      this.store.hold(complete ? 0 : Math.min(...messages.map((m) => Number(m.id))), top);
      this.store.merge(messages, { older: true });
      this.setHasMore(!complete);
      button.textContent = this.strings.loadOlder;
    } catch (error) {
      console.warn("chat: could not load older messages", error);
      button.textContent = this.strings.loadFailed;
    } finally {
      this.loadingOlder = false;
      button.disabled = false;
    }
  }

  // Load the messages after id ``high``, up to the next part held.
  async fillGap(high, button) {
    button.disabled = true;
    try {
      const messages = await this.fetchPage({ after: high });
      const complete = messages.length < this.pageSize;
      this.store.hold(high, complete ? Infinity : Math.max(...messages.map((m) => Number(m.id))));
      this.store.merge(messages);
    } catch (error) {
      console.warn("chat: could not load the messages in between", error);
      button.textContent = this.strings.loadFailed;
      button.disabled = false;
    }
  }

  // Load the first page after id ``id`` (where the reader stopped reading).
  async loadAfter(id) {
    const messages = await this.fetchPage({ after: id });
    if (!messages.length) return;
    const complete = messages.length < this.pageSize;
    this.store.hold(id + 1, complete ? Infinity : Math.max(...messages.map((m) => Number(m.id))));
    this.store.merge(messages, { older: true });
  }

  // Load message ``id`` and those around it; throws if it is not there.
  async loadAround(id) {
    const messages = await this.fetchPage({ around: id });
    const ids = messages.map((message) => Number(message.id));
    if (!ids.includes(id)) throw new Error(this.strings.originalMissing);
    this.store.hold(Math.min(...ids), Math.max(...ids));
    this.store.merge(messages, { older: true });
  }
}
