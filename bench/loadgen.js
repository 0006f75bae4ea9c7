#!/usr/bin/env node
// One-process WebSocket load generator for the chat benchmarks.
//
//   node bench/loadgen.js '<json config>'      (or '@path/to/config.json')
//
// Prints ONE JSON result object on stdout; progress goes to stderr, where
// the line "loadgen: READY {...}" marks all readers connected. Exit status:
// 0 done, 1 bad config / no reader ready / the sender failed, 2 hard timeout
// (the partial result is still printed, with "timedOut": true).
//
// N readers connect to `url` (at most `connectConcurrency` handshakes at a
// time), then one sender connects (with `cookie`) and sends numbered,
// timestamped messages; every reader counts which of them it received and
// how late. Sender and readers share this process's clock
// (performance.timeOrigin + performance.now(), ms), so latency is end to end.
//
// Config (JSON object; only `url` is required):
//   url               ws:// URL of the room socket (the sender's; readers' too
//                     unless `readerUrls` is given)
//   readerUrls        list of ws:// URLs the readers are spread over, round
//                     robin (e.g. one per server process)
//   origin            Origin header sent on every connection (default none);
//                     "same": each socket's own page origin, as a browser sends
//                     it (the chat's processes each check their own)
//   cookie            Cookie header, for the sender only (default none)
//   query             query string added to the readers' and typists' URLs,
//                     e.g. "presence=1" (default none; the sender's URL never)
//   dialect           "chat" {"type":"message","text":T,"client_id":"<run>-<seq>"}
//                     | "tutorial" {"message":T} | "raw" T          (default chat)
//   readers           N reader sockets                              (default 100)
//   connectConcurrency  handshakes in flight at once                (default 200)
//   mode              "rate" | "burst" | "idle" | "writers"         (default rate)
//   rate, duration    rate mode: `rate` msg/s for `duration` s      (100, 5)
//   mix               rate mode, chat dialect: every `mix`-th action (of
//                     rate x duration) is not a new message but, alternately,
//                     an edit and a reaction (mix 4: 3 messages to 1 other;
//                     0, the default: messages only). See "Mixed" below.
//   mixRecent         edits and reactions pick one of the sender's last
//                     `mixRecent` acknowledged messages at random        (50)
//   count             burst mode: messages sent back to back, waiting only
//                     when more than `burstHighWater` bytes are unsent (100)
//   duration          idle mode: seconds to hold the readers once ready
//   grace             s to keep listening after the last send          (5)
//   earlyExit         end the grace once all expected arrived (writers: and
//                     every writer heard its own messages)          (true)
//   size              bytes of TEXT                                    (100)
//   skipFirstFrame    ignore each reader's first frame (the history) and
//                     count it ready only once it came (default: dialect chat)
//   typists           logged-in sockets that send typing notices (chat
//                     dialect, rate and burst modes; default 0). They connect
//                     after the readers, each with the Cookie
//                     `typistCookies[i % length]`, are ready once their
//                     history came, and never count as readers (their
//                     connect failures are in `typists`, not connectErrors;
//                     samples in connectErrorSamples). See "Typists" below.
//   typistCookies     list of Cookie headers, one per typist account
//   typingInterval    s between one typist's typing notices (10; 0: never)
//   settle            s to wait once readers and typists are ready, before
//                     the sender connects (rate and burst modes; writers
//                     mode: before the writers start)                     (0)
//   rooms             writers mode: list of room slugs; each URL of
//                     `readerUrls` (a /ws/rooms/<slug>/ URL) gives that
//                     room's URL on that process. See "Writers" below.
//   writers           writers mode: logged-in sockets that post       (0)
//   writerCookies     writers mode: Cookie headers, writer i gets [i % length]
//   writerRate        writers mode: msg/s each writer posts            (1)
//   timeout           overall hard limit in s                          (120)
//   handshakeTimeout  per connection, s (30); maxPayload (64 MiB);
//   validateUtf8 (false); closeWait s (3); runId ([A-Za-z0-9]{1,24}, random)
//
// A sent TEXT is "R<runId>#<seq>@<sendTimeMs>" padded with "x" to `size`
// bytes. A reader finds deliveries in a frame's raw bytes exactly as the
// regex /R<runId>#(\d+)@(\d+\.?\d*)/g would (every match counts: a history
// frame may hold several), without decoding or parsing the frame; a match
// right after a match of the same seq is the same message (the chat carries
// its text twice, as `text` and as rendered `html`) and counts once. In chat
// dialect the sender too waits for its history frame before sending.
//
// Mixed (`mix` > 0): the sender learns its messages' ids from their echoes
// (it parses its own socket's frames; readers never parse). An edit,
//   {"type":"edit","id":ID,"text":TEXT,"client_id":"e<runId>-<n>"},
// gives an acknowledged message a new TEXT with a fresh seq: readers count
// the `update` frame it brings like a message (same seq space, same
// `delivered`/`lost`/`duplicates`/`latencyMs`; `sent` counts messages plus
// edits). A reaction,
//   {"type":"react","id":ID,"emoji":"👍","on":B,"client_id":"r<runId>-<n>-<ms>"},
// toggles the sender's 👍 on an acknowledged message (on, off, on, ...
// per message); its `update` frame carries the message's text again, so a
// reader recognises it first (it begins with {"type":"update" and ends with
// that client_id) and counts it apart, never as a message: once per (reader,
// n), its latency from <ms>, the send time the client_id carries.
//
// Frames that carry no message: a reader recognises `presence`,
// `presence_diff` and `typing` frames by their head ({"type":"presence",
// {"type":"presence_diff", {"type":"typing"), never scans them for
// deliveries, and counts them and their bytes apart in `readerExtraFrames`,
// by phase: "connect" (before all readers were ready, i.e. before READY) and
// "after" (from READY to the end: idle mode's hold; in rate and burst modes
// also the typists' connects, the settle time, sending and grace).
//
// Typists (`typists` > 0): once every typist is ready (and after `settle`),
// the sender connects; as it starts sending, typist i sends
//   {"type":"typing","room":SLUG}
// (SLUG from the URL's /ws/rooms/<slug>/) first after i x typingInterval /
// typists s (staggered), then every typingInterval s, until the sending
// ends. Result `typists` {configured, connected, connectSeconds,
// connectErrors, typingSent, errorFrames, errorSample}; what the readers got
// of them is readerExtraFrames' typing count.
//
// Writers (mode "writers", chat dialect; no sender): reader i listens to
// room i % R (R = rooms.length) on process floor(i / R) % P (P =
// readerUrls.length), writer w posts to room w % R on process floor(w / R)
// % P, with Cookie writerCookies[w % length]. Writers connect after the
// readers and are ready once their history came. Once all are ready (and
// after `settle`), message m (0 .. writers x writerRate x duration - 1) is
// sent at m / (writers x writerRate) s by writer m % writers: each writer
// posts writerRate msg/s, the writers staggered evenly over each period.
// Its seq is m, its client_id "<runId>-<m>", its text as above. A reader
// counts only messages of its room (others: `wrongRoom`); `expected` sums,
// over the messages sent, the ready readers of their room. A writer's
// message is acknowledged when the writer's own socket gets the broadcast
// carrying its client_id. Result `writers` {configured, connected,
// connectSeconds, connectErrors, acked, unacked, ackLatencyMs, errorFrames,
// errorSample, closeCodes}, `rooms`, `readersPerRoom` {min, max},
// `lostAcked` (pairs (reader, acknowledged message of its room) never
// received), `messagesMissed` (acknowledged messages some reader of their
// room never received), `unackedDelivered` (deliveries of messages never
// acknowledged), `wrongRoom`.
//
// Result: readers, connected (ready), connectSeconds, connectErrors (+ up to
// 10 samples), sent, expected (= sent x connected), delivered (unique
// (reader, seq) pairs before the end of grace), duplicates, lost (expected -
// delivered), deliveredInWindow (received by last send + 1 s), deliveriesPerSecond
// (delivered / (last delivery - first send)), latencyMs {p50, p90, p99, max},
// loadgenCpuSeconds {user, system} (whole process), measure {wallSeconds,
// cpuSeconds, cpuBusy} (from the sender's start, idle: from all ready),
// eventLoopLagMs {p50, p99, max} (same phase; large = this process fell
// behind), wallSeconds, closeCodes (readers' closes before the end),
// sendErrors, senderErrorFrames (chat "error" frames the sender got) and more.
// Mixed runs add: actions (all sends), messagesSent, editsSent, reactionsSent,
// actionsPerSecond, senderAcks {messages, edits, reactions} (echoes the
// sender got), updatesExpected (= reactionsSent x connected), updatesReceived,
// updateDuplicates, updatesLost, unexpectedUpdates, updateLatencyMs {p50,
// p90, p99, max}, editLatencyMs {p50, p99, max} (edits alone; they are in
// latencyMs too), and `stream`: each reader's view of the room's change
// stream checked against the stored state once the grace is over. A reader
// keeps, per message id, the seq of the last frame it got for it, and
// counts frames whose seq is not above the one before (`outOfOrder`: out of
// order or twice). The stored state is read through the HTTP API
// (/api/rooms/<slug>/messages?since=<the history's seq>); `stale` counts
// the pairs (reader, stored message changed during the run) where the
// reader's last frame for the message is not its stored state: a change
// the reader never got. `lost` and `duplicates` count texts (messages and
// edits): a server that repaired a gap sends a message in its current
// state, so an edit made meanwhile arrives in place of the text before it,
// which `lost` then counts while `stale` does not. {readers, changed
// (stored messages changed during the run), stale, outOfOrder} or {error}.
// Mixed runs also end their grace early once every reader's stream has
// reached the last change the sender heard after all its actions were
// answered.
"use strict";

