// Entry point of a room page: wires the socket, the message list, the
// composer, the message actions, uploads, the room's members, the reader's
// place in their rooms (unread counts, reading), who is online and typing,
// and notifications together.
import { MessageActions } from "./actions.js";
import { ActivityWatch } from "./activity.js";
import { problem } from "./api.js";
import { Blocks } from "./blocks.js";
import { Composer } from "./composer.js";
import { followDirectForm } from "./direct.js";
import { createDispatcher } from "./dispatch.js";
import { LocalEcho } from "./echo.js";
import { interpolate } from "./format.js";
import { History } from "./history.js";
import { newClientId } from "./ids.js";
import { MembersPanel } from "./members.js";
import { Membership } from "./membership.js";
import { MentionCompleter, mentionsEveryone } from "./mentions.js";
import { MuteToggle } from "./mute.js";
import { Notifier } from "./notify.js";
import { Presence } from "./presence.js";
import { ReactionPicker, followChips, reactedBy } from "./reactions.js";
import { Reading, isReadFrameId } from "./reading.js";
import { renderPending, setPendingStatus, shownAuthor } from "./render.js";
import { followQuotes, quoteOf, showOriginal } from "./replies.js";
import { foldSidebar, refreshRooms } from "./sidebar.js";
import { ChatSocket, Status } from "./socket.js";
import { MessageStore } from "./store.js";
import { Typing } from "./typing.js";
import { Places } from "./unread.js";
import { Uploader } from "./upload.js";
import { Writing } from "./writing.js";

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
const room = config.room;

// Who reads: a writer (logged in) or a guest; staff may delete any message.
const composerForm = $("[data-composer]");
const canWrite = Boolean(config.canWrite && composerForm);
const me = composerForm ? composerForm.dataset.username || "" : "";
const author = composerForm ? composerForm.dataset.author || "" : "";
const canModerate = Boolean(composerForm && composerForm.dataset.staff === "true");
// Whom the reader blocked: their messages show collapsed.
const blocks = canWrite ? new Blocks({ url: config.blocksUrl, usernames: config.blocked || [] }) : null;

// Connection status.
const statusElement = $("[data-chat-status]");
function showStatus(state) {
  statusElement.dataset.state = state;
  statusElement.textContent = strings[state] || state;
}

// The message list, and its pages over HTTP.
const list = $("[data-chat-messages]");
const scroller = $("[data-chat-scroll]");
const echo = new LocalEcho(me);
const actions = new MessageActions({ list, run: {} });
const store = new MessageStore({
  list,
  scroller,
  pill: $("[data-new-messages]"),
  empty: $("[data-chat-empty]"),
  echo,
  renderOptions: { canWrite, strings, me, canModerate, blocks, keepsPlace: () => places.get(room) !== null },
  onChange: () => {
    actions.ensureTabStop();
    reading.changed();
  },
  onFillGap: (high, button) => pages.fillGap(high, button),
});
const pages = new History({
  url: config.messagesUrl,
  pageSize: config.pageSize,
  store,
  strings,
  olderButton: $("[data-load-older]"),
  historyStart: $("[data-history-start]"),
});
pages.olderButton.addEventListener("click", () => pages.loadOlder());
scroller.addEventListener("scroll", () => {
  if (scroller.scrollTop < 40) pages.loadOlder();
}, { passive: true });

let composer = null;
let uploader = null;
let picker = null;

function reportError(detail) {
  if (composer) composer.showError(detail, { timeout: 10000 });
  else console.warn("chat:", detail);
}

// Show message ``id`` among its neighbours, highlighted (a quote's original,
// or a search result: ?around=<id>).
function jumpTo(id) {
  showOriginal(id, { store, load: (target) => pages.loadAround(target) }).catch((error) => {
    console.warn("chat: could not show the message", error);
    reportError(strings.originalMissing);
  });
}

followQuotes(list, jumpTo);
const around = Number(new URLSearchParams(window.location.search).get("around"));

// Frames about another room (a socket may follow several) are not ours.
const about = (frame) => !frame.room || frame.room === room;
// A text for everyone ("@room") asks first in a room of more people; in a
// room of more members than the config's roomNoticeMax, the server takes
// it from staff only.
const CONFIRM_EVERYONE_ABOVE = 5;
const EVERYONE_AT_MOST = config.roomNoticeMax;
const memberCount = () => Number($("[data-member-count]").textContent) || 0;
// The reader's other rooms are followed (for their counts) a moment after
// the room on screen opened: it comes first, and a page left at once (a
// reader clicking through rooms) never asks for them. Nothing is missed
// meanwhile: they are followed from the change the page was rendered at.
const FOLLOW_OTHERS_AFTER_MS = 1000;

