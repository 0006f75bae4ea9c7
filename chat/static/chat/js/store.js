// The messages shown: one element per id, in ascending id order, each drawn
// from the message as the server last described it, with our changes the
// server has not answered yet on it (echo.js); our unconfirmed posts after
// them; and a marker where a part of the room between loaded ones is not
// loaded yet (segments.js). Also keeps the room's change number reached
// (seq) and the view scrolled.
import { button, el } from "./dom.js";
import { renderMessage } from "./render.js";
import { Segments } from "./segments.js";

const NEAR_BOTTOM_PX = 80;
// How long a message shown by its quote stays marked, unless left sooner.
const HIGHLIGHT_MS = 6000;

export class MessageStore {
  // echo: the LocalEcho of our changes; onChange(): the list changed;
  // onFillGap(high, button): load what follows id ``high``.
  constructor({ list, scroller, pill, empty, renderOptions, echo, onChange, onFillGap }) {
    this.list = list;
    this.scroller = scroller;
    this.pill = pill;
    this.empty = empty;
    this.renderOptions = renderOptions;
    this.echo = echo;
    this.onChange = onChange || (() => {});
    this.onFillGap = onFillGap || (() => {});
    this.messages = new Map();
    this.elements = new Map();
    this.segments = new Segments();
    this.maxId = null;
    // The room's change number this page has reached over the socket.
    this.seq = null;
    this.pending = new Map();
    this.stick = true;
    this.highlightTimer = 0;
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

  get size() {
    return this.messages.size;
  }

  // The oldest id held, or null.
  get minId() {
    return this.messages.size ? Math.min(...this.messages.keys()) : null;
  }

  get(id) {
    return this.messages.get(id) || null;
  }

  element(id) {
    return this.elements.get(id) || null;
  }

  // The newest message of ``username`` that is not deleted (member lines
  // name who made the change, but are not their messages).
  lastBy(username) {
    let last = null;
    for (const message of this.messages.values()) {
      if (message.member) continue;
      if (message.username === username && !message.deleted && (!last || message.id > last.id)) {
        last = message;
      }
    }
    return last;
  }

  sawSeq(seq) {
    const value = Number(seq);
    if (Number.isSafeInteger(value) && (this.seq === null || value > this.seq)) this.seq = value;
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

  // Put ``element`` (a message with id ``id``, or a marker after it) after
  // the last shown message with a smaller id: found scanning from the end,
  // where new ones go.
  placeElement(id, element, { after = false } = {}) {
    let node = this.list.lastElementChild;
    while (node) {
      const nodeId = node.dataset.messageId;
      if (nodeId !== undefined && (Number(nodeId) < id || (after && Number(nodeId) === id))) {
        node.after(element);
        return;
      }
      node = node.previousElementSibling;
    }
    this.list.prepend(element);
  }

  draw(message) {
    const { message: shown, local } = this.echo.apply(message, this.renderOptions.strings);
    return renderMessage(shown, this.renderOptions, local);
  }

  // Show ``message`` as the server now describes it: in place of what is
  // held under its id, or added where the page holds its part of the room.
  // Return "added", "replaced" or null (older news, or not held).
  upsert(message) {
    const id = Number(message && message.id);
    if (!Number.isSafeInteger(id)) return null;
    const held = this.messages.get(id);
    if (held && Number(held.seq) > Number(message.seq)) return null;
    if (!held && !this.segments.covers(id)) return null;
    this.messages.set(id, message);
    this.echo.settle(message);
    if (held) {
      this.redraw(id);
      return "replaced";
    }
    const element = this.draw(message);
    this.elements.set(id, element);
    if (this.maxId === null || id > this.maxId) this.maxId = id;
    this.placeElement(id, element);
    return "added";
  }

  // Draw message ``id`` anew (it changed, or our changes on it did),
  // keeping focus, and what the reader looks at in place.
  redraw(id) {
    const old = this.elements.get(id);
    const message = this.messages.get(id);
    if (!old || !message) return;
    const fresh = this.draw(message);
    fresh.tabIndex = old.tabIndex;
    if (old.dataset.actionsOpen !== undefined) fresh.dataset.actionsOpen = "";
    if (old.classList.contains("is-highlighted")) fresh.classList.add("is-highlighted");
    const focused = old.contains(document.activeElement) ? document.activeElement : null;
    const above = !this.stick && old.getBoundingClientRect().bottom <= this.scroller.getBoundingClientRect().top;
    const height = old.offsetHeight;
    old.replaceWith(fresh);
    this.elements.set(id, fresh);
    if (focused) refocus(focused, old, fresh);
    if (this.stick) this.scrollToBottom();
    else if (above) this.scroller.scrollTop += fresh.offsetHeight - height;
    this.onChange();
  }

  // Draw anew every message of ``username`` (blocked or unblocked).
  redrawBy(username) {
    for (const [id, message] of this.messages) {
      if (!message.member && message.username === username) this.redraw(id);
    }
  }

  // Every message with an id from ``low`` to ``high`` is (about to be) held.
  hold(low, high) {
    this.segments.add(low, high);
    this.drawGaps();
  }

  drawGaps() {
    for (const marker of this.list.querySelectorAll("[data-gap]")) marker.remove();
    for (const high of this.segments.gaps()) {
      const marker = el("li", "message-gap");
      marker.dataset.gap = String(high);
      const load = button("button button-quiet", this.renderOptions.strings.loadGap || "…");
      load.addEventListener("click", () => this.onFillGap(high, load));
      marker.append(load);
      this.placeElement(high, marker, { after: true });
    }
  }

  // Merge messages (a history, a live message, a page).
  merge(messages, { older = false } = {}) {
    const wasNear = this.stick || this.isNearBottom();
    const { scrollHeight, scrollTop } = this.scroller;
    const maxBefore = this.maxId;
    let newest = false;
    for (const message of messages) {
      if (this.upsert(message) === "added" && (maxBefore === null || Number(message.id) > maxBefore)) {
        newest = true;
      }
    }
    this.updateEmpty();
    this.onChange();
    if (older) {
      // Keep what the reader was looking at in place.
      this.scroller.scrollTop = this.scroller.scrollHeight - scrollHeight + scrollTop;
    } else if (wasNear) {
      this.scrollToBottom();
    } else if (newest) {
      this.pill.hidden = false;
    }
  }

  // Scroll to message ``id`` and mark it for a few seconds.
  highlight(id) {
    const element = this.elements.get(id);
    if (!element) return false;
    for (const other of this.list.querySelectorAll(".is-highlighted")) other.classList.remove("is-highlighted");
    element.classList.add("is-highlighted");
    element.scrollIntoView({ block: "center" });
    this.stick = this.isNearBottom();
    element.focus({ preventScroll: true });
    const clear = () => {
      const current = this.elements.get(id);
      if (current) current.classList.remove("is-highlighted");
    };
    clearTimeout(this.highlightTimer);
    this.highlightTimer = setTimeout(clear, HIGHLIGHT_MS);
    return true;
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
    this.upsert(message);
    this.updateEmpty();
    this.onChange();
    if (wasNear) this.scrollToBottom();
    return true;
  }

  updateEmpty() {
    this.empty.hidden = this.messages.size > 0 || this.pending.size > 0;
  }
}

// Put focus back where it was in a message drawn anew: the same button if
// it is still there, else the message.
function refocus(focused, old, fresh) {
  let target = fresh;
  if (focused !== old) {
    const { action, reaction } = focused.dataset;
    const selector = action
      ? `[data-action="${action}"]`
      : reaction
        ? `[data-reaction="${CSS.escape(reaction)}"]`
        : focused.matches("[data-reply-quote]")
          ? "[data-reply-quote]"
          : null;
    target = (selector && fresh.querySelector(selector)) || fresh;
  }
  target.focus({ preventScroll: true });
}