const fs = require("node:fs");
const { performance, monitorEventLoopDelay } = require("node:perf_hooks");
const crypto = require("node:crypto");
const WebSocket = require("ws");

const T0 = performance.now();
const now = () => performance.timeOrigin + performance.now(); // ms, float

function log(...args) {
  process.stderr.write(`loadgen: ${args.join(" ")}\n`);
}

// --- config ---------------------------------------------------------------

const DEFAULTS = {
  url: null,
  readerUrls: null, // readers spread round-robin over these (default [url])
  origin: null,
  cookie: null,
  dialect: "chat", // chat | tutorial | raw
  readers: 100,
  connectConcurrency: 200,
  mode: "rate", // rate | burst | idle
  rate: 100, // msg/s (rate mode)
  mix: 0, // every mix-th action an edit or a reaction (rate mode, chat)
  mixRecent: 50, // edits and reactions pick among this many last acked
  duration: 5, // s: sending window (rate), hold time once ready (idle)
  count: 100, // messages (burst mode)
  grace: 5, // s to keep listening after the last send
  earlyExit: true, // end the grace period once every delivery has arrived
  size: 100, // bytes of TEXT
  skipFirstFrame: null, // default: true for dialect chat, else false
  timeout: 120, // s, overall hard limit
  handshakeTimeout: 30, // s, per connection
  maxPayload: 64 * 1024 * 1024,
  validateUtf8: false, // ws's UTF-8 check of received text frames
  burstHighWater: 256 * 1024, // bytes buffered before a burst waits
  closeWait: 3, // s to wait for close handshakes at the end
  runId: null, // default: random [a-z0-9]{8}
  query: "", // added to readers' and typists' URLs, e.g. "presence=1"
  typists: 0, // logged-in sockets sending typing notices
  typistCookies: null, // Cookie headers, typist i gets [i % length]
  typingInterval: 10, // s between one typist's notices (0: never)
  settle: 0, // s between everyone ready and the sender's connect
  rooms: null, // writers mode: room slugs
  writers: 0, // writers mode: posting sockets
  writerCookies: null, // writers mode: Cookie headers, writer i gets [i % length]
  writerRate: 1, // writers mode: msg/s per writer
};