// The room's people, and the reader's own membership.
const sidebar = $("[data-room-sidebar]");
const members = new MembersPanel({
  url: config.membersUrl,
  me,
  canAdd: Boolean(config.canAdd),
  canManage: Boolean(config.canManage),
  strings,
  panel: $("[data-members-panel]"),
  toggle: $("[data-members-toggle]"),
  count: $("[data-member-count]"),
});
const membership = new Membership({
  config,
  me,
  strings,
  joinButton: $("[data-room-join]"),
  leaveButton: $("[data-room-leave]"),
  sidebar,
  report: (detail) => reportError(detail),
  onChange(joined, joinedRoom) {
    members.changed();
    // A new member's cursor starts at the newest message.
    if (joined) places.joined(room, joinedRoom ? joinedRoom.last_read_id : store.maxId ?? 0);
    else places.left(room);
    mute.show();
    // "Mark unread" is for members.
    for (const id of [...store.messages.keys()]) store.redraw(id);
    reading.schedule();
  },
});
const hasMemberLine = (messages) => messages.some((message) => message && message.member);

// The reader can no longer read the room (they left it, or were taken out
// of it): the server sends nothing more of it.
let ended = false;
function endMembership() {
  if (ended) return;
  ended = true;
  socket.unfollow(room);
  writing.abandon(strings.noLongerMember);
  if (uploader) uploader.stop();
  if (composer) composer.cancel();
  if (composerForm) {
    for (const control of composerForm.elements) control.disabled = true;
    composerForm.classList.add("is-disabled");
  }
  picker?.close({ refocus: false });
  const notice = $("[data-room-notice]");
  notice.textContent = strings.noLongerMember;
  notice.hidden = false;
  statusElement.hidden = true;
  members.end();
  presence.end();
  typing.stopAll();
  membership.end();
  places.gone(room);
  mute.show();
}

// The reader's place in their rooms: the sidebar's counts, the tab's title.
const places = new Places({
  sidebar,
  room,
  me,
  config,
  strings,
  readAllButton: $("[data-read-all]"),
  report: (detail) => reportError(detail),
  onCursor(slug, cursor, previous, marked) {
    if (slug === room) reading.cursorMoved(cursor, previous, marked);
  },
  readingNow: () => reading.takesIn(),
});
const mute = new MuteToggle({
  button: $("[data-room-mute]"),
  room,
  url: config.muteUrl,
  places,
  strings,
  report: (detail) => reportError(detail),
});

// Who is in the room and who is typing in it; the reader's own activity,
// and notifications of what concerns them.
const typing = new Typing({
  room,
  me,
  strings,
  line: $("[data-typing]"),
  textarea: composerForm && composerForm.querySelector("[data-composer-input]"),
  send: (frame) => socket.sendNow(frame),
  editing: () => Boolean(composer && composer.context && composer.context.kind === "edit"),
});
const presence = new Presence({
  room,
  me,
  myName: composerForm ? composerForm.dataset.author || me : "",
  strings,
  badge: $("[data-room-online]"),
  section: $("[data-online]"),
  onGone: (username) => typing.stopped(username),
});
// Guests have no presence of their own to tell.
const activity = me
  ? new ActivityWatch({ send: (state) => socket.sendNow({ type: "activity", state }) })
  : null;
const notifier = new Notifier({
  room,
  roomKind: config.roomKind,
  me,
  strings,
  places,
  store,
  scroller,
  sidebar,
  blocks,
  control: $("[data-notify]"),
});

