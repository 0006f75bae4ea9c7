// "New direct message" in the sidebar: the reader names one or more people
// by username (separated by commas or spaces) and goes to the conversation
// with them (POST /api/direct), opened for them or found again.
import { problem, request } from "./api.js";

// "@anna, boris  carl" -> ["anna", "boris", "carl"]
export function parseUsernames(text) {
  const names = text.split(/[\s,;]+/).map((name) => name.replace(/^@/, "")).filter(Boolean);
  return [...new Set(names)];
}

export function followDirectForm({ form, toggle, url, strings }) {
  if (!form || !toggle) return;
  const input = form.querySelector("[data-direct-input]");
  const error = form.querySelector("[data-direct-error]");
  const submit = form.querySelector("[type=submit]");
  const say = (text) => {
    error.textContent = text;
    error.hidden = !text;
  };
  const show = (open) => {
    form.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    say("");
    if (open) input.focus();
    else toggle.focus();
  };
  toggle.addEventListener("click", () => show(form.hidden));
  form.querySelector("[data-direct-cancel]").addEventListener("click", () => show(false));
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      show(false);
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const usernames = parseUsernames(input.value);
    if (!usernames.length) {
      say(strings.nameSomeone);
      input.focus();
      return;
    }
    submit.disabled = true;
    say("");
    try {
      const { data } = await request(url, { method: "POST", body: { usernames } });
      window.location.assign(data.room.url);
    } catch (error) {
      say(problem(error, strings));
      submit.disabled = false;
      input.focus();
    }
  });
}