function loadConfig() {
  const arg = process.argv[2];
  if (!arg) {
    throw new Error("usage: node bench/loadgen.js '<json config>' | @config.json");
  }
  const text = arg.startsWith("@") ? fs.readFileSync(arg.slice(1), "utf8") : arg;
  const given = JSON.parse(text);
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    throw new Error("the config must be a JSON object");
  }
  for (const key of Object.keys(given)) {
    if (!(key in DEFAULTS)) log(`warning: unknown config field ${JSON.stringify(key)}`);
  }
  const c = { ...DEFAULTS, ...given };
  if (typeof c.url !== "string" || !/^wss?:\/\//.test(c.url)) {
    throw new Error("url must be a ws:// or wss:// URL");
  }
  if (c.readerUrls === null || (Array.isArray(c.readerUrls) && c.readerUrls.length === 0)) {
    c.readerUrls = [c.url];
  }
  if (
    !Array.isArray(c.readerUrls) ||
    !c.readerUrls.every((u) => typeof u === "string" && /^wss?:\/\//.test(u))
  ) {
    throw new Error("readerUrls must be a list of ws:// or wss:// URLs");
  }
  if (!["chat", "tutorial", "raw"].includes(c.dialect)) {
    throw new Error("dialect must be chat, tutorial or raw");
  }
  if (!["rate", "burst", "idle", "writers"].includes(c.mode)) {
    throw new Error("mode must be rate, burst, idle or writers");
  }
  for (const key of [
    "readers", "connectConcurrency", "rate", "duration", "count", "grace", "size",
    "timeout", "handshakeTimeout", "maxPayload", "burstHighWater", "closeWait",
    "mix", "mixRecent", "typists", "typingInterval", "settle", "writers", "writerRate",
  ]) {
    if (typeof c[key] !== "number" || !Number.isFinite(c[key]) || c[key] < 0) {
      throw new Error(`${key} must be a non-negative number`);
    }
  }
  c.readers = Math.floor(c.readers);
  c.connectConcurrency = Math.max(1, Math.floor(c.connectConcurrency));
  if (c.skipFirstFrame === null) c.skipFirstFrame = c.dialect === "chat";
  c.skipFirstFrame = Boolean(c.skipFirstFrame);
  if (c.runId === null) c.runId = crypto.randomBytes(6).readUIntBE(0, 6).toString(36).slice(0, 8);
  if (!/^[A-Za-z0-9]{1,24}$/.test(String(c.runId))) {
    throw new Error("runId must be 1 to 24 ASCII letters or digits");
  }
  c.runId = String(c.runId);
  if (typeof c.query !== "string" || /[#\s]/.test(c.query)) {
    throw new Error("query must be a query string without spaces or #");
  }
  c.query = c.query.replace(/^\?/, "");
  c.typists = Math.floor(c.typists);
  if (c.typists > 0) {
    if (c.dialect !== "chat") throw new Error("typists need dialect chat");
    if (
      !Array.isArray(c.typistCookies) ||
      c.typistCookies.length === 0 ||
      !c.typistCookies.every((x) => typeof x === "string" && x.length > 0)
    ) {
      throw new Error("typists need typistCookies, a list of Cookie headers");
    }
    const room = /\/ws\/rooms\/([-a-zA-Z0-9_]+)\//.exec(c.url);
    if (room === null) throw new Error("typists need a /ws/rooms/<slug>/ url");
    c.room = room[1];
  }
  c.writers = Math.floor(c.writers);
  c.roomUrls = null;
  if (c.mode === "writers") {
    if (c.dialect !== "chat") throw new Error("writers mode needs dialect chat");
    if (
      !Array.isArray(c.rooms) ||
      c.rooms.length === 0 ||
      !c.rooms.every((x) => typeof x === "string" && /^[-a-zA-Z0-9_]+$/.test(x))
    ) {
      throw new Error("writers mode needs rooms, a list of room slugs");
    }
    if (c.writers < 1 || c.writerRate <= 0) {
      throw new Error("writers mode needs writers >= 1 and writerRate > 0");
    }
    if (
      !Array.isArray(c.writerCookies) ||
      c.writerCookies.length === 0 ||
      !c.writerCookies.every((x) => typeof x === "string" && x.length > 0)
    ) {
      throw new Error("writers need writerCookies, a list of Cookie headers");
    }
    const pattern = /\/ws\/rooms\/[-a-zA-Z0-9_]+\//;
    if (!c.readerUrls.every((u) => pattern.test(u))) {
      throw new Error("writers mode needs /ws/rooms/<slug>/ readerUrls");
    }
    // roomUrls[room][process]
    c.roomUrls = c.rooms.map((slug) => c.readerUrls.map((u) => u.replace(pattern, `/ws/rooms/${slug}/`)));
  }
  c.mix = Math.floor(c.mix);
  c.mixRecent = Math.max(1, Math.floor(c.mixRecent));
  if (c.mix === 1 || (c.mix > 0 && (c.mode !== "rate" || c.dialect !== "chat"))) {
    throw new Error("mix needs mode rate, dialect chat and a value of at least 2");
  }
  // How many frames the sender will send (actions), how many of them are
  // reactions, and how many carry a seq readers count (messages and edits).
  c.actions =
    c.mode === "rate" ? Math.round(c.rate * c.duration)
    : c.mode === "burst" ? Math.floor(c.count)
    : c.mode === "writers" ? Math.round(c.writers * c.writerRate * c.duration)
    : 0;
  c.reactions = c.mix > 0 ? Math.floor(Math.floor(c.actions / c.mix) / 2) : 0;
  c.edits = c.mix > 0 ? Math.ceil(Math.floor(c.actions / c.mix) / 2) : 0;
  c.planned = c.actions - c.reactions;
  return c;
}

let cfg;
try {
  cfg = loadConfig();
} catch (error) {
  log(`config error: ${error.message}`);
  process.stdout.write(`${JSON.stringify({ error: `config: ${error.message}` })}\n`, () =>
    process.exit(1),
  );
  return; // top level of a CommonJS module: stop here
}

// --- state ----------------------------------------------------------------

const N = cfg.readers;
const PLANNED = cfg.planned; // messages + edits: seqs 0 .. PLANNED-1
const ACTIONS = cfg.actions; // everything the sender sends
const REACTIONS = cfg.reactions; // reactions: n 0 .. REACTIONS-1
const MARKER = Buffer.from(`R${cfg.runId}#`, "latin1");
const MARKER_LEN = MARKER.length;
// A reaction's update frame: its head, and the client_id near its end.
const UPDATE_HEAD = Buffer.from('{"type":"update"', "latin1");
const UPDATE_HEAD_LEN = UPDATE_HEAD.length;
const REACT_TAG = Buffer.from(`"client_id":"r${cfg.runId}-`, "latin1");
const REACT_TAG_LEN = REACT_TAG.length;
const REACT_TAIL = REACT_TAG_LEN + 64 + 8; // the tag, a client_id, `"}`

// Latencies of unique deliveries. Never more than readers x planned; past
// LAT_CAP entries (256 MiB) it keeps a uniform reservoir sample.
const LAT_CAP = 64 * 1024 * 1024;
// Writers mode: a reader hears its room's messages only (about 1/R of them).
const WRITERS_MODE = cfg.mode === "writers";
const ROOMS = WRITERS_MODE ? cfg.rooms.length : 1;
const W = WRITERS_MODE ? cfg.writers : 0;
const latencies = new Float32Array(
  Math.max(1, Math.min(Math.ceil(N / ROOMS) * PLANNED, LAT_CAP)),
);
let latCount = 0; // entries in `latencies`
// The same for reaction updates (mixed runs).
const updateLatencies = new Float32Array(Math.max(1, Math.min(N * REACTIONS, LAT_CAP)));
let updateLatCount = 0;
// Edits' latencies again, apart (they are also in `latencies`): which seqs
// are edits (set by the sender before sending), and their latencies.
const editSeq = cfg.mix > 0 ? new Uint8Array(Math.max(1, PLANNED)) : null;
const editLatencies = new Float32Array(Math.max(1, Math.min(N * cfg.edits, LAT_CAP)));
let editLatCount = 0;
let updatesReceived = 0;
let updateDuplicates = 0;
let unexpectedUpdates = 0; // reaction numbers out of range (should stay 0)
// Mixed: each reader's view of the change stream (see the result's
// `stream`), and the newest change the sender's socket heard.
const views = cfg.mix > 0 ? [] : null;
let senderLastSeq = 0;
let endSeq = 0; // the room's last change, once every action was answered
const SEQ_KEY = Buffer.from(',"seq":', "latin1");
const ID_KEY = Buffer.from('"message":{"id":', "latin1");

// Frames readers got that carry no message, by phase (0: before READY, 1:
// from READY on) and kind (EXTRA_KINDS): counts and bytes.
const EXTRA_KINDS = ["presence", "presenceDiff", "typing"];
const NOT_EXTRA = -1;
const extraFrames = [
  [0, 0, 0],
  [0, 0, 0],
];
const extraBytes = [
  [0, 0, 0],
  [0, 0, 0],
];
let phase = 0;

// Typists: ready sockets, and what they did.
const typistSockets = [];
let typistsConnected = 0;
let typistConnectErrors = 0;
let typistConnectStart = 0;
let typistConnectEnd = 0;
let typingSent = 0;
let typistErrorFrames = 0;
let typistErrorSample = null;
let typingStopped = false;
const typingTimers = new Set();

// Writers mode: ready readers per room; per seq: deliveries, sent, acked,
// send time; the writers and what they did.
const roomReady = new Int32Array(ROOMS);
const seqDelivered = WRITERS_MODE ? new Uint32Array(Math.max(1, PLANNED)) : null;
const seqSent = WRITERS_MODE ? new Uint8Array(Math.max(1, PLANNED)) : null;
const seqAcked = WRITERS_MODE ? new Uint8Array(Math.max(1, PLANNED)) : null;
const seqSentAt = WRITERS_MODE ? new Float64Array(Math.max(1, PLANNED)) : null;
const ackLatencies = WRITERS_MODE ? new Float32Array(Math.max(1, PLANNED)) : null;
let ackCount = 0;
const writerSockets = []; // by writer index; null if it never became ready
let writersConnected = 0;
let writerConnectErrors = 0;
let writerConnectStart = 0;
let writerConnectEnd = 0;
let writerErrorFrames = 0;
let writerErrorSample = null;
let writerSkipped = 0; // sends skipped because the writer's socket was closed
let wrongRoom = 0; // a reader got a message of another room (should stay 0)
const writerCloseCodes = Object.create(null);
const seqRoom = (seq) => (seq % W) % ROOMS;

let delivered = 0;
let duplicates = 0;
let unexpected = 0; // matches whose seq is out of range (should stay 0)
let deliveredInWindow = 0;
let windowDeadline = Infinity; // last send + 1 s, once sending has ended
let firstDelivery = 0;
let lastDelivery = 0;
let framesReceived = 0;
let bytesReceived = 0;
let stopped = false; // grace is over: later frames no longer count

let connected = 0; // readers that became ready
let connectErrors = 0;
const connectErrorSamples = new Map(); // message -> count (first 10 kinds)
let readerErrorsAfterReady = 0;
let closeCodes = Object.create(null);
let shuttingDown = false;

let sent = 0; // frames carrying a seq: messages and edits
let actionsSent = 0; // every frame: messages, edits, reactions
let messagesSent = 0;
let editsSent = 0;
let reactionsSent = 0;
const senderAcks = { messages: 0, edits: 0, reactions: 0 };
const acked = []; // ids of the sender's acknowledged messages, in ack order
const reactionOn = new Map(); // message id -> whether our 👍 is on it
let sendErrors = 0;
let firstSend = 0;
let lastSend = 0;
let maxBufferedAmount = 0;
let senderCloseCode = null;
let senderErrorFrames = 0;
let senderErrorSample = null;
let sender = null;
let stream = null; // mixed: the check of the readers' views (see result)

// The measured phase: from the sender's start (idle: from all ready) to the
// end. Its CPU and event-loop lag tell whether this process kept up.
let measureCpu = null;
let measureStart = 0;

function startMeasure() {
  measureCpu = process.cpuUsage();
  measureStart = performance.now();
  loopDelay.reset();
}

let connectStart = 0;
let connectEnd = 0;
let timedOut = false;
let fatal = null;
const sockets = [];

// Event-loop lag: a timer every LOOP_RES ms records how late it fires. A
// busy load generator (one that falls behind) shows here.
const LOOP_RES = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RES });
loopDelay.enable();