// Frames of the room on screen feed what it shows; then those of every room
// the reader joined (this one too) feed their counts.
const dispatch = createDispatcher({
  history(frame) {
    if (about(frame)) {
      const messages = Array.isArray(frame.messages) ? frame.messages : [];
      // The first is the latest page; later ones bring what changed since.
      if (store.seq === null) {
        pages.started(messages);
        reading.opened().then(() => {
          if (Number.isSafeInteger(around) && around > 0) jumpTo(around);
        });
        setTimeout(() => places.follow(socket, config.maxRooms || 200), FOLLOW_OTHERS_AFTER_MS);
      } else {
        store.merge(messages);
        if (hasMemberLine(messages)) members.changed();
        // Back after a break: the reader may have read elsewhere meanwhile.
        places.refetch();
      }
      store.sawSeq(frame.seq);
    }
    places.saw(frame);
  },
  message(frame) {
    if (!frame.message) return;
    if (about(frame)) {
      if (!writing.stored(frame)) store.merge([frame.message]);
      store.sawSeq(frame.seq);
      // Writing here is reading here, after a "Mark unread" too.
      if (me && frame.message.username === me) reading.resume();
      typing.stopped(frame.message.username);
    }
    places.saw(frame);
    notifier.saw(frame);
  },
  member(frame) {
    if (!frame.message) return;
    if (about(frame)) {
      store.merge([frame.message]);
      store.sawSeq(frame.seq);
      membership.saw(frame);
      members.changed();
    }
    places.saw(frame);
  },
  removed(frame) {
    if (about(frame)) endMembership();
    else places.gone(frame.room);
  },
  update(frame) {
    if (!frame.message) return;
    if (about(frame)) {
      writing.answered(frame);
      store.sawSeq(frame.seq);
      if (hasMemberLine([frame.message])) members.changed();
      // What is being written about that message may not be any more.
      if (frame.message.deleted && composer) composer.forget(frame.message.id);
    }
    places.saw(frame);
  },
  // Where the reader stands in a room, from whichever tab read it.
  read(frame) {
    places.moved(frame);
  },
  unread(frame) {
    places.counted(frame);
  },
  unsubscribed() {
    // Nothing more comes from that room.
  },
  // Who is in the room on screen (other rooms' presence is not shown).
  presence(frame) {
    if (about(frame)) presence.snapshot(frame);
  },
  presence_diff(frame) {
    if (about(frame)) presence.diff(frame);
  },
  typing(frame) {
    if (about(frame)) typing.saw(frame);
  },
  // The reader's room list changed, here or in another tab.
  rooms_changed() {
    refreshRooms(sidebar).then((done) => {
      if (done) for (const slug of places.adopt()) notifier.arrived(slug);
    });
  },
  error(frame) {
    if (writing.isOurs(frame.client_id)) writing.refused(frame.client_id, frame);
    // A read the server did not take, or trouble with a room followed only
    // for its counts: nothing the reader can do about it.
    else if (isReadFrameId(frame.client_id) || !about(frame)) console.warn("chat:", frame.room, frame.detail || frame.code);
    else reportError(frame.detail || frame.code);
  },
});

const socket = new ChatSocket({
  onFrame: dispatch,
  onOpen: () => activity?.connected(),
  onStatus(status) {
    showStatus(status);
    if (status === Status.LIVE) reading.connected();
    else presence.lost();
  },
  onBlame: (clientId, frame) => writing.refused(clientId, frame),
  onFatal(reason, slug) {
    // A room followed for its counts is gone (or the reader's access to it).
    if (slug && slug !== room) {
      places.gone(slug);
      return;
    }
    // A room one reads as a member is closed to whoever is not one (any
    // more); a public one, if not found, is gone.
    if (config.roomKind !== "public") {
      endMembership();
      return;
    }
    reportError(strings.roomGone);
    statusElement.textContent = strings.roomGone;
  },
});
socket.follow(room, () => store.seq, { presence: true });
const reading = new Reading({
  room,
  me,
  store,
  history: pages,
  list,
  scroller,
  socket,
  places,
  strings,
  readUrl: config.readUrl,
  lastReadId: config.lastReadId,
});
const writing = new Writing({ room, socket, store, echo, strings, author, me, report: reportError });

// Message ``id`` as the page shows it, our changes on it.
const shown = (id) => writing.shown(id);

function toggleReaction(id, emoji) {
  const message = shown(id);
  if (canWrite && message && !message.deleted) {
    writing.change("react", id, { emoji, on: !reactedBy(message, emoji, me) });
  }
}

function startEdit(id) {
  const message = shown(id);
  if (!composer || !message || message.deleted || message.username !== me) return;
  composer.begin({
    kind: "edit",
    id,
    label: strings.editing,
    text: String(message.text || ""),
    allowEmpty: Boolean(message.attachment),
  });
}

