// What a reader can do to a message: Reply, React, Edit (their own), Delete
// (their own; staff: any); and, in the menu behind "More actions", Mark
// unread (others', for a member of the room) and Block or Unblock its author
// (others'). The buttons show on hover, on focus
// (messages take focus: Up and Down move between them, Tab reaches their
// buttons) and on a long press on touch screens.
import { button, el } from "./dom.js";
import { interpolate } from "./format.js";

const LONG_PRESS_MS = 450;
// A finger that moves this far scrolls; it does not press.
const LONG_PRESS_SLOP_PX = 10;

// Each action's icon: the strokes of a 24 by 24 drawing.
const ACTIONS = [
  { name: "reply", icon: ["M9 14 4 9l5-5", "M4 9h10.5a5.5 5.5 0 0 1 0 11H11"] },
  {
    name: "react",
    icon: ["M22 12a10 10 0 1 1-20 0 10 10 0 0 1 20 0z", "M8 14s1.5 2 4 2 4-2 4-2", "M9 9h.01", "M15 9h.01"],
  },
  { name: "edit", icon: ["M12 20h9", "M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z"] },
  {
    name: "delete",
    icon: ["M3 6h18", "M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6", "M10 11v6", "M14 11v6", "M9 6V4h6v2"],
  },
];

// Rarer actions, in the menu: "Block Anna" names the author.
const MENU = ["markUnread", "block", "unblock"];
const MORE_ICON = ["M5 12h.01", "M12 12h.01", "M19 12h.01"];

const SVG = "http://www.w3.org/2000/svg";