function noteConnectError(message, reader = true) {
  if (reader) connectErrors += 1;
  const key = String(message).slice(0, 160);
  if (connectErrorSamples.has(key) || connectErrorSamples.size < 10) {
    connectErrorSamples.set(key, (connectErrorSamples.get(key) || 0) + 1);
  }
}

// --- receiving --------------------------------------------------------------

// Record every "R<runId>#<seq>@<ms>" in `buf` for reader `bits`, received at
// `t`. Equivalent to the regex /R<runId>#(\d+)@(\d+\.?\d*)/g over the frame.
function scan(buf, bits, t, room = -1) {
  let pos = buf.indexOf(MARKER, 0);
  let previous = -1;
  const end = buf.length;
  while (pos !== -1) {
    let i = pos + MARKER_LEN;
    let seq = 0;
    let digits = 0;
    let c;
    while (i < end && (c = buf[i]) >= 48 && c <= 57) {
      seq = seq * 10 + (c - 48);
      i += 1;
      digits += 1;
    }
    if (digits === 0 || i >= end || buf[i] !== 64 /* @ */) {
      pos = buf.indexOf(MARKER, pos + 1);
      continue;
    }
    i += 1;
    let whole = 0;
    let wholeDigits = 0;
    while (i < end && (c = buf[i]) >= 48 && c <= 57) {
      whole = whole * 10 + (c - 48);
      i += 1;
      wholeDigits += 1;
    }
    if (wholeDigits === 0) {
      pos = buf.indexOf(MARKER, pos + 1);
      continue;
    }
    let sentAt = whole;
    if (i < end && buf[i] === 46 /* . */) {
      i += 1;
      let frac = 0;
      let scale = 1;
      while (i < end && (c = buf[i]) >= 48 && c <= 57) {
        frac = frac * 10 + (c - 48);
        scale *= 10;
        i += 1;
      }
      sentAt += frac / scale;
    }
    if (seq !== previous) record(bits, seq, t - sentAt, t, room);
    previous = seq;
    pos = buf.indexOf(MARKER, i);
  }
}

function record(bits, seq, latency, t, room) {
  if (seq >= PLANNED) {
    unexpected += 1;
    return;
  }
  if (room >= 0 && seqRoom(seq) !== room) {
    wrongRoom += 1;
    return;
  }
  const byte = seq >>> 3;
  const mask = 1 << (seq & 7);
  if (bits[byte] & mask) {
    duplicates += 1;
    return;
  }
  bits[byte] |= mask;
  delivered += 1;
  if (seqDelivered !== null) seqDelivered[seq] += 1;
  if (t <= windowDeadline) deliveredInWindow += 1;
  if (firstDelivery === 0) firstDelivery = t;
  lastDelivery = t;
  if (latCount < latencies.length) {
    latencies[latCount] = latency;
  } else {
    const j = Math.floor(Math.random() * delivered);
    if (j < latencies.length) latencies[j] = latency;
  }
  latCount += 1;
  if (editSeq !== null && editSeq[seq] === 1) {
    if (editLatCount < editLatencies.length) editLatencies[editLatCount] = latency;
    editLatCount += 1;
  }
  if (delivered === expectedNow) checkAllDelivered();
}

let expectedNow = -1; // sent x ready readers, once sending has ended
let updatesExpectedNow = -1; // reactionsSent x ready readers, likewise
let acksExpectedNow = 0; // writers: messages sent, each acknowledged to its writer
let onAllDelivered = null;

// Is `buf` an update frame? (The chat writes {"type":"update",... first.)
function isUpdate(buf) {
  return (
    buf.length > UPDATE_HEAD_LEN &&
    buf[9] === 117 /* u */ &&
    buf.compare(UPDATE_HEAD, 0, UPDATE_HEAD_LEN, 0, UPDATE_HEAD_LEN) === 0
  );
}

// Which frame without messages `buf` is: an index of EXTRA_KINDS, or
// NOT_EXTRA. The chat writes {"type":"..." first, without spaces.
const PRESENCE_HEAD = Buffer.from('{"type":"presence', "latin1");
const PRESENCE_HEAD_LEN = PRESENCE_HEAD.length;
const TYPING_HEAD = Buffer.from('{"type":"typing"', "latin1");
const TYPING_HEAD_LEN = TYPING_HEAD.length;

function extraKind(buf) {
  if (buf.length <= PRESENCE_HEAD_LEN) return NOT_EXTRA;
  const c = buf[9];
  if (c === 112 /* p */ && buf.compare(PRESENCE_HEAD, 0, PRESENCE_HEAD_LEN, 0, PRESENCE_HEAD_LEN) === 0) {
    const next = buf[PRESENCE_HEAD_LEN];
    if (next === 34 /* " */) return 0;
    if (next === 95 /* _ */) return 1; // presence_diff
    return NOT_EXTRA;
  }
  if (c === 116 /* t */ && buf.compare(TYPING_HEAD, 0, TYPING_HEAD_LEN, 0, TYPING_HEAD_LEN) === 0) {
    return 2;
  }
  return NOT_EXTRA;
}

// If update frame `buf` answers one of our reactions, record it for reader
// `rbits` and return true; its client_id "r<runId>-<n>-<ms>" is near the end.
function reactionUpdate(buf, rbits, t) {
  const end = buf.length;
  let i = buf.indexOf(REACT_TAG, Math.max(0, end - REACT_TAIL));
  if (i === -1) return false;
  i += REACT_TAG_LEN;
  let n = 0;
  let digits = 0;
  let c;
  while (i < end && (c = buf[i]) >= 48 && c <= 57) {
    n = n * 10 + (c - 48);
    i += 1;
    digits += 1;
  }
  if (digits === 0 || i >= end || buf[i] !== 45 /* - */) {
    unexpectedUpdates += 1;
    return true;
  }
  i += 1;
  let sentAt = 0;
  while (i < end && (c = buf[i]) >= 48 && c <= 57) {
    sentAt = sentAt * 10 + (c - 48);
    i += 1;
  }
  if (i < end && buf[i] === 46 /* . */) {
    i += 1;
    let scale = 1;
    let frac = 0;
    while (i < end && (c = buf[i]) >= 48 && c <= 57) {
      frac = frac * 10 + (c - 48);
      scale *= 10;
      i += 1;
    }
    sentAt += frac / scale;
  }
  recordUpdate(rbits, n, t - sentAt);
  return true;
}

function recordUpdate(rbits, n, latency) {
  if (n >= REACTIONS) {
    unexpectedUpdates += 1;
    return;
  }
  const byte = n >>> 3;
  const mask = 1 << (n & 7);
  if (rbits[byte] & mask) {
    updateDuplicates += 1;
    return;
  }
  rbits[byte] |= mask;
  updatesReceived += 1;
  if (updateLatCount < updateLatencies.length) {
    updateLatencies[updateLatCount] = latency;
  } else {
    const j = Math.floor(Math.random() * updatesReceived);
    if (j < updateLatencies.length) updateLatencies[j] = latency;
  }
  updateLatCount += 1;
  checkAllDelivered();
}

function checkAllDelivered() {
  if (
    onAllDelivered !== null &&
    ((delivered >= expectedNow &&
      updatesReceived >= updatesExpectedNow &&
      ackCount >= acksExpectedNow) ||
      streamsCaughtUp())
  ) {
    onAllDelivered();
  }
}

