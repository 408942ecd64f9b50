// Archive playback: fragments of the stored files over /api/ws/archive/<camera>, placed
// on one timeline (media time 0 = the server's "origin" instant) in a SourceBuffer in
// "segments" mode; gaps are holes the player jumps over. Times shown in Asia/Almaty.
const video = document.getElementById("video");
const form = document.getElementById("open");
const clock = document.getElementById("clock");
const notice = document.getElementById("notice");
const camera = document.getElementById("camera").textContent;
const zone = "Asia/Almaty";
const format = new Intl.DateTimeFormat(document.documentElement.lang, {
  timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"});

let socket = null;
let buffer = null;
let queue = []; // {data, offset?}
let origin = null; // ns, Number (sub-microsecond precision is not needed on screen)
let target = null; // seconds on the media timeline to start at
let pendingInit = null;
let speed = 1;

function almatyNow(secondsAgo) { // "2026-11-27T14:03:05+05:00"
  const t = new Date(Date.now() - secondsAgo * 1000);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "longOffset"})
    .formatToParts(t).map((p) => [p.type, p.value]));
  const offset = parts.timeZoneName.replace("GMT", "") || "+00:00";
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:` +
         `${parts.second}${offset}`;
}
form.elements.start.value = almatyNow(60);

function pump() {
  if (!buffer || buffer.updating || queue.length === 0) return;
  const item = queue.shift();
  if (item.offset !== undefined) buffer.timestampOffset = item.offset;
  buffer.appendBuffer(item.data);
}

function setup(mime) {
  const source = new MediaSource();
  video.src = URL.createObjectURL(source);
  source.addEventListener("sourceopen", () => {
    buffer = source.addSourceBuffer(mime);
    buffer.mode = "segments";
    buffer.addEventListener("updateend", () => {
      if (target !== null && video.buffered.length) {
        video.currentTime = target;
        target = null;
        video.playbackRate = speed;
        video.play().catch(() => {});
      }
      pump();
    });
    pump();
  }, {once: true});
}

function show(key) {
  notice.textContent = notice.dataset[key] || "";
  notice.dataset.state = key;
}

function receive(data, startNs) {
  if (typeof data === "string") {
    const message = JSON.parse(data);
    if (message.type === "start") {
      origin = message.origin_ns;
      target = (startNs - origin) / 1e9;
    } else if (message.type === "gap" || message.type === "missing") {
      show("gap");
    } else if (message.type === "init") {
      pendingInit = message;
      if (!buffer && !video.src) setup(message.mime);
    }
    return;
  }
  if (pendingInit) {
    queue.push({data, offset: pendingInit.offset_s});
    pendingInit = null;
  } else {
    queue.push({data});
  }
  pump();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (socket) socket.close();
  buffer = null; // a new instant: a new timeline
  queue = [];
  origin = null;
  pendingInit = null;
  video.removeAttribute("src");
  video.load();
  show("none");
  delete clock.dataset.ns;
  clock.textContent = "";
  const data = Object.fromEntries(new FormData(form));
  const startNs = Date.parse(data.start) * 1e6;
  const query = new URLSearchParams({start: data.start, purpose: data.purpose});
  socket = new WebSocket(`wss://${location.host}/api/ws/archive/` +
                         `${encodeURIComponent(camera)}?${query}`);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (e) => receive(e.data, startNs);
  socket.onclose = (e) => { if (e.code === 1008) show("refused"); };
});

video.addEventListener("timeupdate", () => {
  if (origin === null) return;
  const ns = origin + video.currentTime * 1e9;
  clock.textContent = format.format(new Date(ns / 1e6));
  clock.dataset.ns = String(ns);
});

video.addEventListener("waiting", () => { // a hole in the buffer: a gap or a missing file
  const ranges = video.buffered;
  for (let i = 0; i < ranges.length; i++) {
    if (ranges.start(i) > video.currentTime + 0.01) {
      video.currentTime = ranges.start(i);
      show("gap");
      return;
    }
  }
});

for (const button of document.querySelectorAll("[data-speed]")) {
  button.addEventListener("click", () => {
    speed = Number(button.dataset.speed);
    video.playbackRate = speed;
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({speed}));
  });
}
for (const button of document.querySelectorAll("[data-jump]")) {
  button.addEventListener("click", () => { video.currentTime += Number(button.dataset.jump); });
}
document.getElementById("frame").addEventListener("click", () => {
  video.pause();
  video.currentTime += 1 / 25; // one frame of a 25 fps camera
});
document.getElementById("snapshot").addEventListener("click", async () => {
  if (!clock.dataset.ns) return;
  const at = new Date(Number(clock.dataset.ns) / 1e6).toISOString();
  const query = new URLSearchParams({at, purpose: form.elements.purpose.value});
  const response = await fetch(`/api/cameras/${encodeURIComponent(camera)}/snapshot?${query}`);
  if (!response.ok) {
    show("refused");
    return;
  }
  const link = document.createElement("a"); // stamped and audited by the server
  link.href = URL.createObjectURL(await response.blob());
  link.download = `${camera}-${at.replace(/[:.]/g, "-")}.png`;
  link.click();
});
document.getElementById("pause").addEventListener("click", () => {
  if (video.paused) video.play(); else video.pause();
});
