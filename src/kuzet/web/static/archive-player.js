// One camera's archive playback: fragments of the stored files over
// /api/ws/archive/<camera>, placed on one timeline (media time 0 = the server's "origin"
// instant) in a SourceBuffer in "segments" mode; gaps are holes the player jumps over.
// A dropped socket is opened again at the instant on screen.
const RETRY_MS = [500, 1000, 2000, 4000, 8000];

export class ArchivePlayer {
  // onNotice(key) is told "gap", "refused", "reconnecting", "end", "none" or "nothing"
  // (no footage from the asked instant on; `nearestNs` is where the nearest before ends).
  constructor(video, camera, onNotice) {
    this.video = video;
    this.camera = camera;
    this.onNotice = onNotice;
    this.notice = "none";
    this.origin = null; // ns at media time 0; null until the server says
    this.purpose = "";
    this.socket = null;
    this.speed = 1;
    this.retries = 0;
    video.addEventListener("waiting", () => this.overGap());
  }

  say(key) {
    this.notice = key;
    this.onNotice(key);
  }

  // Media time to wall time (ns), or null before the first fragment.
  get ns() {
    return this.origin === null ? null : this.origin + this.video.currentTime * 1e9;
  }

  open(startNs, purpose) {
    this.close();
    this.purpose = purpose;
    this.startNs = startNs;
    this.buffer = null; // a new instant: a new timeline
    this.queue = [];
    this.origin = null;
    this.target = null;
    this.pendingInit = null;
    this.ended = false;
    if (this.notice !== "reconnecting") this.say("none");
    this.video.removeAttribute("src");
    this.video.load();
    const start = new Date(Math.round(startNs / 1e6)).toISOString();
    const query = new URLSearchParams({start, purpose});
    const socket = new WebSocket(`wss://${location.host}/api/ws/archive/` +
                                 `${encodeURIComponent(this.camera)}?${query}`);
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => { this.retries = 0; };
    socket.onmessage = (e) => this.receive(e.data);
    socket.onclose = (e) => {
      if (this.socket !== socket) return; // closed on purpose
      if (e.code === 1008) {
        this.say("refused");
      } else if (!this.ended) {
        this.reconnect();
      }
    };
  }

  reconnect() {
    const at = this.ns ?? this.startNs;
    const wait = RETRY_MS[Math.min(this.retries, RETRY_MS.length - 1)];
    this.retries += 1;
    this.say("reconnecting");
    const socket = this.socket;
    setTimeout(() => {
      if (this.socket === socket) this.open(at, this.purpose);
    }, wait);
  }

  close() {
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
  }

  receive(data) {
    if (typeof data === "string") {
      const message = JSON.parse(data);
      if (message.type === "start") {
        this.origin = message.origin_ns;
        this.target = (this.startNs - this.origin) / 1e9;
        if (this.notice === "reconnecting") this.say("none");
      } else if (message.type === "gap" || message.type === "missing") {
        this.say("gap");
      } else if (message.type === "nothing") {
        this.nearestNs = message.nearest_before_ns;
        this.say("nothing");
      } else if (message.type === "end") {
        this.ended = true;
      } else if (message.type === "init") {
        this.pendingInit = message;
        if (!this.buffer && !this.video.src) this.setup(message.mime);
      }
      return;
    }
    if (this.pendingInit) {
      this.queue.push({data, offset: this.pendingInit.offset_s});
      this.pendingInit = null;
    } else {
      this.queue.push({data});
    }
    this.pump();
  }

  setup(mime) {
    const source = new MediaSource();
    this.video.src = URL.createObjectURL(source);
    source.addEventListener("sourceopen", () => {
      this.buffer = source.addSourceBuffer(mime);
      this.buffer.mode = "segments";
      this.buffer.addEventListener("updateend", () => {
        if (this.target !== null && this.video.buffered.length) {
          this.video.currentTime = this.target;
          this.target = null;
          this.video.playbackRate = this.speed;
          this.video.play().catch(() => {});
        } else if (this.video.readyState < HTMLMediaElement.HAVE_FUTURE_DATA) {
          this.overGap(); // stalled at a hole before the footage after it arrived
        }
        this.pump();
      });
      this.pump();
    }, {once: true});
  }

  pump() {
    if (!this.buffer || this.buffer.updating || this.queue.length === 0) return;
    const item = this.queue.shift();
    if (item.offset !== undefined) this.buffer.timestampOffset = item.offset;
    this.buffer.appendBuffer(item.data);
  }

  overGap() { // a hole in the buffer: a gap or a missing file
    const ranges = this.video.buffered;
    for (let i = 0; i < ranges.length; i++) {
      if (ranges.start(i) > this.video.currentTime + 0.01) {
        this.video.currentTime = ranges.start(i);
        this.say("gap");
        return;
      }
    }
    if (this.ended) this.say("end");
  }

  setSpeed(speed) {
    this.speed = speed;
    this.video.playbackRate = speed;
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({speed}));
    }
  }

  // Show the instant `ns` if it is buffered; otherwise (when `reopen`) open it there.
  seek(ns, reopen) {
    if (this.origin !== null) {
      const t = (ns - this.origin) / 1e9;
      const ranges = this.video.buffered;
      for (let i = 0; i < ranges.length; i++) {
        if (ranges.start(i) <= t && t < ranges.end(i)) {
          this.video.currentTime = t;
          return;
        }
      }
    }
    if (reopen && this.purpose) this.open(ns, this.purpose);
  }
}