// The number after `key` in `buf` (its first occurrence), or -1.
function numberAfter(buf, key) {
  let i = buf.indexOf(key);
  if (i === -1) return -1;
  i += key.length;
  let n = 0;
  let digits = 0;
  let c;
  while (i < buf.length && (c = buf[i]) >= 48 && c <= 57) {
    n = n * 10 + (c - 48);
    i += 1;
    digits += 1;
  }
  return digits > 0 ? n : -1;
}

// Mixed: note a change frame in reader `view`: {"type":...,"room":...,
// "seq":N,"message":{"id":M,...
function follow(view, buf) {
  const seq = numberAfter(buf, SEQ_KEY);
  const id = numberAfter(buf, ID_KEY);
  if (seq === -1 || id === -1) return;
  if (seq <= view.last) {
    view.outOfOrder += 1;
    return;
  }
  view.last = seq;
  view.messages.set(id, seq);
  if (endSeq > 0 && seq >= endSeq) checkAllDelivered();
}

// Mixed: has every reader's stream reached the room's last change?
function streamsCaughtUp() {
  return views !== null && endSeq > 0 && views.every((view) => view.last >= endSeq);
}

// Mixed, once sending ended: the room's last change is known when every
// action was answered (its broadcast, or a reply to the sender alone).
function noteEnd() {
  const answered = senderAcks.messages + senderAcks.edits + senderAcks.reactions;
  if (views === null || expectedNow < 0 || answered < actionsSent) return;
  endSeq = senderLastSeq;
  checkAllDelivered();
}

// Mixed: compare each reader's view with the stored state (see `stream`).
async function checkStream() {
  const slug = new URL(cfg.url).pathname.split("/")[3];
  const since = Math.min(...views.map((view) => view.since));
  const base = `${pageOrigin(cfg.url)}/api/rooms/${encodeURIComponent(slug)}/messages`;
  const stored = new Map(); // id -> seq, of messages changed after `since`
  let from = since;
  for (;;) {
    const response = await fetch(`${base}?since=${from}&limit=200`);
    if (!response.ok) throw new Error(`${base}: HTTP ${response.status}`);
    const page = (await response.json()).messages;
    for (const message of page) stored.set(message.id, message.seq);
    if (page.length < 200) break;
    from = page[page.length - 1].seq;
  }
  let stale = 0;
  for (const view of views) {
    for (const [id, seq] of stored) {
      if (seq > view.since && view.messages.get(id) !== seq) stale += 1;
    }
  }
  return {
    readers: views.length,
    changed: stored.size,
    stale,
    outOfOrder: views.reduce((sum, view) => sum + view.outOfOrder, 0),
  };
}

// --- connecting --------------------------------------------------------------

// The origin of the page that would open `url` ("ws://h:p/x" -> "http://h:p").
function pageOrigin(url) {
  const parsed = new URL(url);
  return `${parsed.protocol === "wss:" ? "https:" : "http:"}//${parsed.host}`;
}

// `url` with the configured query string added.
function withQuery(url) {
  if (!cfg.query) return url;
  return `${url}${url.includes("?") ? "&" : "?"}${cfg.query}`;
}

function socketOptions(withCookie, url) {
  const options = {
    perMessageDeflate: false,
    maxPayload: cfg.maxPayload,
    handshakeTimeout: Math.round(cfg.handshakeTimeout * 1000),
    skipUTF8Validation: !cfg.validateUtf8,
    followRedirects: false,
  };
  if (cfg.origin) options.origin = cfg.origin === "same" ? pageOrigin(url) : cfg.origin;
  if (typeof withCookie === "string") options.headers = { Cookie: withCookie };
  else if (withCookie && cfg.cookie) options.headers = { Cookie: cfg.cookie };
  return options;
}

// Reader `index`'s URL: round robin over readerUrls; in writers mode, its
// room's URL on process floor(index / R) % P.
function readerUrl(index) {
  if (!WRITERS_MODE) return cfg.readerUrls[index % cfg.readerUrls.length];
  const urls = cfg.roomUrls[index % ROOMS];
  return urls[Math.floor(index / ROOMS) % urls.length];
}

// Open reader `index`; resolve true once ready, false if it failed first.
function openReader(index) {
  return new Promise((resolve) => {
    const bits = new Uint8Array(Math.ceil(PLANNED / 8));
    const rbits = REACTIONS > 0 ? new Uint8Array(Math.ceil(REACTIONS / 8)) : null;
    const view = views !== null ? { since: -1, last: 0, messages: new Map(), outOfOrder: 0 } : null;
    if (view !== null) views.push(view);
    let ws;
    try {
      const url = withQuery(readerUrl(index));
      ws = new WebSocket(url, socketOptions(false, url));
    } catch (error) {
      noteConnectError(error.message);
      resolve(false);
      return;
    }
    sockets.push(ws);
    let settled = false;
    let errored = false;
    let skip = cfg.skipFirstFrame;
    const room = WRITERS_MODE ? index % ROOMS : -1;
    const settle = (ok) => {
      if (settled) return;
      settled = true;
      if (ok) {
        connected += 1;
        if (room >= 0) roomReady[room] += 1;
      }
      resolve(ok);
    };
    ws.on("open", () => {
      if (!skip) settle(true);
    });
    ws.on("message", (data) => {
      framesReceived += 1;
      bytesReceived += data.length;
      if (skip) {
        skip = false;
        if (view !== null) view.since = view.last = numberAfter(data, SEQ_KEY);
        settle(true);
        return;
      }
      if (stopped) return;
      const kind = extraKind(data);
      if (kind !== NOT_EXTRA) {
        extraFrames[phase][kind] += 1;
        extraBytes[phase][kind] += data.length;
        return;
      }
      if (view !== null) follow(view, data);
      const t = now();
      // A reaction's update repeats a text already counted: count it apart.
      if (rbits !== null && isUpdate(data) && reactionUpdate(data, rbits, t)) return;
      scan(data, bits, t, room);
    });
    ws.on("error", (error) => {
      if (!settled) {
        if (!errored) noteConnectError(error.message);
        errored = true;
      } else if (!shuttingDown) readerErrorsAfterReady += 1;
    });
    ws.on("close", (code) => {
      if (!shuttingDown) closeCodes[code] = (closeCodes[code] || 0) + 1;
      if (!settled) {
        if (!errored) noteConnectError(`closed before ready (${code})`);
        settle(false);
      }
    });
  });
}

async function connectReaders() {
  connectStart = now();
  let next = 0;
  let lastLog = performance.now();
  const worker = async () => {
    while (next < N) {
      const index = next;
      next += 1;
      await openReader(index);
      if (performance.now() - lastLog > 2000) {
        lastLog = performance.now();
        log(`connecting: ${connected} ready, ${connectErrors} errors of ${N}`);
      }
    }
  };
  const workers = [];
  for (let k = 0; k < Math.min(cfg.connectConcurrency, N); k += 1) workers.push(worker());
  await Promise.all(workers);
  connectEnd = now();
}

// Open a logged-in socket (`role`: "typist" or "writer") at `url`; resolve
// true once its history came (after `ready(ws)`), false if it failed first
// (after `failed()`). Every later frame goes to `frame(data)`; a close
// other than ours at the end to `closed(code)`.
function openLoggedIn(role, url, cookie, { ready, failed, frame, closed }) {
  return new Promise((resolve) => {
    let ws;
    try {
      ws = new WebSocket(url, socketOptions(cookie, url));
    } catch (error) {
      failed();
      noteConnectError(`${role}: ${error.message}`, false);
      resolve(false);
      return;
    }
    sockets.push(ws);
    let settled = false;
    const settle = (ok) => {
      if (settled) return;
      settled = true;
      if (ok) ready(ws);
      else failed();
      resolve(ok);
    };
    ws.on("message", (data) => {
      if (!settled) {
        settle(true); // the history
        return;
      }
      frame(data);
    });
    ws.on("error", (error) => {
      if (!settled) {
        noteConnectError(`${role}: ${error.message}`, false);
        settle(false);
      }
    });
    ws.on("close", (code) => {
      if (!shuttingDown) closed(code);
      if (!settled) noteConnectError(`${role} closed before ready (${code})`, false);
      settle(false);
    });
  });
}

