// The room list beside the messages folds away on narrow screens.

export function foldSidebar(sidebar, toggle) {
  if (!sidebar || !toggle) return;
  const setOpen = (open) => {
    if (open) sidebar.dataset.open = "";
    else delete sidebar.dataset.open;
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", (event) => {
    event.stopPropagation();
    setOpen(sidebar.dataset.open === undefined);
  });
  document.addEventListener("click", (event) => {
    if (sidebar.dataset.open !== undefined && !sidebar.contains(event.target)) setOpen(false);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && sidebar.dataset.open !== undefined) {
      setOpen(false);
      toggle.focus();
    }
  });
}
