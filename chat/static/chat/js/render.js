// Builds the DOM of a message. User-supplied text only ever goes through
// text nodes and attributes set on elements made here, with one exception:
// a stored message's `html`, which the server rendered from its Markdown
// and sanitized to a few inert tags (chat/formatting.py); renderFormatted
// is the one place it enters the page.
import { renderActions } from "./actions.js";
import { renderBlocked, renderRevealedNote } from "./blocks.js";
import { button, el, inertBidi } from "./dom.js";
import { formatFullDateTime, formatMessageTime, formatSize, parseDate } from "./format.js";
import { renderMemberLine } from "./memberline.js";
import { ROOM_MENTION } from "./mentions.js";
import { renderReactions } from "./reactions.js";
import { renderQuote } from "./replies.js";

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?'"»”’…]+$/;

// Cut punctuation that ends a sentence rather than the URL, keeping a ")"
// that closes a "(" inside the URL (as in Wikipedia links).
function trimUrl(candidate) {
  let url = candidate;
  for (;;) {
    const before = url;
    url = url.replace(TRAILING_PUNCTUATION, "");
    if (url.endsWith(")")) {
      const open = (url.match(/\(/g) || []).length;
      const close = (url.match(/\)/g) || []).length;
      if (close > open) url = url.slice(0, -1);
    }
    if (url === before) return url;
  }
}

function safeHttpUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

// Only URLs of this site (the attachment links the server gives) are used.
export function sameOriginUrl(path) {
  if (typeof path !== "string" || path === "") return null;
  try {
    const url = new URL(path, window.location.href);
    return url.origin === window.location.origin ? url.href : null;
  } catch {
    return null;
  }
}

// Append ``text`` to ``parent`` as text nodes, with http(s) URLs as links.
export function appendLinkified(parent, text) {
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = trimUrl(match[0]);
    const href = safeHttpUrl(raw);
    if (!href) continue;
    if (match.index > last) {
      parent.append(document.createTextNode(text.slice(last, match.index)));
    }
    const link = el("a", "message-link", raw);
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
    parent.append(link);
    last = match.index + raw.length;
  }
  if (last < text.length) {
    parent.append(document.createTextNode(text.slice(last)));
  }
}

function renderTime(iso, strings) {
  const time = el("time", "message-time");
  time.dataset.messageTime = "";
  const date = parseDate(iso);
  if (date) {
    time.dateTime = iso;
    time.textContent = formatMessageTime(date, strings);
    time.title = formatFullDateTime(date);
  }
  return time;
}

function renderChip(attachment, href) {
  const chip = el(href ? "a" : "span", "attachment-chip");
  chip.dataset.attachmentChip = "";
  if (href) {
    chip.href = href;
    chip.download = attachment.name || "";
  }
  chip.append(el("span", "chip-icon"));
  const name = el("span", "chip-name", attachment.name || "");
  name.dataset.attachmentName = "";
  chip.append(name);
  const size = el("span", "chip-size", formatSize(attachment.size));
  size.dataset.attachmentSize = "";
  chip.append(size);
  return chip;
}

function renderAttachment(attachment, options) {
  const box = el("div", "message-attachment");
  box.dataset.messageAttachment = "";
  const { canWrite, strings } = options;
  if (!canWrite) {
    // Guests may not fetch the file or its thumbnail: name and size only.
    box.append(renderChip(attachment, null));
    const hint = el("a", "attachment-hint", strings.loginToSee || "");
    hint.href = strings.loginUrl || "/accounts/login/";
    box.append(hint);
    return box;
  }
  const url = sameOriginUrl(attachment.url);
  const thumbnail = sameOriginUrl(attachment.thumbnail_url);
  if (url && thumbnail) {
    const figure = el("figure", "attachment-figure");
    const link = el("a", "attachment-image-link");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    const image = el("img", "attachment-image");
    image.dataset.attachmentImage = "";
    image.alt = attachment.name || "";
    image.loading = "lazy";
    image.decoding = "async";
    image.src = thumbnail;
    link.append(image);
    // The name and size, as a link that downloads the original.
    const caption = el("figcaption", "attachment-caption");
    const download = el("a", "attachment-download");
    download.href = url;
    download.download = attachment.name || "";
    const name = el("span", "chip-name", attachment.name || "");
    name.dataset.attachmentName = "";
    const size = el("span", "chip-size", formatSize(attachment.size));
    size.dataset.attachmentSize = "";
    download.append(name, size);
    caption.append(download);
    figure.append(link, caption);
    box.append(figure);
    return box;
  }
  box.append(renderChip(attachment, url));
  return box;
}

function renderShell(author, username, created, strings) {
  const item = el("li", "message");
  const meta = el("div", "message-meta");
  const name = el("span", "message-author", author);
  name.dataset.messageAuthor = "";
  meta.append(name);
  // Display names can look alike (Cyrillic М, Latin M); the username is
  // what tells a reader who wrote.
  if (username) {
    const handle = `@${username}`;
    name.title = handle;
    const tag = el("span", "message-username", handle);
    tag.dataset.messageUsername = "";
    meta.append(tag);
  }
  meta.append(renderTime(created, strings));
  item.append(meta);
  return item;
}

function renderText(text) {
  const body = el("div", "message-text");
  body.dataset.messageText = "";
  body.dir = "auto";
  appendLinkified(body, inertBidi(text));
  return body;
}