// Whether a frame is an error frame (not one of presence's or typing's).
function isErrorFrame(data) {
  return data.indexOf('"type":"error"') !== -1 && extraKind(data) === NOT_EXTRA;
}

// Open typist `index`; resolve true once its history came, false if it
// failed first. A typist hears the room like a reader but counts nothing
// but error frames (answers to its typing notices).
function openTypist(index) {
  const url = withQuery(cfg.readerUrls[index % cfg.readerUrls.length]);
  return openLoggedIn("typist", url, cfg.typistCookies[index % cfg.typistCookies.length], {
    ready: (ws) => {
      typistsConnected += 1;
      typistSockets.push(ws);
    },
    failed: () => {
      typistConnectErrors += 1;
    },
    frame: (data) => {
      if (isErrorFrame(data)) {
        typistErrorFrames += 1;
        if (typistErrorSample === null) typistErrorSample = data.toString().slice(0, 300);
      }
    },
    closed: (code) => {
      closeCodes[`typist ${code}`] = (closeCodes[`typist ${code}`] || 0) + 1;
    },
  });
}

async function connectTypists() {
  typistConnectStart = now();
  let next = 0;
  const worker = async () => {
    while (next < cfg.typists) {
      const index = next;
      next += 1;
      await openTypist(index);
    }
  };
  const workers = [];
  for (let k = 0; k < Math.min(cfg.connectConcurrency, cfg.typists); k += 1) workers.push(worker());
  await Promise.all(workers);
  typistConnectEnd = now();
}

// From now until stopTyping(), typist i sends a typing notice first after
// i x interval / typists, then every interval (never sooner: a timer does
// not fire early, and the server relays one a person per 10 s).
function startTyping() {
  if (cfg.typingInterval <= 0 || typistSockets.length === 0) return;
  const interval = cfg.typingInterval * 1000;
  const frame = JSON.stringify({ type: "typing", room: cfg.room });
  typistSockets.forEach((ws, i) => {
    const type = () => {
      typingTimers.delete(timer);
      if (typingStopped || ws.readyState !== WebSocket.OPEN) return;
      ws.send(frame, onSendDone);
      typingSent += 1;
      timer = setTimeout(type, interval);
      typingTimers.add(timer);
    };
    let timer = setTimeout(type, (i * interval) / typistSockets.length);
    typingTimers.add(timer);
  });
}

function stopTyping() {
  typingStopped = true;
  for (const timer of typingTimers) clearTimeout(timer);
  typingTimers.clear();
}

function openSender() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(cfg.url, socketOptions(true, cfg.url));
    sockets.push(ws);
    let skip = cfg.dialect === "chat" || cfg.skipFirstFrame;
    let settled = false;
    ws.on("open", () => {
      if (!skip && !settled) {
        settled = true;
        resolve(ws);
      }
    });
    ws.on("message", (data) => {
      if (skip) {
        skip = false;
        if (!settled) {
          settled = true;
          resolve(ws);
        }
        return;
      }
      // The sender hears its own messages (ignored, unless mixed) and, in
      // the chat dialect, error frames for sends the server refused.
      if (cfg.dialect === "chat" && data.indexOf('"type":"error"') !== -1) {
        senderErrorFrames += 1;
        if (senderErrorSample === null) senderErrorSample = data.toString().slice(0, 300);
        return;
      }
      if (cfg.mix > 0) senderHeard(data);
    });
    ws.on("error", (error) => {
      if (!settled) {
        settled = true;
        reject(error);
      } else if (!shuttingDown) {
        sendErrors += 1;
      }
    });
    ws.on("close", (code) => {
      senderCloseCode = code;
      if (!settled) {
        settled = true;
        reject(new Error(`sender closed before ready (${code})`));
      }
    });
  });
}

// --- writers (writers mode) ---------------------------------------------------

// Open writer `index` on its room; resolve true once its history came. Its
// socket then hears its room: error frames count, and the broadcast of one
// of its own messages (its client_id "<runId>-<seq>") acknowledges it.
function openWriter(index) {
  const urls = cfg.roomUrls[index % ROOMS];
  const url = urls[Math.floor(index / ROOMS) % urls.length];
  return openLoggedIn("writer", url, cfg.writerCookies[index % cfg.writerCookies.length], {
    ready: (ws) => {
      writersConnected += 1;
      writerSockets[index] = ws;
    },
    failed: () => {
      writerConnectErrors += 1;
    },
    frame: (data) => {
      if (data.indexOf(OWN_ACK_TAG) !== -1) {
        writerHeard(data, index);
      } else if (isErrorFrame(data)) {
        writerErrorFrames += 1;
        if (writerErrorSample === null) writerErrorSample = data.toString().slice(0, 300);
      }
    },
    closed: (code) => {
      writerCloseCodes[code] = (writerCloseCodes[code] || 0) + 1;
    },
  });
}

const OWN_ACK_TAG = Buffer.from(`"client_id":"${cfg.runId}-`, "latin1");

function writerHeard(data, index) {
  let frame;
  try {
    frame = JSON.parse(data.toString());
  } catch {
    return;
  }
  const id = typeof frame.client_id === "string" ? frame.client_id : "";
  if (frame.type === "error") {
    writerErrorFrames += 1;
    if (writerErrorSample === null) writerErrorSample = data.toString().slice(0, 300);
    return;
  }
  if (frame.type !== "message" || !id.startsWith(OWN_MESSAGE)) return;
  const seq = Number(id.slice(OWN_MESSAGE.length));
  // Its own message only (the room's other writers' are no acknowledgement).
  if (!Number.isInteger(seq) || seq >= PLANNED || seq % W !== index || seqAcked[seq]) return;
  seqAcked[seq] = 1;
  ackLatencies[ackCount] = now() - seqSentAt[seq];
  ackCount += 1;
  if (ackCount === acksExpectedNow) checkAllDelivered();
}

async function connectWriters() {
  writerConnectStart = now();
  let next = 0;
  const worker = async () => {
    while (next < W) {
      const index = next;
      next += 1;
      await openWriter(index);
    }
  };
  const workers = [];
  for (let k = 0; k < Math.min(cfg.connectConcurrency, W); k += 1) workers.push(worker());
  await Promise.all(workers);
  writerConnectEnd = now();
}

