// Entry point of a room page: wires the socket, the message list, the
// composer and uploads together.
import { Composer } from "./composer.js";
import { createDispatcher } from "./dispatch.js";
import { interpolate } from "./format.js";
import { newClientId } from "./ids.js";
import { MentionCompleter } from "./mentions.js";
import { renderPending, setPendingStatus } from "./render.js";
import { ChatSocket } from "./socket.js";
import { MessageStore } from "./store.js";
import { Uploader } from "./upload.js";

function readJson(id) {
  const element = document.getElementById(id);
  if (!element) return {};
  try {
    return JSON.parse(element.textContent);
  } catch (error) {
    console.error(`chat: #${id} is not valid JSON`, error);
    return {};
  }
}

const config = readJson("chat-config");
const strings = readJson("chat-strings");
const $ = (selector) => document.querySelector(selector);

// Connection status.
const statusElement = $("[data-chat-status]");
function showStatus(state) {
  statusElement.dataset.state = state;
  statusElement.textContent = strings[state] || state;
}

// The message list.
const scroller = $("[data-chat-scroll]");
const store = new MessageStore({
  list: $("[data-chat-messages]"),
  scroller,
  pill: $("[data-new-messages]"),
  empty: $("[data-chat-empty]"),
  renderOptions: {
    canWrite: Boolean(config.canWrite),
    strings,
    // Mentions of the reader stand out.
    me: $("[data-composer]")?.dataset.username || "",
  },
});

// Older pages.
const olderButton = $("[data-load-older]");
const historyStart = $("[data-history-start]");
let hasMore = false;
let loadingOlder = false;

function setHasMore(value) {
  hasMore = value;
  olderButton.hidden = !value;
  historyStart.hidden = value || store.byId.size === 0;
}

async function loadOlder() {
  if (loadingOlder || !hasMore || store.minId === null) return;
  loadingOlder = true;
  olderButton.disabled = true;
  olderButton.textContent = strings.loading;
  const url = `${config.messagesUrl}?before=${store.minId}&limit=${config.pageSize}`;
  try {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = await response.json();
    const messages = Array.isArray(data.messages) ? data.messages : [];
    store.merge(messages, { older: true });
    setHasMore(messages.length >= config.pageSize);
    olderButton.textContent = strings.loadOlder;
  } catch (error) {
    console.warn("chat: could not load older messages", error);
    olderButton.textContent = strings.loadFailed;
  } finally {
    loadingOlder = false;
    olderButton.disabled = false;
  }
}

olderButton.addEventListener("click", loadOlder);
scroller.addEventListener("scroll", () => {
  if (scroller.scrollTop < 40) loadOlder();
}, { passive: true });

// The newest id received over the socket: a socket delivers a room's
// messages in order, so everything up to it has been seen. Messages that
// came another way (an upload's answer, an older page) do not count.
let socketSeenId = null;
let historyCount = 0;

function sawOnSocket(message) {
  const id = Number(message && message.id);
  if (Number.isSafeInteger(id) && (socketSeenId === null || id > socketSeenId)) socketSeenId = id;
}

const composerForm = $("[data-composer]");
let composer = null;
const texts = new Map();

function reportError(detail) {
  if (composer) composer.showError(detail, { timeout: 10000 });
  else console.warn("chat:", detail);
}

const dispatch = createDispatcher({
  history(frame) {
    const messages = Array.isArray(frame.messages) ? frame.messages : [];
    messages.forEach(sawOnSocket);
    store.merge(messages);
    historyCount += 1;
    if (historyCount === 1) {
      // The first history is the latest page; a short one is all there is.
      setHasMore(messages.length >= config.pageSize);
      store.scrollToBottom();
    } else {
      setHasMore(hasMore);
    }
  },
  message(frame) {
    if (!frame.message) return;
    sawOnSocket(frame.message);
    if (frame.client_id && store.getPending(frame.client_id)) {
      texts.delete(frame.client_id);
      store.confirm(frame.client_id, frame.message);
    } else {
      store.merge([frame.message]);
    }
  },
  error(frame) {
    reportError(frame.detail || frame.code);
  },
});

function sendingStatus(clientId) {
  const element = store.getPending(clientId);
  if (element) setPendingStatus(element, { state: "pending", text: strings.sending });
}

