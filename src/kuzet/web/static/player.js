// A live player: fMP4 fragments from /api/ws/live/<camera> into Media Source Extensions.
// The first message of a stream (and of every new stream after a camera reconnects) is
// JSON {type: "init", mime}, then the init segment; then per frame 8 bytes of arrival
// time (ns), 1 byte of flags (1: keyframe) and the fragment.
const LIVE_EDGE_S = 1.0; // fall back this far behind and the player jumps forward
const MAX_QUEUE = 50; // fragments waiting for the SourceBuffer before it skips ahead

export class LivePlayer {
  // onState(name) is told "connecting", "playing", "fallback" (playing the sub stream
  // because this browser cannot decode the main one), "unsupported", "refused", "login",
  // "offline" or "removed" (the camera was removed while watched: the player stops).
  // stream: "main" (single view) or "sub" (grid tiles; the server sends the main stream
  // of a camera that has no sub stream).
  constructor(video, camera, onState, stream = "main") {
    this.video = video;
    this.camera = camera;
    this.onState = onState;
    this.stream = stream;
    this.fellBack = false;
    this.buffer = null;
    this.queue = []; // {data, arrivalMs}
    this.appending = null;
    this.expectInit = null;
    this.skipping = false;
    this.closed = false;
    this.latencyMs = []; // arrival at the recorder -> appended here, last 500 frames
    this.connect();
  }

  close() {
    this.closed = true;
    if (this.socket) this.socket.close();
  }

  connect() {
    const url = `wss://${location.host}/api/ws/live/${encodeURIComponent(this.camera)}` +
                `?stream=${this.stream}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    this.onState("connecting");
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => {
      if (this.closed) return;
      if (event.code === 1008) {
        this.onState(/session|log in/.test(event.reason) ? "login" : "refused");
        return;
      }
      if (event.code === 4004) {
        this.onState("removed");
        return;
      }
      if (event.code === 1011) this.onState("offline");
      setTimeout(() => this.connect(), 1000); // dropped: carry on from the live edge
    };
  }

  receive(data) {
    if (typeof data === "string") {
      const message = JSON.parse(data);
      if (message.type === "stream") this.served = message.stream;
      if (message.type === "init") this.expectInit = message.mime;
      if (message.type === "init" && !MediaSource.isTypeSupported(message.mime)) {
        this.cannotDecode();
      }
      return;
    }
    if (this.expectInit) {
      this.start(this.expectInit, data);
      this.expectInit = null;
      return;
    }
    const header = new DataView(data);
    const arrivalMs = Number(header.getBigUint64(0) / 1000000n);
    const keyframe = (header.getUint8(8) & 1) === 1;
    if (this.queue.length > MAX_QUEUE) { // the decoder cannot keep up: never grow
      this.queue = [];
      this.skipping = true;
    }
    if (this.skipping && !keyframe) return;
    this.skipping = false;
    this.queue.push({data: data.slice(9), arrivalMs});
    this.pump();
  }

  // This browser cannot decode the stream (H.265 in most browsers): take the sub stream,
  // and say so; when that one is what failed too, give up and say that.
  cannotDecode() {
    const socket = this.socket;
    this.socket = null;
    socket.onclose = null;
    socket.close();
    this.expectInit = null;
    if (this.served === "main" && this.stream === "main") {
      this.stream = "sub";
      this.fellBack = true;
      this.connect();
    } else {
      this.closed = true;
      this.onState("unsupported");
    }
  }

  start(mime, init) {
    if (this.buffer) { // a new stream on the same camera, appended in sequence
      this.queue.push({data: init, arrivalMs: 0});
      this.pump();
      return;
    }
    const source = new MediaSource();
    this.video.src = URL.createObjectURL(source);
    source.addEventListener("sourceopen", () => {
      this.buffer = source.addSourceBuffer(mime);
      this.buffer.mode = "sequence";
      this.buffer.addEventListener("updateend", () => {
        this.appended();
        this.keepUp();
        this.pump();
      });
      this.queue.unshift({data: init, arrivalMs: 0});
      this.pump();
      this.video.play().catch(() => {});
      this.onState(this.fellBack ? "fallback" : "playing");
    }, {once: true});
  }

  pump() {
    if (!this.buffer || this.buffer.updating || this.queue.length === 0) return;
    this.appending = this.queue.shift();
    this.buffer.appendBuffer(this.appending.data);
  }

  appended() {
    if (this.appending && this.appending.arrivalMs) {
      this.latencyMs.push(Date.now() - this.appending.arrivalMs);
      if (this.latencyMs.length > 500) this.latencyMs.shift();
    }
    this.appending = null;
  }

  keepUp() {
    const ranges = this.video.buffered;
    if (ranges.length === 0) return;
    const end = ranges.end(ranges.length - 1);
    if (end - this.video.currentTime > LIVE_EDGE_S) this.video.currentTime = end - 0.1;
    if (this.video.currentTime - ranges.start(0) > 30 && !this.buffer.updating) {
      this.buffer.remove(ranges.start(0), this.video.currentTime - 10);
    }
  }
}