// Message m at m / (writers x writerRate) s, by writer m % writers.
function sendWriters() {
  return new Promise((resolve) => {
    const start = performance.now();
    const total = W * cfg.writerRate;
    const tick = () => {
      const due = Math.min(PLANNED, Math.floor(((performance.now() - start) * total) / 1000) + 1);
      while (actionsSent < due) {
        const seq = actionsSent;
        actionsSent += 1;
        const ws = writerSockets[seq % W];
        if (!ws || ws.readyState !== WebSocket.OPEN) {
          writerSkipped += 1;
          continue;
        }
        const t = now();
        if (firstSend === 0) firstSend = t;
        lastSend = t;
        seqSent[seq] = 1;
        seqSentAt[seq] = t;
        ws.send(frameFor(seq, t), onSendDone);
        sent += 1;
        if (ws.bufferedAmount > maxBufferedAmount) maxBufferedAmount = ws.bufferedAmount;
      }
      if (actionsSent >= PLANNED) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
}

// Deliveries expected of the messages sent: each goes to its room's readers.
function writersExpected() {
  let expected = 0;
  for (let seq = 0; seq < PLANNED; seq += 1) {
    if (seqSent[seq]) expected += roomReady[seqRoom(seq)];
  }
  return expected;
}

function writersResult() {
  let lostAcked = 0;
  let messagesMissed = 0;
  let unackedDelivered = 0;
  for (let seq = 0; seq < PLANNED; seq += 1) {
    if (seqAcked[seq]) {
      const missing = roomReady[seqRoom(seq)] - seqDelivered[seq];
      lostAcked += missing;
      if (missing > 0) messagesMissed += 1;
    } else {
      unackedDelivered += seqDelivered[seq];
    }
  }
  const acks = ackLatencies.slice(0, ackCount).sort();
  let min = Infinity;
  let max = 0;
  for (const ready of roomReady) {
    min = Math.min(min, ready);
    max = Math.max(max, ready);
  }
  return {
    rooms: ROOMS,
    readersPerRoom: { min, max },
    wrongRoom,
    lostAcked,
    messagesMissed,
    unackedDelivered,
    writers: {
      configured: W,
      connected: writersConnected,
      connectSeconds:
        writerConnectEnd > 0 ? round3((writerConnectEnd - writerConnectStart) / 1000) : null,
      connectErrors: writerConnectErrors,
      writerRate: cfg.writerRate,
      skipped: writerSkipped,
      acked: ackCount,
      unacked: sent - ackCount,
      ackLatencyMs: {
        p50: percentile(acks, 0.5),
        p99: percentile(acks, 0.99),
        max: ackCount > 0 ? round3(acks[ackCount - 1]) : null,
      },
      errorFrames: writerErrorFrames,
      errorSample: writerErrorSample,
      closeCodes: writerCloseCodes,
    },
  };
}

// --- sending ------------------------------------------------------------------

const PAD = "x".repeat(Math.max(0, cfg.size));

function frameFor(seq, t) {
  const text = textFor(seq, t);
  if (cfg.dialect === "chat") {
    return JSON.stringify({ type: "message", text, client_id: `${cfg.runId}-${seq}` });
  }
  if (cfg.dialect === "tutorial") return JSON.stringify({ message: text });
  return text;
}

// Mixed: note the echoes of the sender's own frames; a message's echo makes
// it a target for edits and reactions.
const OWN_MESSAGE = `${cfg.runId}-`;
const OWN_EDIT = `e${cfg.runId}-`;
const OWN_REACTION = `r${cfg.runId}-`;

function senderHeard(data) {
  let frame;
  try {
    frame = JSON.parse(data.toString());
  } catch {
    return;
  }
  const id = typeof frame.client_id === "string" ? frame.client_id : "";
  if (typeof frame.seq === "number" && frame.seq > senderLastSeq) senderLastSeq = frame.seq;
  if (frame.type === "message" && id.startsWith(OWN_MESSAGE) && frame.message) {
    senderAcks.messages += 1;
    acked.push(frame.message.id);
  } else if (frame.type === "update" && id.startsWith(OWN_EDIT)) {
    senderAcks.edits += 1;
  } else if (frame.type === "update" && id.startsWith(OWN_REACTION)) {
    senderAcks.reactions += 1;
  }
  if (endSeq === 0) noteEnd();
}

function textFor(seq, t) {
  const head = `R${cfg.runId}#${seq}@${t.toFixed(3)}`;
  return head.length + 1 < cfg.size ? `${head} ${PAD.slice(0, cfg.size - head.length - 1)}` : head;
}

function recentAcked() {
  const from = Math.max(0, acked.length - cfg.mixRecent);
  return acked[from + Math.floor(Math.random() * (acked.length - from))];
}

// Mixed: send action number `actionsSent`; false if it must wait (an edit or
// a reaction before any message was acknowledged).
function sendAction(ws) {
  const k = actionsSent;
  if (k % cfg.mix !== cfg.mix - 1) {
    sendOne(ws);
    messagesSent += 1;
    return true;
  }
  if (acked.length === 0) return false;
  const t = now();
  const id = recentAcked();
  let frame;
  if (Math.floor(k / cfg.mix) % 2 === 0) {
    frame = JSON.stringify({ type: "edit", id, text: textFor(sent, t), client_id: `${OWN_EDIT}${editsSent}` });
    editSeq[sent] = 1;
    sent += 1;
    editsSent += 1;
  } else {
    const on = !reactionOn.get(id);
    reactionOn.set(id, on);
    frame = JSON.stringify({
      type: "react",
      id,
      emoji: "👍",
      on,
      client_id: `${OWN_REACTION}${reactionsSent}-${t.toFixed(3)}`,
    });
    reactionsSent += 1;
  }
  if (actionsSent === 0) firstSend = t;
  lastSend = t;
  actionsSent += 1;
  ws.send(frame, onSendDone);
  if (ws.bufferedAmount > maxBufferedAmount) maxBufferedAmount = ws.bufferedAmount;
  return true;
}

function onSendDone(error) {
  if (error) sendErrors += 1;
}

function sendOne(ws) {
  const t = now();
  if (actionsSent === 0) firstSend = t;
  lastSend = t;
  ws.send(frameFor(sent, t), onSendDone);
  sent += 1;
  actionsSent += 1;
  if (ws.bufferedAmount > maxBufferedAmount) maxBufferedAmount = ws.bufferedAmount;
}

function sendRate(ws) {
  return new Promise((resolve) => {
    const start = performance.now();
    const tick = () => {
      if (ws.readyState !== WebSocket.OPEN) {
        log(`sender closed after ${actionsSent} of ${ACTIONS}`);
        resolve();
        return;
      }
      const due = Math.min(ACTIONS, Math.floor(((performance.now() - start) * cfg.rate) / 1000) + 1);
      if (cfg.mix > 0) {
        while (actionsSent < due && sendAction(ws));
      } else {
        while (actionsSent < due) sendOne(ws);
      }
      if (actionsSent >= ACTIONS) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
}

function sendBurst(ws) {
  return new Promise((resolve) => {
    const pump = () => {
      while (sent < PLANNED) {
        if (ws.readyState !== WebSocket.OPEN) {
          log(`sender closed after ${sent} of ${PLANNED}`);
          resolve();
          return;
        }
        sendOne(ws);
        if (ws.bufferedAmount > cfg.burstHighWater) {
          // Wait until the socket took the backlog, then go on.
          waitDrain(ws, pump);
          return;
        }
      }
      resolve();
    };
    pump();
  });
}

// Resume `then` once the sender's TCP socket has drained.
function waitDrain(ws, then) {
  const socket = ws._socket;
  if (!socket || !socket.writableNeedDrain) {
    setImmediate(then);
    return;
  }
  let resumed = false;
  const resume = () => {
    if (resumed) return;
    resumed = true;
    setImmediate(then); // `then` sees a closed socket and stops
  };
  socket.once("drain", resume);
  ws.once("close", resume);
}

// --- results ------------------------------------------------------------------

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return round3(sorted[i]);
}

function measured() {
  const cpu = process.cpuUsage(measureCpu);
  const wall = (performance.now() - measureStart) / 1000;
  return {
    wallSeconds: round3(wall),
    cpuSeconds: round3((cpu.user + cpu.system) / 1e6),
    cpuBusy: wall > 0 ? round3((cpu.user + cpu.system) / 1e6 / wall) : null,
  };
}

// The histogram holds the timer's whole interval (resolution included).
function lag(ns) {
  return Number.isFinite(ns) ? round3(Math.max(0, ns / 1e6 - LOOP_RES)) : null;
}

function round3(x) {
  return Math.round(x * 1000) / 1000;
}

function result() {
  const n = Math.min(latCount, latencies.length);
  const sorted = latencies.slice(0, n).sort();
  const cpu = process.cpuUsage();
  const wall = (performance.now() - T0) / 1000;
  const expected = WRITERS_MODE ? writersExpected() : sent * connected;
  const span = lastDelivery > 0 && firstSend > 0 ? (lastDelivery - firstSend) / 1000 : 0;
  const un = Math.min(updateLatCount, updateLatencies.length);
  const updateSorted = updateLatencies.slice(0, un).sort();
  const en = Math.min(editLatCount, editLatencies.length);
  const editSorted = editLatencies.slice(0, en).sort();
  const mixed =
    cfg.mix > 0
      ? {
          mix: cfg.mix,
          actions: actionsSent,
          messagesSent,
          editsSent,
          reactionsSent,
          actionsPerSecond:
            actionsSent > 1 && lastSend > firstSend
              ? Math.round(((actionsSent - 1) * 1000) / (lastSend - firstSend))
              : null,
          senderAcks,
          updatesExpected: reactionsSent * connected,
          updatesReceived,
          updateDuplicates,
          updatesLost: reactionsSent * connected - updatesReceived,
          unexpectedUpdates,
          updateLatencyMs: {
            p50: percentile(updateSorted, 0.5),
            p90: percentile(updateSorted, 0.9),
            p99: percentile(updateSorted, 0.99),
            max: un > 0 ? round3(updateSorted[un - 1]) : null,
            sampled: updateLatCount > updateLatencies.length,
          },
          editLatencyMs: {
            p50: percentile(editSorted, 0.5),
            p99: percentile(editSorted, 0.99),
            max: en > 0 ? round3(editSorted[en - 1]) : null,
          },
          stream,
        }
      : {};
  loopDelay.disable();
  return {
    runId: cfg.runId,
    mode: cfg.mode,
    dialect: cfg.dialect,
    readers: N,
    connected,
    connectSeconds: connectEnd > 0 ? round3((connectEnd - connectStart) / 1000) : null,
    connectErrors,
    connectErrorSamples: Object.fromEntries(connectErrorSamples),
    sent,
    planned: PLANNED,
    sendSeconds: actionsSent > 1 ? round3((lastSend - firstSend) / 1000) : 0,
    expected,
    delivered,
    duplicates,
    lost: expected - delivered,
    unexpected,
    deliveredInWindow: cfg.mode === "idle" ? null : deliveredInWindow,
    deliveriesPerSecond: span > 0 ? Math.round(delivered / span) : null,
    latencyMs: {
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: n > 0 ? round3(sorted[n - 1]) : null,
      sampled: latCount > latencies.length,
    },
    ...mixed,
    ...(WRITERS_MODE ? writersResult() : {}),
    query: cfg.query,
    readerExtraFrames: extraFramesResult(),
    ...(cfg.typists > 0
      ? {
          typists: {
            configured: cfg.typists,
            connected: typistsConnected,
            connectSeconds:
              typistConnectEnd > 0 ? round3((typistConnectEnd - typistConnectStart) / 1000) : null,
            connectErrors: typistConnectErrors,
            typingInterval: cfg.typingInterval,
            typingSent,
            errorFrames: typistErrorFrames,
            errorSample: typistErrorSample,
          },
        }
      : {}),
    lastDeliveryAfterLastSendMs: lastDelivery > 0 && lastSend > 0 ? round3(lastDelivery - lastSend) : null,
    loadgenCpuSeconds: { user: round3(cpu.user / 1e6), system: round3(cpu.system / 1e6) },
    loadgenCpuBusy: round3((cpu.user + cpu.system) / 1e6 / wall),
    measure: measureCpu === null ? null : measured(),
    eventLoopLagMs: {
      p50: lag(loopDelay.percentile(50)),
      p99: lag(loopDelay.percentile(99)),
      max: lag(loopDelay.max),
    },
    wallSeconds: round3(wall),
    closeCodes,
    readerErrors: readerErrorsAfterReady,
    framesReceived,
    bytesReceived,
    sendErrors,
    senderCloseCode,
    senderErrorFrames,
    senderErrorSample,
    maxSendBufferedBytes: maxBufferedAmount,
    timedOut,
    error: fatal,
  };
}

// readerExtraFrames: {connect|after: {presence|presenceDiff|typing: {frames, bytes}}}
function extraFramesResult() {
  const out = {};
  ["connect", "after"].forEach((name, p) => {
    out[name] = {};
    EXTRA_KINDS.forEach((kind, k) => {
      out[name][kind] = { frames: extraFrames[p][k], bytes: extraBytes[p][k] };
    });
  });
  return out;
}

let finished = false;

function finish(code) {
  if (finished) return;
  finished = true;
  stopped = true;
  stopTyping();
  const out = JSON.stringify(result());
  shuttingDown = true;
  closeAll(() => {
    process.stdout.write(`${out}\n`, () => process.exit(code));
  });
}

function closeAll(done) {
  let open = 0;
  for (const ws of sockets) {
    if (ws.readyState === WebSocket.CLOSED) continue;
    open += 1;
    ws.once("close", () => {
      open -= 1;
      if (open === 0) done2();
    });
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    else ws.terminate();
  }
  let called = false;
  const timer = setTimeout(() => {
    for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    done2();
  }, Math.round(cfg.closeWait * 1000));
  function done2() {
    if (called) return;
    called = true;
    clearTimeout(timer);
    done();
  }
  if (open === 0) done2();
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// --- main ---------------------------------------------------------------------

async function main() {
  log(
    `run ${cfg.runId}: ${cfg.mode} ${cfg.dialect} ${N} readers, ${ACTIONS} sends` +
      (cfg.mix > 0 ? ` (${PLANNED} messages and edits, ${REACTIONS} reactions)` : "") +
      ` -> ${cfg.url}`,
  );
  await connectReaders();
  phase = 1;
  log(
    `READY ${JSON.stringify({ connected, connectErrors, connectSeconds: round3((connectEnd - connectStart) / 1000) })}`,
  );
  if (cfg.mode === "idle") {
    startMeasure();
    await sleep(cfg.duration * 1000);
    finish(0);
    return;
  }
  if (connected === 0 && N > 0) {
    fatal = "no reader became ready";
    finish(1);
    return;
  }
  if (WRITERS_MODE) {
    await connectWriters();
    log(`writers: ${writersConnected} of ${W} ready`);
    if (writersConnected === 0) {
      fatal = "no writer became ready";
      finish(1);
      return;
    }
    if (cfg.settle > 0) await sleep(cfg.settle * 1000);
    startMeasure();
    await sendWriters();
    windowDeadline = lastSend + 1000;
    expectedNow = writersExpected();
    acksExpectedNow = sent;
    log(`sent ${sent} in ${round3((lastSend - firstSend) / 1000)} s; grace ${cfg.grace} s`);
    await graceTime();
    finish(0);
    return;
  }
  if (cfg.typists > 0) {
    await connectTypists();
    log(`typists: ${typistsConnected} of ${cfg.typists} ready`);
    if (typistsConnected === 0) {
      fatal = "no typist became ready";
      finish(1);
      return;
    }
  }
  if (cfg.settle > 0) await sleep(cfg.settle * 1000);
  try {
    sender = await openSender();
    startMeasure();
  } catch (error) {
    fatal = `sender: ${error.message}`;
    log(fatal);
    finish(1);
    return;
  }
  startTyping();
  if (cfg.mode === "rate") await sendRate(sender);
  else await sendBurst(sender);
  stopTyping();
  windowDeadline = lastSend + 1000;
  expectedNow = sent * connected;
  updatesExpectedNow = reactionsSent * connected;
  log(`sent ${actionsSent} in ${round3((lastSend - firstSend) / 1000)} s; grace ${cfg.grace} s`);
  noteEnd();
  await graceTime();
  if (views !== null) {
    stopped = true;
    try {
      stream = await checkStream();
    } catch (error) {
      stream = { error: `${error.message || error}` };
    }
  }
  finish(0);
}

// Keep listening `grace` s, or (earlyExit) until everything expected came.
function graceTime() {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, cfg.grace * 1000);
    if (cfg.earlyExit) {
      onAllDelivered = () => {
        clearTimeout(timer);
        resolve();
      };
      checkAllDelivered();
    }
  });
}

setTimeout(() => {
  timedOut = true;
  fatal = fatal || `hard timeout after ${cfg.timeout} s`;
  log(fatal);
  finish(2);
}, cfg.timeout * 1000);

main().catch((error) => {
  fatal = `${error.stack || error}`;
  log(fatal);
  finish(1);
});