function failed(clientId, detail, retry) {
  const element = store.getPending(clientId);
  reportError(detail);
  if (!element) return;
  setPendingStatus(element, {
    state: "failed",
    text: `${strings.failed}: ${detail}`,
    actions: [
      { label: strings.retry, run: retry },
      {
        label: strings.discard,
        run: () => {
          socket.drop(clientId);
          texts.delete(clientId);
          store.removePending(clientId);
        },
      },
    ],
  });
}

const socket = new ChatSocket({
  path: config.socketPath,
  getAfter: () => socketSeenId,
  onFrame: dispatch,
  onStatus: showStatus,
  onBlame(clientId, frame) {
    if (frame.code === "rate_limited") {
      const seconds = Math.max(1, Math.ceil(Number(frame.retry_after) || 1));
      const element = store.getPending(clientId);
      if (element) {
        setPendingStatus(element, {
          state: "pending",
          text: interpolate(strings.rateLimited, { seconds }),
        });
        setTimeout(() => sendingStatus(clientId), seconds * 1000);
      }
      return;
    }
    failed(clientId, frame.detail || frame.code, () => {
      sendingStatus(clientId);
      socket.send(clientId, texts.get(clientId) || "");
    });
  },
  onFatal() {
    reportError(strings.roomGone);
    statusElement.textContent = strings.roomGone;
  },
});

if (config.canWrite && composerForm) {
  const author = composerForm.dataset.author || "";
  const username = composerForm.dataset.username || "";
  const messageList = $("[data-chat-messages]");
  const mentions = new MentionCompleter({
    textarea: composerForm.querySelector("[data-composer-input]"),
    list: composerForm.querySelector("[data-mention-list]"),
    me: username,
    // The people of the room: who wrote, and who was mentioned, in what
    // the page holds.
    people: () => [
      ...Array.from(messageList.querySelectorAll("[data-message-username]"), (tag) =>
        tag.textContent.slice(1),
      ),
      ...Array.from(messageList.querySelectorAll("[data-mention]"), (m) => m.dataset.mention),
    ],
  });
  composer = new Composer({
    form: composerForm,
    strings,
    maxLength: config.maxLength,
    onKey: (event) => mentions.handleKey(event),
    onSend(text) {
      const clientId = newClientId();
      texts.set(clientId, text);
      store.addPending(clientId, renderPending({ clientId, author, username, text, strings }));
      sendingStatus(clientId);
      socket.send(clientId, text);
    },
  });

  const csrfInput = composerForm.querySelector("input[name=csrfmiddlewaretoken]");
  const uploader = new Uploader({
    config,
    strings,
    csrfToken: csrfInput ? csrfInput.value : "",
    statusElement: composerForm.querySelector("[data-upload-status]"),
    onStart(file, text) {
      const clientId = newClientId();
      const element = renderPending({ clientId, author, username, text, file, strings });
      store.addPending(clientId, element);
      setPendingStatus(element, { state: "pending", text: interpolate(strings.uploading, { name: file.name }) });
      return clientId;
    },
    onDone(clientId, message) {
      store.confirm(clientId, message);
    },
    onFail(clientId, detail, retry) {
      failed(clientId, detail, () => {
        const element = store.getPending(clientId);
        if (element) setPendingStatus(element, { state: "pending", text: strings.sending });
        retry();
      });
    },
    onRefuse: reportError,
  });
  uploader.attach({
    button: composerForm.querySelector("[data-attach]"),
    input: composerForm.querySelector("[data-file-input]"),
    dropTarget: scroller,
    textarea: composer.textarea,
    takeText: () => composer.take(),
  });
}

// The room list beside the messages folds away on narrow screens.
const sidebar = $("[data-room-sidebar]");
const sidebarToggle = $("[data-sidebar-toggle]");
if (sidebar && sidebarToggle) {
  const setOpen = (open) => {
    if (open) sidebar.dataset.open = "";
    else delete sidebar.dataset.open;
    sidebarToggle.setAttribute("aria-expanded", String(open));
  };
  sidebarToggle.addEventListener("click", (event) => {
    event.stopPropagation();
    setOpen(sidebar.dataset.open === undefined);
  });
  document.addEventListener("click", (event) => {
    if (sidebar.dataset.open !== undefined && !sidebar.contains(event.target)) setOpen(false);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && sidebar.dataset.open !== undefined) {
      setOpen(false);
      sidebarToggle.focus();
    }
  });
}

socket.start();