function startReply(id) {
  const message = shown(id);
  if (!composer || !message || message.deleted) return;
  composer.begin({
    kind: "reply",
    id,
    label: interpolate(strings.replyingTo, { author: shownAuthor(message, strings) }),
    detail: quoteOf(message).excerpt,
  });
}

if (canWrite) {
  picker = new ReactionPicker({
    element: $("[data-reaction-picker]"),
    strings,
    onPick: toggleReaction,
  });
  followChips(list, toggleReaction);
  Object.assign(actions.run, {
    reply: startReply,
    react: (id, button) => picker.open(id, button),
    edit: startEdit,
    markUnread: (id) => reading.markUnread(id),
    delete(id) {
      if (window.confirm(strings.confirmDelete)) writing.change("delete", id);
    },
    block(id) {
      const message = shown(id);
      if (!message || !message.username) return;
      const name = shownAuthor(message, strings);
      if (!window.confirm(interpolate(strings.confirmBlock, { name }))) return;
      blocks.block(message.username).then(
        () => store.redrawBy(message.username),
        (error) => reportError(problem(error, strings)),
      );
    },
    unblock(id) {
      const message = shown(id);
      if (!message || !message.username) return;
      blocks.unblock(message.username).then(
        () => store.redrawBy(message.username),
        (error) => reportError(problem(error, strings)),
      );
    },
    // A collapsed message of someone blocked, opened or folded again.
    show(id) {
      blocks.revealed.add(id);
      store.redraw(id);
    },
    hide(id) {
      blocks.revealed.delete(id);
      store.redraw(id);
    },
  });

  const mentions = new MentionCompleter({
    textarea: composerForm.querySelector("[data-composer-input]"),
    list: composerForm.querySelector("[data-mention-list]"),
    me,
    offerEveryone: () => canModerate || memberCount() <= EVERYONE_AT_MOST,
    everyoneHint: strings.everyoneHint,
    // The people of the room: who wrote, and who was mentioned, in what
    // the page holds.
    people: () => [
      ...Array.from(list.querySelectorAll("[data-message-username]"), (tag) => tag.textContent.slice(1)),
      ...Array.from(list.querySelectorAll("[data-mention]"), (m) => m.dataset.mention),
    ],
  });
  composer = new Composer({
    form: composerForm,
    strings,
    maxLength: config.maxLength,
    onKey: (event) => mentions.handleKey(event),
    // Before a text for everyone goes out: the reader may keep it instead.
    maySend(text, context) {
      const count = memberCount();
      if ((context && context.kind === "edit") || count <= CONFIRM_EVERYONE_ABOVE || !mentionsEveryone(text)) return true;
      return window.confirm(interpolate(strings.confirmEveryone, { count }));
    },
    onEditLast() {
      const last = store.lastBy(me);
      if (last) startEdit(last.id);
    },
    onSend(text, context) {
      if (context && context.kind === "edit") {
        if (text !== (shown(context.id) || {}).text) writing.change("edit", context.id, { text });
      } else {
        writing.post(text, context && context.kind === "reply" ? context.id : null);
        // The message ends this bout of typing; the next one is told at once.
        typing.posted();
      }
    },
  });

  const csrfInput = composerForm.querySelector("input[name=csrfmiddlewaretoken]");
  uploader = new Uploader({
    config,
    strings,
    csrfToken: csrfInput ? csrfInput.value : "",
    statusElement: composerForm.querySelector("[data-upload-status]"),
    onStart(file, text) {
      const clientId = newClientId();
      const element = renderPending({ clientId, author, username: me, text, file, strings });
      store.addPending(clientId, element);
      setPendingStatus(element, { state: "pending", text: interpolate(strings.uploading, { name: file.name }) });
      return clientId;
    },
    onDone(clientId, message) {
      store.confirm(clientId, message);
    },
    onFail(clientId, detail, retry) {
      writing.failed(clientId, detail, () => {
        writing.sending(clientId);
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
    // A file goes with what is written, not with an edit of another message.
    takeText: () => (composer.context && composer.context.kind === "edit" ? "" : composer.take()),
  });
}

foldSidebar(sidebar, $("[data-sidebar-toggle]"));
followDirectForm({
  form: $("[data-direct-form]"),
  toggle: $("[data-direct-toggle]"),
  url: config.directUrl,
  strings,
});

socket.start();
