// Live view: fMP4 fragments from /api/ws/live/<camera> into Media Source Extensions.
// The first message of a stream (and of every new stream after a camera reconnects) is
// JSON {type: "init", mime}, then the init segment; then one fragment per frame.
const video = document.getElementById("video");
const state = document.getElementById("state");
const camera = document.getElementById("camera").textContent;
const LIVE_EDGE_S = 1.0; // fall back this far behind and the player jumps forward

let source = null;
let buffer = null;
let queue = []; // {data, arrivalMs} waiting for the SourceBuffer
let appending = null;
let expectInit = null;
let skipping = false; // fell behind: drop frames until the next keyframe
// Milliseconds from a frame's arrival at the recorder to its append here (last 500),
// for bench/live.py; server and browser share a clock only on one machine.
window.kuzetLatencyMs = [];

function show(key) {
  state.textContent = state.dataset[key];
  state.dataset.state = key;
}

function pump() {
  if (!buffer || buffer.updating || queue.length === 0) return;
  appending = queue.shift();
  buffer.appendBuffer(appending.data);
}

function appended() {
  if (appending && appending.arrivalMs) {
    window.kuzetLatencyMs.push(Date.now() - appending.arrivalMs);
    if (window.kuzetLatencyMs.length > 500) window.kuzetLatencyMs.shift();
  }
  appending = null;
}

function keepUp() {
  const ranges = video.buffered;
  if (ranges.length === 0) return;
  const end = ranges.end(ranges.length - 1);
  if (end - video.currentTime > LIVE_EDGE_S) video.currentTime = end - 0.1;
  if (video.currentTime - ranges.start(0) > 30 && !buffer.updating) {
    buffer.remove(ranges.start(0), video.currentTime - 10);
  }
}

function start(mime, init) {
  if (buffer) { // a new stream on the same camera: same codec, appended in sequence
    queue.push({data: init, arrivalMs: 0});
    pump();
    return;
  }
  source = new MediaSource();
  video.src = URL.createObjectURL(source);
  source.addEventListener("sourceopen", () => {
    buffer = source.addSourceBuffer(mime);
    buffer.mode = "sequence";
    buffer.addEventListener("updateend", () => { appended(); keepUp(); pump(); });
    queue.unshift({data: init, arrivalMs: 0});
    pump();
    video.play().catch(() => {});
    show("playing");
  }, {once: true});
}

function connect() {
  const socket = new WebSocket(`wss://${location.host}/api/ws/live/${encodeURIComponent(camera)}`);
  socket.binaryType = "arraybuffer";
  show("connecting");
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      if (message.type === "init") expectInit = message.mime;
      return;
    }
    if (expectInit) {
      start(expectInit, event.data);
      expectInit = null;
      return;
    }
    const header = new DataView(event.data);
    const arrivalMs = Number(header.getBigUint64(0) / 1000000n);
    const keyframe = (header.getUint8(8) & 1) === 1;
    if (queue.length > 50) { // the decoder cannot keep up: never grow without bound
      queue = [];
      skipping = true;
    }
    if (skipping && !keyframe) return;
    skipping = false;
    queue.push({data: event.data.slice(9), arrivalMs});
    pump();
  };
  socket.onclose = (event) => {
    if (event.code === 1008) {
      show(event.reason.includes("session") || event.reason.includes("log in") ? "login" : "refused");
      return;
    }
    if (event.code === 1011) show("offline");
    setTimeout(connect, 1000); // dropped: reconnect and carry on from the live edge
  };
}

connect();
