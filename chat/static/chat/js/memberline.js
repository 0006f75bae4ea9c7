// Member lines: "Anna joined", "Boris added Anna"... A member line is a
// message of the room's change stream with a ``member`` object (whom it is
// about); its author is who made the change. It is shown as a small line of
// its own, which nobody replies to, reacts to, edits or deletes.
import { el } from "./dom.js";
import { formatFullDateTime, formatMessageTime, interpolate, parseDate } from "./format.js";

const TEXTS = { join: "memberJoin", leave: "memberLeave", add: "memberAdd", remove: "memberRemove" };

// A member line's words in the page's language.
export function memberLineText(message, strings) {
  const { member } = message;
  const name = member.username === null ? strings.deletedUser : String(member.name ?? "");
  const by = message.username === null ? strings.deletedUser : String(message.author ?? "");
  const template = strings[TEXTS[member.action]] || `%(name)s: ${member.action}`;
  return interpolate(template, { name, by });
}

export function renderMemberLine(message, strings) {
  const item = el("li", "member-line");
  item.dataset.messageId = String(message.id);
  item.dataset.memberLine = message.member.action;
  item.tabIndex = -1;
  const text = el("span", "member-line-text", memberLineText(message, strings));
  text.dir = "auto";
  item.append(text);
  const date = parseDate(message.created);
  if (date) {
    const time = el("time", "member-line-time", formatMessageTime(date, strings));
    time.dateTime = message.created;
    time.title = formatFullDateTime(date);
    item.append(time);
  }
  return item;
}
