// The messages shown: one element per id, in ascending id order, with our
// unconfirmed messages after them. Also keeps the view scrolled.
import { renderMessage } from "./render.js";

const NEAR_BOTTOM_PX = 80;

export class MessageStore {
  constructor({ list, scroller, pill, empty, renderOptions }) {
    this.list = list;
    this.scroller = scroller;
    this.pill = pill;
    this.empty = empty;
    this.renderOptions = renderOptions;
    this.byId = new Map();
    this.minId = null;
    this.maxId = null;
    this.pending = new Map();
    this.stick = true;
    scroller.addEventListener("scroll", () => {
      this.stick = this.isNearBottom();
      if (this.stick) this.pill.hidden = true;
    }, { passive: true });
    pill.addEventListener("click", () => this.scrollToBottom());
    // The view changes size (a phone's keyboard, the composer growing, text
    // wrapping differently): stay at the bottom if the reader was there.
    if (typeof ResizeObserver === "function") {
      const observer = new ResizeObserver(() => {
        if (this.stick) this.scroller.scrollTop = this.scroller.scrollHeight;
      });
      observer.observe(scroller);
      observer.observe(list);
    }
    // A thumbnail that loads changes the height; stay at the bottom if there.
    list.addEventListener("load", () => {
      if (this.stick) this.scrollToBottom();
    }, true);
  }


  isNearBottom() {
    const { scrollTop, scrollHeight, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.stick = true;
    this.pill.hidden = true;
  }

  // Put ``element`` (a message with id ``id``) after the last shown message
  // with a smaller id: found scanning from the end, where new ones go.
  placeElement(id, element) {
    let node = this.list.lastElementChild;
    while (node) {
      const nodeId = node.dataset.messageId;
      if (nodeId !== undefined && Number(nodeId) < id) {
        node.after(element);
        return;
      }
      node = node.previousElementSibling;
    }
    this.list.prepend(element);
  }

  addElement(message) {
    const id = Number(message.id);
    if (!Number.isSafeInteger(id) || this.byId.has(id)) return null;
    const element = renderMessage(message, this.renderOptions);
    this.byId.set(id, element);
    if (this.minId === null || id < this.minId) this.minId = id;
    if (this.maxId === null || id > this.maxId) this.maxId = id;
    this.placeElement(id, element);
    return element;
  }

  // Merge messages (history, a live message, a page): duplicates are skipped.
  merge(messages, { older = false } = {}) {
    if (!messages.length) {
      this.updateEmpty();
      return 0;
    }
    const wasNear = this.stick || this.isNearBottom();
    const { scrollHeight, scrollTop } = this.scroller;
    let added = 0;
    let newest = false;
    const maxBefore = this.maxId;
    for (const message of messages) {
      if (this.addElement(message)) {
        added += 1;
        if (maxBefore === null || Number(message.id) > maxBefore) newest = true;
      }
    }
    this.updateEmpty();
    if (older) {
      // Keep what the reader was looking at in place.
      this.scroller.scrollTop = this.scroller.scrollHeight - scrollHeight + scrollTop;
    } else if (wasNear) {
      this.scrollToBottom();
    } else if (newest && added) {
      this.pill.hidden = false;
    }
    return added;
  }

  addPending(clientId, element) {
    this.pending.set(clientId, element);
    this.list.append(element);
    this.updateEmpty();
    this.scrollToBottom();
  }

  getPending(clientId) {
    return this.pending.get(clientId) || null;
  }

  removePending(clientId) {
    const element = this.pending.get(clientId);
    if (!element) return;
    this.pending.delete(clientId);
    element.remove();
    this.updateEmpty();
  }

  // The server stored our message ``clientId`` as ``message``.
  confirm(clientId, message) {
    const element = clientId ? this.pending.get(clientId) : null;
    if (!element) {
      this.merge([message]);
      return false;
    }
    const wasNear = this.stick || this.isNearBottom();
    this.pending.delete(clientId);
    element.remove();
    this.addElement(message);
    this.updateEmpty();
    if (wasNear) this.scrollToBottom();
    return true;
  }

  updateEmpty() {
    this.empty.hidden = this.byId.size > 0 || this.pending.size > 0;
  }
}
