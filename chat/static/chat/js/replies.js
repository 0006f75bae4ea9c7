// Replies: the one-line quote of the original above a reply, which shows
// the original when clicked, loading it and its neighbours if it is not on
// the page.
import { button, el, inertBidi } from "./dom.js";

const EXCERPT_LENGTH = 100;

// Where rendered blocks and lines end: a quote reads them as spaces.
const BREAKS = /<(?:br|\/p|\/li|\/pre|\/blockquote)\b[^>]*>/g;

// The words of ``message`` as the page shows them, without its Markdown.
function shownWords(message) {
  if (!message.html) return String(message.text || "");
  // An inert template: nothing in it runs or loads.
  const template = document.createElement("template");
  template.innerHTML = String(message.html).replace(BREAKS, " $&");
  return template.content.textContent;
}

// The quote of ``message`` in a reply, as the server makes it (a file
// alone is quoted by its name until the server says otherwise).
export function quoteOf(message) {
  let excerpt = shownWords(message).replace(/\s+/g, " ").trim();
  if (!excerpt && message.attachment) excerpt = String(message.attachment.name || "");
  return {
    id: message.id,
    author: String(message.author ?? ""),
    excerpt: excerpt.length > EXCERPT_LENGTH ? `${excerpt.slice(0, EXCERPT_LENGTH - 1)}…` : excerpt,
    deleted: Boolean(message.deleted),
  };
}

export function renderQuote(replyTo, strings) {
  const quote = button("reply-quote");
  quote.dataset.replyQuote = "";
  quote.dataset.replyTo = String(replyTo.id);
  const author = el("span", "reply-quote-author", String(replyTo.author ?? ""));
  const excerpt = replyTo.deleted
    ? el("span", "reply-quote-excerpt is-deleted", strings.messageDeleted || "")
    : el("span", "reply-quote-excerpt", inertBidi(String(replyTo.excerpt ?? "")));
  excerpt.dir = "auto";
  quote.append(author, excerpt);
  return quote;
}

// Clicking a quote shows its original.
export function followQuotes(list, show) {
  list.addEventListener("click", (event) => {
    const quote = event.target.closest("[data-reply-quote]");
    if (!quote || !list.contains(quote)) return;
    const id = Number(quote.dataset.replyTo);
    if (Number.isSafeInteger(id)) show(id);
  });
}

// Scroll to message ``id`` and make it stand out, after loading it with
// ``load(id)`` (its neighbourhood) if the page does not hold it.
export async function showOriginal(id, { store, load }) {
  if (!store.element(id)) await load(id);
  store.highlight(id);
}
