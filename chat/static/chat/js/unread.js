// The reader's place in each room they joined, as the sidebar shows it: how
// many messages they have not read and how many of those mention them
// ("99+" past 99), the room's name bold while any are unread, grey for a
// muted room, and the total of the rooms not muted in the tab's title.
//
// The counts start as the page was rendered (data- attributes of the
// sidebar's rooms). Then the server's "read" and "unread" frames set them,
// whichever tab of the reader moved the cursor; new messages of the rooms the
// socket follows add to them (the server sends no count for those); and when
// a count may have dropped without a word (a message deleted) or frames may
// have been missed (the connection was down), the counts are read again from
// GET /api/rooms.
import { problem, request } from "./api.js";
import { dropRoom, placeRoom } from "./sidebar.js";

// The server counts up to 100; beyond 99 a room shows "99+".
const SHOWN_MAX = 99;
// Several reasons to read the counts again within this time make one request.
const REFETCH_DELAY_MS = 300;
// Messages counted here, kept to tell which ones a fresh count already has.
const RECENT_MAX = 200;

export const shownCount = (count) => (count > SHOWN_MAX ? `${SHOWN_MAX}+` : String(count));

const toInt = (value, fallback = 0) => {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : fallback;
};

// A joined room's place as the server drew it in the sidebar.
const placeOf = (item) => {
  const data = item.dataset;
  return {
    cursor: toInt(data.lastReadId),
    unread: toInt(data.unreadCount),
    mentions: toInt(data.mentionCount),
    muted: data.muted !== undefined,
    seq: toInt(data.roomSeq),
    lastId: toInt(data.lastMessageId),
    recent: [],
  };
};

export class Places {
  // ``room``: the room on screen; ``me``: the reader's username ("" for a
  // guest, who has no counts); onCursor(room, cursor, previous, marked): a
  // cursor moved (``marked``: back, by "Mark unread"); readingNow(): whether the room on screen is being read as it
  // grows (its new messages then count for nothing).
  constructor({ sidebar, room, me, config, strings, readAllButton, report, onCursor, readingNow }) {
    this.sidebar = sidebar;
    this.room = room;
    this.me = me;
    this.roomsUrl = config.roomsUrl;
    this.readAllUrl = config.readAllUrl;
    this.strings = strings;
    this.report = report || (() => {});
    this.onCursor = onCursor || (() => {});
    this.readingNow = readingNow || (() => false);
    this.socket = null;
    // slug -> {cursor, unread, mentions, muted, seq, lastId, recent}: lastId
    // is the newest message already in the counts (null: not known yet),
    // recent the messages counted here since the server last counted.
    this.places = new Map();
    this.baseTitle = document.title;
    this.refetchTimer = 0;
    this.refetching = null;
    this.refetchAgain = false;
    if (me && sidebar) {
      for (const item of sidebar.querySelectorAll("[data-sidebar-room][data-joined]")) {
        this.places.set(item.dataset.sidebarRoom, placeOf(item));
      }
    }
    // The room on screen may be one the sidebar does not list (a direct
    // conversation the reader hid): its first history tells what it holds.
    if (me && config.joined && !this.places.has(room)) {
      this.places.set(room, this.fresh(toInt(config.lastReadId), Boolean(config.muted)));
    }
    if (readAllButton) readAllButton.addEventListener("click", () => this.readAll(readAllButton));
    for (const slug of this.places.keys()) this.draw(slug);
    this.drawTitle();
  }

  // The room list changed (a room joined or left elsewhere, a conversation
  // back): take the places of the sidebar as the server drew it anew,
  // follow the rooms new to this page and let go of those gone. Return the
  // slugs of the rooms new to the page.
  adopt() {
    const arrived = [];
    if (!this.me || !this.sidebar) return arrived;
    const listed = new Set();
    for (const item of this.sidebar.querySelectorAll("[data-sidebar-room][data-joined]")) {
      const slug = item.dataset.sidebarRoom;
      listed.add(slug);
      if (this.places.has(slug)) continue;
      this.places.set(slug, placeOf(item));
      arrived.push(slug);
      if (this.socket && slug !== this.room) {
        this.socket.follow(slug, () => (this.places.has(slug) ? this.places.get(slug).seq : null));
      }
    }
    for (const slug of [...this.places.keys()]) {
      if (slug !== this.room && !listed.has(slug)) {
        this.places.delete(slug);
        if (this.socket) this.socket.unsubscribe(slug);
      }
    }
    for (const slug of this.places.keys()) this.draw(slug);
    this.drawTitle();
    this.refetch();
    return arrived;
  }

  fresh(cursor, muted = false) {
    return { cursor, unread: 0, mentions: 0, muted, seq: 0, lastId: null, recent: [] };
  }

