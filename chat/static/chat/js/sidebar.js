// The room list beside the messages: its sections (rooms joined, direct
// messages, rooms to browse) follow what the reader joins and leaves, and it
// folds away on narrow screens.

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

const entryOf = (sidebar, slug) => sidebar.querySelector(`[data-sidebar-room="${CSS.escape(slug)}"]`);

// Show an empty section's note, and hide it once the section lists a room.
function updateEmpty(sidebar) {
  for (const section of sidebar.querySelectorAll("[data-sidebar-section]")) {
    const note = section.querySelector("[data-sidebar-empty]");
    const rooms = section.querySelector("[data-sidebar-rooms]");
    if (note && rooms) note.hidden = rooms.children.length > 0;
  }
}

// Move the link to room ``slug`` to the top of section ``name`` ("joined",
// "direct" or "browse").
export function placeRoom(sidebar, slug, name) {
  const entry = sidebar && entryOf(sidebar, slug);
  const rooms = sidebar && sidebar.querySelector(`[data-sidebar-section="${name}"] [data-sidebar-rooms]`);
  if (!entry || !rooms) return;
  rooms.prepend(entry);
  updateEmpty(sidebar);
}

// Take the link to room ``slug`` out of the sidebar.
export function dropRoom(sidebar, slug) {
  const entry = sidebar && entryOf(sidebar, slug);
  if (!entry) return;
  entry.remove();
  updateEmpty(sidebar);
}

// Render the sidebar's room lists anew from the server (the page itself, so
// the server's template stays the one way a room is drawn); return whether
// it could.
export async function refreshRooms(sidebar) {
  if (!sidebar) return false;
  let page;
  try {
    const response = await fetch(window.location.href, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    if (!response.ok) return false;
    page = new DOMParser().parseFromString(await response.text(), "text/html");
  } catch (error) {
    console.warn("chat: could not read the room list", error);
    return false;
  }
  for (const section of sidebar.querySelectorAll("[data-sidebar-section]")) {
    const name = section.dataset.sidebarSection;
    const rooms = section.querySelector("[data-sidebar-rooms]");
    const fresh = page.querySelector(`[data-sidebar-section="${CSS.escape(name)}"] [data-sidebar-rooms]`);
    if (rooms && fresh) rooms.replaceChildren(...Array.from(fresh.children, (child) => document.importNode(child, true)));
  }
  updateEmpty(sidebar);
  return true;
}
