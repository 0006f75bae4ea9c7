// Turns <time datetime> elements rendered in UTC into the reader's local time.
import { formatFullDateTime, formatMessageTime, formatRelative, parseDate } from "./format.js";

export function localizeTimes(root = document) {
  for (const element of root.querySelectorAll("time[datetime]")) {
    const date = parseDate(element.getAttribute("datetime"));
    if (!date) continue;
    element.textContent =
      element.dataset.localtime === "relative" ? formatRelative(date) : formatMessageTime(date);
    element.title = formatFullDateTime(date);
  }
}

localizeTimes();
// Keep "5 minutes ago" true while the page stays open.
setInterval(localizeTimes, 60 * 1000);