  get(slug) {
    return this.places.get(slug) || null;
  }

  // Follow every other room the reader joined on ``socket``, up to what
  // one socket may follow (the room on screen is one), from the change
  // the page was rendered at: the server sends their live frames only.
  follow(socket, maxRooms) {
    if (this.socket) return;
    this.socket = socket;
    let followed = 1;
    for (const slug of this.places.keys()) {
      if (slug === this.room) continue;
      if (followed >= maxRooms) break;
      followed += 1;
      socket.follow(slug, () => (this.places.has(slug) ? this.places.get(slug).seq : null));
    }
  }

  // A frame about a room (history, message, update, member), after the
  // page's own handlers took what is theirs.
  saw(frame) {
    const place = this.places.get(frame.room);
    if (!place) return;
    const seq = Number(frame.seq);
    if (Number.isSafeInteger(seq) && seq > place.seq) place.seq = seq;
    if (frame.type === "history") {
      const messages = Array.isArray(frame.messages) ? frame.messages : [];
      if (place.lastId === null) {
        // What the first page of the room holds is what the counts start from.
        place.lastId = Math.max(0, ...messages.map((message) => toInt(message && message.id)));
        return;
      }
      for (const message of messages) this.count(frame.room, place, message);
      if (messages.some((message) => this.dropped(place, message))) this.refetch();
    } else if (frame.type === "message") {
      this.count(frame.room, place, frame.message);
    } else if (frame.type === "update") {
      if (this.dropped(place, frame.message)) this.refetch();
    } else if (frame.type === "member" && frame.username === this.me && frame.room !== this.room) {
      // The reader left that room in another tab.
      if (frame.action === "leave" || frame.action === "remove") this.left(frame.room);
    }
  }

  // A message that is news to the reader: not theirs, not deleted, not a
  // member line, after their cursor.
  unreadFor(place, message) {
    return Boolean(message) && !message.member && !message.deleted && message.username !== this.me
      && toInt(message.id) > place.cursor;
  }

  count(slug, place, message) {
    const id = toInt(message && message.id);
    if (!id || (place.lastId !== null && id <= place.lastId)) return;
    place.lastId = id;
    if (!this.unreadFor(place, message)) return;
    if (slug === this.room && this.readingNow()) return;
    // "@room" counts as a mention of every member.
    const mention = (Array.isArray(message.mentions) && message.mentions.includes(this.me)) || message.notifies_room === true;
    place.unread += 1;
    if (mention) place.mentions += 1;
    place.recent.push({ id, mention });
    if (place.recent.length > RECENT_MAX) place.recent.shift();
    this.draw(slug);
    this.drawTitle();
  }

  // Whether ``message`` (as it now is) may have left the counts: deleted,
  // and counted before.
  dropped(place, message) {
    return Boolean(message && message.deleted) && !message.member && message.username !== this.me
      && toInt(message.id) > place.cursor && place.lastId !== null && toInt(message.id) <= place.lastId;
  }

  // A "read" frame: the reader's cursor in a room moved (in any tab). The
  // server moves it back only for "Mark unread".
  moved(frame, { fromServer = true } = {}) {
    const place = this.places.get(frame.room);
    const cursor = toInt(frame.id, -1);
    if (!place || cursor < 0) return;
    const previous = place.cursor;
    place.cursor = cursor;
    this.draw(frame.room);
    if (cursor !== previous) this.onCursor(frame.room, cursor, previous, fromServer && cursor < previous);
  }

  // An "unread" frame: the server counted the room anew.
  counted(frame) {
    const place = this.places.get(frame.room);
    if (!place) return;
    this.recount(place, frame, toInt(frame.last_id));
    this.draw(frame.room);
    this.drawTitle();
  }

  // The server's ``counts`` ({unread, mentions}) of a room, taken over its
  // messages up to ``lastId``: those counted here since and after it are
  // added, and none up to it will be counted again, whichever came first.
  recount(place, counts, lastId) {
    place.recent = place.recent.filter((entry) => entry.id > lastId);
    place.unread = toInt(counts.unread) + place.recent.length;
    place.mentions = toInt(counts.mentions) + place.recent.filter((entry) => entry.mention).length;
    if (place.lastId === null || lastId > place.lastId) place.lastId = lastId;
  }

  // Take the reader's place in a room from the API's Room object
  // (``marked``: the answer to "Mark unread").
  apply(room, { marked = false } = {}) {
    const place = room && this.places.get(room.slug);
    if (!place || !room.joined) return;
    this.recount(place, room, toInt(room.last_message_id));
    place.muted = Boolean(room.muted);
    // Otherwise a cursor behind what this page thought is its guess on
    // joining, or a "Mark unread" while the socket was down: no telling.
    this.moved({ room: room.slug, id: room.last_read_id }, { fromServer: marked });
    this.draw(room.slug);
    this.drawTitle();
  }

