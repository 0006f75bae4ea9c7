// Search on every page: "/" (outside a text field) starts a search in the
// header's box; on the results page, a filter button adds its filter to the
// search being typed. The search itself is a plain form: results come as a
// page, with or without this module.
const box = document.querySelector("[data-search-input]");

const typing = (target) =>
  target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));

document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  const input = document.querySelector("[data-search-page-input]") || box;
  if (!input) return;
  event.preventDefault();
  input.focus();
  input.select();
});

const pageInput = document.querySelector("[data-search-page-input]");
for (const button of document.querySelectorAll("[data-search-filter]")) {
  button.addEventListener("click", () => {
    if (!pageInput) return;
    const filter = button.dataset.searchFilter;
    const text = pageInput.value.trimEnd();
    pageInput.value = text ? `${text} ${filter}` : filter;
    pageInput.focus();
    // A filter that needs a value leaves the caret after its colon.
    pageInput.setSelectionRange(pageInput.value.length, pageInput.value.length);
  });
}
