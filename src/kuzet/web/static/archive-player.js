// One camera's archive playback: fragments of the stored files over
// /api/ws/archive/<camera>, placed on one timeline (media time 0 = the server's "origin"
// instant) in a SourceBuffer in "segments" mode; gaps are holes the player jumps over.
// A dropped socket is opened again at the instant on screen.
import {Link, SourceQueue} from "/static/mse.js";

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
    this.pipe = null; // a SourceQueue from the first init segment of an opening on
    this.speed = 1;
    this.link = new Link(() => this.opening(), (data) => this.receive(data),
                         (event) => this.dropped(event), RETRY_MS);
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
    this.purpose = purpose;
    this.startNs = startNs;
    this.link.open();
  }

  opening() { // a new instant: a new timeline
    if (this.pipe) this.pipe.close();
    this.pipe = null;
    this.origin = null;
    this.target = null;
    this.pendingInit = null;
    this.ended = false;
    if (this.notice !== "reconnecting") this.say("none");
    const start = new Date(Math.round(this.startNs / 1e6)).toISOString();
    // the speed too: a jump or a reconnection keeps it, and the server paces and audits it
    const query = new URLSearchParams({start, purpose: this.purpose, speed: this.speed});
    return `archive/${encodeURIComponent(this.camera)}?${query}`;
  }

  dropped(event) {
    if (event.code === 1008) {
      this.say("refused");
      return false;
    }
    if (this.ended) return false;
    this.startNs = this.ns ?? this.startNs; // opened again at the instant on screen
    this.say("reconnecting");
    return true;
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
        this.pipe ??= new SourceQueue(this.video, message.mime, "segments",
                                      {onAppended: () => this.appended()});
      }
      return;
    }
    if (this.pendingInit) { // each file's init segment, placed at the file's start
      this.pipe.push({data, offset: this.pendingInit.offset_s});
      this.pendingInit = null;
    } else {
      this.pipe.push({data});
    }
  }

  appended() {
    if (this.target !== null && this.video.buffered.length) {
      this.video.currentTime = this.target;
      this.target = null;
      this.video.playbackRate = this.speed;
      this.video.play().catch(() => {});
    } else if (this.video.readyState < HTMLMediaElement.HAVE_FUTURE_DATA) {
      this.overGap(); // stalled at a hole before the footage after it arrived
    }
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
    this.link.send({speed});
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
