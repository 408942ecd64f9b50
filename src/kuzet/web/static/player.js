// A live player: fMP4 fragments from /api/ws/live/<camera> into Media Source Extensions.
// The first message of a stream (and of every new stream after a camera reconnects) is
// JSON {type: "init", mime}, then the init segment; then per frame 8 bytes of arrival
// time (ns), 1 byte of flags (1: keyframe) and the fragment.
import {Link, SourceQueue} from "/static/mse.js";

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
    this.pipe = null; // a SourceQueue from the first init segment on
    this.expectInit = null;
    this.skipping = false;
    this.latencyMs = []; // arrival at the recorder -> appended here, last 500 frames
    // A dropped socket is opened again after 1 s, carrying on from the live edge.
    this.link = new Link(() => this.opening(), (data) => this.receive(data),
                         (event) => this.dropped(event), [1000]);
    this.link.open();
  }

  close() {
    this.link.close();
  }

  opening() {
    this.onState("connecting");
    return `live/${encodeURIComponent(this.camera)}?stream=${this.stream}`;
  }

  dropped(event) {
    if (event.code === 1008) {
      this.onState(/session|log in/.test(event.reason) ? "login" : "refused");
      return false;
    }
    if (event.code === 4004) {
      this.onState("removed");
      return false;
    }
    if (event.code === 1011) this.onState("offline");
    return true;
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
    if (this.pipe.waiting > MAX_QUEUE) { // the decoder cannot keep up: never grow
      this.pipe.clear();
      this.skipping = true;
    }
    if (this.skipping && !keyframe) return;
    this.skipping = false;
    this.pipe.push({data: data.slice(9), arrivalMs});
  }

  // This browser cannot decode the stream (H.265 in most browsers): take the sub stream,
  // and say so; when that one is what failed too, give up and say that.
  cannotDecode() {
    this.expectInit = null;
    if (this.served === "main" && this.stream === "main") {
      this.stream = "sub";
      this.fellBack = true;
      this.link.open();
    } else {
      this.link.close();
      this.onState("unsupported");
    }
  }

  start(mime, init) {
    // A new stream on the same camera (it reconnected) goes on in the same buffer: in
    // "sequence" mode it simply continues.
    this.pipe ??= new SourceQueue(this.video, mime, "sequence", {
      onOpen: () => {
        this.video.play().catch(() => {});
        this.onState(this.fellBack ? "fallback" : "playing");
      },
      onAppended: (fragment) => this.appended(fragment),
    });
    this.pipe.push({data: init, arrivalMs: 0});
  }

  appended(fragment) {
    if (fragment.arrivalMs) {
      this.latencyMs.push(Date.now() - fragment.arrivalMs);
      if (this.latencyMs.length > 500) this.latencyMs.shift();
    }
    const ranges = this.video.buffered;
    if (ranges.length === 0) return;
    const end = ranges.end(ranges.length - 1);
    if (end - this.video.currentTime > LIVE_EDGE_S) this.video.currentTime = end - 0.1;
  }
}
