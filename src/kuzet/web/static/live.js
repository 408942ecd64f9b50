// Live view: fMP4 fragments from /api/ws/live/<camera> into Media Source Extensions.
// The first message of a stream (and of every new stream after a camera reconnects) is
// JSON {type: "init", mime}, then the init segment; then one fragment per frame.
const video = document.getElementById("video");
const state = document.getElementById("state");
const camera = document.getElementById("camera").textContent;
const LIVE_EDGE_S = 1.0; // fall back this far behind and the player jumps forward

let source = null;
let buffer = null;
let queue = [];
let expectInit = null;

function show(key) {
  state.textContent = state.dataset[key];
  state.dataset.state = key;
}

function pump() {
  if (!buffer || buffer.updating || queue.length === 0) return;
  buffer.appendBuffer(queue.shift());
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
    queue.push(init);
    pump();
    return;
  }
  source = new MediaSource();
  video.src = URL.createObjectURL(source);
  source.addEventListener("sourceopen", () => {
    buffer = source.addSourceBuffer(mime);
    buffer.mode = "sequence";
    buffer.addEventListener("updateend", () => { keepUp(); pump(); });
    queue.unshift(init);
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
    queue.push(event.data);
    if (queue.length > 100) queue = queue.slice(-25); // never grow without bound
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