function renderFormatted(html, me) {
  const body = el("div", "message-text is-formatted");
  body.dataset.messageText = "";
  body.dir = "auto";
  // A template's content is inert: nothing in it loads or runs while it
  // is parsed.
  const template = document.createElement("template");
  template.innerHTML = html;
  for (const link of template.content.querySelectorAll("a[href]")) {
    link.classList.add("message-link");
    link.target = "_blank";
  }
  // "@room" mentions every reader who may write.
  for (const mention of template.content.querySelectorAll("[data-mention]")) {
    if (me && (mention.dataset.mention === me || mention.dataset.mention === ROOM_MENTION)) mention.classList.add("is-me");
  }
  body.append(template.content);
  return body;
}

// A message whose author deleted their account has no username; its name
// is shown in the page's language.
export function shownAuthor(message, strings) {
  if (message.username === null && strings.deletedUser) return strings.deletedUser;
  return String(message.author ?? "");
}

// "edited", with when as its title.
function renderEdited(iso, strings) {
  const marker = el("span", "message-edited", strings.edited || "edited");
  marker.dataset.messageEdited = "";
  const date = parseDate(iso);
  if (date) marker.title = formatFullDateTime(date);
  return marker;
}

function renderBody(message, options) {
  if (typeof message.html === "string" && message.html) {
    return renderFormatted(message.html, options.me);
  }
  // A server of an older contract sends no html, and our own edit waiting
  // for the server has none yet: the text, linkified.
  return message.text ? renderText(String(message.text)) : null;
}

// A message as the server last described it. ``local`` tells what of ours
// is still on its way: {state: "edit" | "delete" | null, status, emoji}
// (the reactions waiting for an answer). A member line is a line of its
// own; a message of someone the reader blocked (``options.blocks``) shows
// collapsed unless opened.
export function renderMessage(message, options, local = {}) {
  const { strings, blocks } = options;
  if (message.member) return renderMemberLine(message, strings);
  if (blocks && blocks.hides(message)) return renderBlocked(message, strings);
  const username = typeof message.username === "string" ? message.username : "";
  const item = renderShell(shownAuthor(message, strings), username, message.created, strings);
  item.dataset.messageId = String(message.id);
  if (message.bot === true) {
    // A program's message: said beside its name, which anyone may imitate.
    const tag = el("span", "bot-tag", strings.bot || "bot");
    tag.dataset.botTag = "";
    item.querySelector(".message-username, .message-author").after(tag);
  }
  item.tabIndex = -1;
  if (blocks && !message.deleted && blocks.has(username)) {
    item.classList.add("is-revealed");
    item.prepend(renderRevealedNote(strings));
  }
  if (message.deleted) {
    // A tombstone keeps the place of a message that replies may point to.
    item.classList.add("is-deleted");
    item.dataset.deleted = "";
    const body = el("div", "message-text message-tombstone", strings.messageDeleted || "");
    body.dataset.messageText = "";
    item.append(body);
    return item;
  }
  if (message.edited) item.querySelector(".message-meta").append(renderEdited(message.edited, strings));
  if (message.reply_to) item.append(renderQuote(message.reply_to, strings));
  const body = renderBody(message, options);
  if (body) item.append(body);
  const mentioned = Array.isArray(message.mentions) ? message.mentions : [];
  const forEveryone = message.notifies_room === true && message.username !== options.me;
  if (options.me && (mentioned.includes(options.me) || forEveryone)) item.classList.add("mentions-me");
  if (message.attachment) item.append(renderAttachment(message.attachment, options));
  const reactions = renderReactions(message.reactions, { ...options, waiting: local.emoji });
  if (reactions) item.append(reactions);
  if (local.state) {
    item.classList.add("is-pending");
    item.dataset.changePending = local.state;
    item.append(renderStatus(local.status));
  } else {
    const actions = renderActions(message, options);
    if (actions) item.append(actions);
  }
  return item;
}

function renderStatus(text) {
  const status = el("div", "message-status");
  status.dataset.messageStatus = "";
  if (text) status.append(el("span", "message-status-text", text));
  return status;
}

// A message of ours the server has not confirmed yet.
export function renderPending({ clientId, author, username, text, file, replyTo, strings }) {
  const item = renderShell(author, username, new Date().toISOString(), strings);
  item.classList.add("is-pending");
  item.dataset.clientId = clientId;
  item.dataset.pending = "";
  if (replyTo) item.append(renderQuote(replyTo, strings));
  if (text) item.append(renderText(text));
  if (file) {
    const box = el("div", "message-attachment");
    box.append(renderChip({ name: file.name, size: file.size }, null));
    item.append(box);
  }
  item.append(renderStatus(""));
  return item;
}

// Show on a pending message what is happening to it, with optional actions.
export function setPendingStatus(item, { state, text, actions = [] }) {
  const status = item.querySelector("[data-message-status]");
  if (!status) return;
  item.classList.toggle("is-failed", state === "failed");
  if (state === "failed") item.dataset.failed = "";
  else delete item.dataset.failed;
  status.replaceChildren();
  if (text) status.append(el("span", "message-status-text", text));
  for (const action of actions) {
    const link = button("link-button", action.label);
    link.addEventListener("click", action.run);
    status.append(link);
  }
}