  // Read every count again from the server, soon (several reasons, one request).
  refetch() {
    if (!this.me || !this.roomsUrl) return;
    clearTimeout(this.refetchTimer);
    this.refetchTimer = setTimeout(() => this.load(), REFETCH_DELAY_MS);
  }

  async load() {
    if (this.refetching) {
      this.refetchAgain = true;
      return;
    }
    this.refetching = request(this.roomsUrl);
    try {
      const { data } = await this.refetching;
      for (const room of (data && data.rooms) || []) this.apply(room);
    } catch (error) {
      console.warn("chat: could not read the unread counts", error);
    } finally {
      this.refetching = null;
      if (this.refetchAgain) {
        this.refetchAgain = false;
        this.refetch();
      }
    }
  }

  // The reader joined the room on screen: the server put their cursor at
  // its newest message.
  joined(slug, cursor) {
    if (!this.me || this.places.has(slug)) return;
    this.places.set(slug, { ...this.fresh(toInt(cursor)), lastId: toInt(cursor) });
    const item = this.item(slug);
    if (item) item.dataset.joined = "";
    this.draw(slug);
    this.refetch();
  }

  // The reader is no longer a member of room ``slug``: no counts for it.
  left(slug) {
    if (!this.places.delete(slug)) return;
    const item = this.item(slug);
    if (item) {
      delete item.dataset.joined;
      this.clear(item);
      if (slug !== this.room) {
        // Out of the joined rooms; a conversation or a private room is gone
        // from the list ("removed" follows for a private one).
        if (item.closest('[data-sidebar-section="joined"]') && !item.querySelector('[data-room-kind-icon="private"]')) {
          placeRoom(this.sidebar, slug, "browse");
        } else {
          dropRoom(this.sidebar, slug);
        }
      }
    }
    if (slug !== this.room && this.socket) this.socket.unsubscribe(slug);
    this.drawTitle();
  }

  // Room ``slug`` is gone for the reader (removed from it, or it no longer
  // exists): the server sends nothing more of it.
  gone(slug) {
    this.places.delete(slug);
    if (this.socket && slug !== this.room) this.socket.unfollow(slug);
    if (slug !== this.room) dropRoom(this.sidebar, slug);
    this.drawTitle();
  }

  async setMuted(slug, url, muted) {
    const { data } = await request(url, { method: muted ? "PUT" : "DELETE" });
    this.apply(data && data.room);
  }

  async readAll(button) {
    button.disabled = true;
    try {
      await request(this.readAllUrl, { method: "POST", body: {} });
      // The read and unread frames are on their way; should the socket be
      // down, the counts are read anew.
      this.refetch();
    } catch (error) {
      this.report(problem(error, this.strings));
    } finally {
      button.disabled = false;
    }
  }

  item(slug) {
    return this.sidebar ? this.sidebar.querySelector(`[data-sidebar-room="${CSS.escape(slug)}"]`) : null;
  }

  clear(item) {
    for (const name of ["roomSeq", "lastMessageId", "lastReadId", "unreadCount", "mentionCount", "muted"]) {
      delete item.dataset[name];
    }
    item.classList.remove("has-unread", "has-mentions");
    for (const part of item.querySelectorAll("[data-sidebar-unread], [data-sidebar-mentions], [data-sidebar-muted]")) {
      part.hidden = true;
    }
  }

  draw(slug) {
    const place = this.places.get(slug);
    const item = this.item(slug);
    if (!place || !item) return;
    item.dataset.lastReadId = String(place.cursor);
    item.dataset.unreadCount = String(place.unread);
    item.dataset.mentionCount = String(place.mentions);
    if (place.muted) item.dataset.muted = "";
    else delete item.dataset.muted;
    item.classList.toggle("has-unread", place.unread > 0);
    item.classList.toggle("has-mentions", place.mentions > 0);
    const badges = [
      ["[data-sidebar-unread]", place.unread],
      ["[data-sidebar-mentions]", place.mentions],
    ];
    for (const [selector, count] of badges) {
      const badge = item.querySelector(selector);
      if (!badge) continue;
      badge.hidden = count <= 0;
      const number = badge.querySelector("[data-count]");
      if (number) number.textContent = shownCount(count);
    }
    const mutedMark = item.querySelector("[data-sidebar-muted]");
    if (mutedMark) mutedMark.hidden = !place.muted;
  }

  // "(3) Room · Chat": what the reader has not read in the rooms not muted.
  drawTitle() {
    let total = 0;
    for (const place of this.places.values()) if (!place.muted) total += place.unread;
    document.title = total > 0 ? `(${shownCount(total)}) ${this.baseTitle}` : this.baseTitle;
  }
}
