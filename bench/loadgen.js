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
//   dialect           "chat" {"type":"message","text":T,"client_id":"<run>-<seq>"}
//                     | "tutorial" {"message":T} | "raw" T          (default chat)
//   readers           N reader sockets                              (default 100)
//   connectConcurrency  handshakes in flight at once                (default 200)
//   mode              "rate" | "burst" | "idle"                     (default rate)
//   rate, duration    rate mode: `rate` msg/s for `duration` s      (100, 5)
//   count             burst mode: messages sent back to back, waiting only
//                     when more than `burstHighWater` bytes are unsent (100)
//   duration          idle mode: seconds to hold the readers once ready
//   grace             s to keep listening after the last send          (5)
//   earlyExit         end the grace once all expected arrived        (true)
//   size              bytes of TEXT                                    (100)
//   skipFirstFrame    ignore each reader's first frame (the history) and
//                     count it ready only once it came (default: dialect chat)
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
  if (!["rate", "burst", "idle"].includes(c.mode)) {
    throw new Error("mode must be rate, burst or idle");
  }
  for (const key of [
    "readers", "connectConcurrency", "rate", "duration", "count", "grace", "size",
    "timeout", "handshakeTimeout", "maxPayload", "burstHighWater", "closeWait",
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
  // How many messages the sender will send.
  c.planned =
    c.mode === "rate" ? Math.round(c.rate * c.duration)
    : c.mode === "burst" ? Math.floor(c.count)
    : 0;
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
const PLANNED = cfg.planned;
const MARKER = Buffer.from(`R${cfg.runId}#`, "latin1");
const MARKER_LEN = MARKER.length;

// Latencies of unique deliveries. Never more than readers x planned; past
// LAT_CAP entries (256 MiB) it keeps a uniform reservoir sample.
const LAT_CAP = 64 * 1024 * 1024;
const latencies = new Float32Array(Math.max(1, Math.min(N * PLANNED, LAT_CAP)));
let latCount = 0; // entries in `latencies`

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

let sent = 0;
let sendErrors = 0;
let firstSend = 0;
let lastSend = 0;
let maxBufferedAmount = 0;
let senderCloseCode = null;
let senderErrorFrames = 0;
let senderErrorSample = null;
let sender = null;

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

function noteConnectError(message) {
  connectErrors += 1;
  const key = String(message).slice(0, 160);
  if (connectErrorSamples.has(key) || connectErrorSamples.size < 10) {
    connectErrorSamples.set(key, (connectErrorSamples.get(key) || 0) + 1);
  }
}

// --- receiving --------------------------------------------------------------

// Record every "R<runId>#<seq>@<ms>" in `buf` for reader `bits`, received at
// `t`. Equivalent to the regex /R<runId>#(\d+)@(\d+\.?\d*)/g over the frame.
function scan(buf, bits, t) {
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
    if (seq !== previous) record(bits, seq, t - sentAt, t);
    previous = seq;
    pos = buf.indexOf(MARKER, i);
  }
}

function record(bits, seq, latency, t) {
  if (seq >= PLANNED) {
    unexpected += 1;
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
  if (delivered === expectedNow && onAllDelivered !== null) onAllDelivered();
}

let expectedNow = -1; // sent x ready readers, once sending has ended
let onAllDelivered = null;

// --- connecting --------------------------------------------------------------

// The origin of the page that would open `url` ("ws://h:p/x" -> "http://h:p").
function pageOrigin(url) {
  const parsed = new URL(url);
  return `${parsed.protocol === "wss:" ? "https:" : "http:"}//${parsed.host}`;
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
  if (withCookie && cfg.cookie) options.headers = { Cookie: cfg.cookie };
  return options;
}

// Open reader `index`; resolve true once ready, false if it failed first.
function openReader(index) {
  return new Promise((resolve) => {
    const bits = new Uint8Array(Math.ceil(PLANNED / 8));
    let ws;
    try {
      const url = cfg.readerUrls[index % cfg.readerUrls.length];
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
    const settle = (ok) => {
      if (settled) return;
      settled = true;
      if (ok) connected += 1;
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
        settle(true);
        return;
      }
      if (stopped) return;
      scan(data, bits, now());
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
      // The sender hears its own messages (ignored) and, in the chat
      // dialect, error frames for sends the server refused.
      if (cfg.dialect === "chat" && data.indexOf('"type":"error"') !== -1) {
        senderErrorFrames += 1;
        if (senderErrorSample === null) senderErrorSample = data.toString().slice(0, 300);
      }
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

// --- sending ------------------------------------------------------------------

const PAD = "x".repeat(Math.max(0, cfg.size));

function frameFor(seq, t) {
  const head = `R${cfg.runId}#${seq}@${t.toFixed(3)}`;
  const text = head.length + 1 < cfg.size ? `${head} ${PAD.slice(0, cfg.size - head.length - 1)}` : head;
  if (cfg.dialect === "chat") {
    return JSON.stringify({ type: "message", text, client_id: `${cfg.runId}-${seq}` });
  }
  if (cfg.dialect === "tutorial") return JSON.stringify({ message: text });
  return text;
}

function onSendDone(error) {
  if (error) sendErrors += 1;
}

function sendOne(ws) {
  const t = now();
  if (sent === 0) firstSend = t;
  lastSend = t;
  ws.send(frameFor(sent, t), onSendDone);
  sent += 1;
  if (ws.bufferedAmount > maxBufferedAmount) maxBufferedAmount = ws.bufferedAmount;
}

function sendRate(ws) {
  return new Promise((resolve) => {
    const start = performance.now();
    const tick = () => {
      if (ws.readyState !== WebSocket.OPEN) {
        log(`sender closed after ${sent} of ${PLANNED}`);
        resolve();
        return;
      }
      const due = Math.min(PLANNED, Math.floor(((performance.now() - start) * cfg.rate) / 1000) + 1);
      while (sent < due) sendOne(ws);
      if (sent >= PLANNED) resolve();
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
  const expected = sent * connected;
  const span = lastDelivery > 0 && firstSend > 0 ? (lastDelivery - firstSend) / 1000 : 0;
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
    sendSeconds: sent > 1 ? round3((lastSend - firstSend) / 1000) : 0,
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

let finished = false;

function finish(code) {
  if (finished) return;
  finished = true;
  stopped = true;
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
    `run ${cfg.runId}: ${cfg.mode} ${cfg.dialect} ${N} readers, ${PLANNED} messages -> ${cfg.url}`,
  );
  await connectReaders();
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
  try {
    sender = await openSender();
    startMeasure();
  } catch (error) {
    fatal = `sender: ${error.message}`;
    log(fatal);
    finish(1);
    return;
  }
  if (cfg.mode === "rate") await sendRate(sender);
  else await sendBurst(sender);
  windowDeadline = lastSend + 1000;
  expectedNow = sent * connected;
  log(`sent ${sent} in ${round3((lastSend - firstSend) / 1000)} s; grace ${cfg.grace} s`);
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, cfg.grace * 1000);
    if (cfg.earlyExit) {
      onAllDelivered = () => {
        clearTimeout(timer);
        resolve();
      };
      if (delivered >= expectedNow) onAllDelivered();
    }
  });
  finish(0);
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