function icon(strokes) {
  const svg = document.createElementNS(SVG, "svg");
  const attributes = {
    class: "icon",
    viewBox: "0 0 24 24",
    width: "18",
    height: "18",
    fill: "none",
    stroke: "currentColor",
    "stroke-width": "2",
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
    "aria-hidden": "true",
    focusable: "false",
  };
  for (const [name, value] of Object.entries(attributes)) svg.setAttribute(name, value);
  for (const d of strokes) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

// What the reader may do to ``message``: {reply, react, edit, delete,
// markUnread, block, unblock}. ``keepsPlace()``: whether the reader keeps a
// read cursor in the room (a member).
export function allowed(message, { canWrite, me, canModerate, blocks, keepsPlace }) {
  if (!canWrite || message.deleted || message.member) return {};
  const own = Boolean(me) && message.username === me;
  // A deleted account (no username) can no longer be blocked.
  const other = !own && typeof message.username === "string" && message.username !== "";
  const blocked = Boolean(blocks && blocks.has(message.username));
  return {
    reply: true,
    react: true,
    edit: own,
    delete: own || Boolean(canModerate),
    markUnread: !own && Boolean(keepsPlace && keepsPlace()),
    block: other && Boolean(blocks) && !blocked,
    unblock: other && blocked,
  };
}

export function renderActions(message, options) {
  const may = allowed(message, options);
  const shown = ACTIONS.filter((action) => may[action.name]);
  const menu = MENU.filter((name) => may[name]);
  if (!shown.length && !menu.length) return null;
  const bar = el("div", "message-actions");
  bar.dataset.messageActions = "";
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", options.strings.messageActions || "");
  for (const action of shown) {
    const label = options.strings[action.name] || action.name;
    const control = button("message-action");
    control.dataset.action = action.name;
    control.title = label;
    control.setAttribute("aria-label", label);
    control.append(icon(action.icon));
    bar.append(control);
  }
  if (menu.length) bar.append(...renderMenu(message, menu, options.strings));
  return bar;
}

// The "More actions" button and the menu it opens, closed.
function renderMenu(message, names, strings) {
  const label = strings.moreActions || "…";
  const more = button("message-action");
  more.dataset.actionsMore = "";
  more.title = label;
  more.setAttribute("aria-label", label);
  more.setAttribute("aria-haspopup", "menu");
  more.setAttribute("aria-expanded", "false");
  more.append(icon(MORE_ICON));
  const menu = el("div", "message-menu");
  menu.dataset.messageMenu = "";
  menu.setAttribute("role", "menu");
  menu.hidden = true;
  for (const name of names) {
    const text = interpolate(strings[name] || name, { name: String(message.author ?? "") });
    const item = button("message-menu-item", text);
    item.dataset.menuAction = name;
    item.setAttribute("role", "menuitem");
    menu.append(item);
  }
  return [more, menu];
}

const messageOf = (node) => (node instanceof Element ? node.closest("[data-message-id]") : null);

export class MessageActions {
  // ``run[name](id, button)`` carries out an action on message ``id``.
  constructor({ list, run }) {
    this.list = list;
    this.run = run;
    this.press = null;
    // The message whose buttons a long press showed (its element may be
    // drawn anew meanwhile).
    this.openedId = null;

    list.addEventListener("click", (event) => {
      const more = event.target.closest("[data-actions-more]");
      if (more && list.contains(more)) {
        this.toggleMenu(more);
        return;
      }
      const control = event.target.closest("[data-action], [data-menu-action]");
      const item = messageOf(control);
      if (!control || !item || !list.contains(item)) return;
      this.closeMenu();
      const handler = this.run[control.dataset.action || control.dataset.menuAction];
      if (handler) handler(Number(item.dataset.messageId), control);
    });
    list.addEventListener("focusin", (event) => {
      const item = messageOf(event.target);
      if (item) this.makeTabStop(item);
    });
    list.addEventListener("keydown", (event) => this.handleKey(event));
    this.watchLongPress();
  }

  // One message at a time is reached with Tab: the last one focused.
  makeTabStop(item) {
    for (const other of this.list.querySelectorAll('[data-message-id][tabindex="0"]')) {
      if (other !== item) other.tabIndex = -1;
    }
    item.tabIndex = 0;
  }

  // After the list changed: keep one message reachable with Tab.
  ensureTabStop() {
    if (this.list.querySelector('[data-message-id][tabindex="0"]')) return;
    const items = this.list.querySelectorAll("[data-message-id]");
    if (items.length) items[items.length - 1].tabIndex = 0;
  }

  handleKey(event) {
    const item = messageOf(event.target);
    if (!item) return;
    if (event.key === "Escape" && item !== event.target) {
      // Leave the buttons for the message.
      event.preventDefault();
      this.close();
      item.focus();
      return;
    }
    if (item !== event.target) return;
    const items = [...this.list.querySelectorAll("[data-message-id]")];
    const at = items.indexOf(item);
    const to = { ArrowUp: at - 1, ArrowDown: at + 1, Home: 0, End: items.length - 1 }[event.key];
    if (to === undefined || !items[to]) return;
    event.preventDefault();
    items[to].focus();
    items[to].scrollIntoView({ block: "nearest" });
  }

  // A long press on a touch screen shows a message's buttons.
  watchLongPress() {
    const cancel = () => {
      if (this.press) clearTimeout(this.press.timer);
      this.press = null;
    };
    this.list.addEventListener("pointerdown", (event) => {
      cancel();
      const item = messageOf(event.target);
      if (event.pointerType !== "touch" || !item || event.target.closest("button, a")) return;
      const { clientX: x, clientY: y } = event;
      this.press = { x, y, timer: setTimeout(() => this.open(item), LONG_PRESS_MS) };
    });
    this.list.addEventListener("pointermove", (event) => {
      if (this.press && Math.hypot(event.clientX - this.press.x, event.clientY - this.press.y) > LONG_PRESS_SLOP_PX) {
        cancel();
      }
    });
    for (const type of ["pointerup", "pointercancel"]) this.list.addEventListener(type, cancel);
    // A long press would also open the browser's menu of the text.
    this.list.addEventListener("contextmenu", (event) => {
      const opened = this.opened();
      if (opened && opened.contains(event.target)) event.preventDefault();
    });
    document.addEventListener("pointerdown", (event) => {
      const opened = this.opened();
      if (opened && !opened.contains(event.target)) this.close();
      const menu = this.openMenu();
      if (menu && !menu.parentElement.contains(event.target)) this.closeMenu();
    });
  }

  openMenu() {
    return this.list.querySelector("[data-message-menu]:not([hidden])");
  }

  // Open or close the menu behind a "More actions" button.
  toggleMenu(more) {
    const menu = more.nextElementSibling;
    const wasOpen = menu && !menu.hidden;
    this.closeMenu();
    if (!menu || wasOpen) return;
    menu.hidden = false;
    menu.classList.remove("opens-up");
    // Near the bottom of the messages (the newest), it opens upwards.
    const view = this.list.closest("[data-chat-scroll]") || document.documentElement;
    if (menu.getBoundingClientRect().bottom > view.getBoundingClientRect().bottom) {
      menu.classList.add("opens-up");
    }
    more.setAttribute("aria-expanded", "true");
    menu.querySelector("[data-menu-action]").focus();
  }

  closeMenu() {
    const menu = this.openMenu();
    if (!menu) return;
    menu.hidden = true;
    const more = menu.previousElementSibling;
    if (more) more.setAttribute("aria-expanded", "false");
  }

  opened() {
    return this.openedId === null
      ? null
      : this.list.querySelector(`[data-message-id="${this.openedId}"]`);
  }

  open(item) {
    this.close();
    this.press = null;
    if (!item.querySelector("[data-message-actions]")) return;
    this.openedId = Number(item.dataset.messageId);
    item.dataset.actionsOpen = "";
  }

  close() {
    this.closeMenu();
    const opened = this.opened();
    if (opened) delete opened.dataset.actionsOpen;
    this.openedId = null;
  }
}
