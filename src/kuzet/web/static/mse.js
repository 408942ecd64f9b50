// What the live and the archive player share: a SourceBuffer fed one piece at a time and
// kept bounded (SourceQueue), and the socket the pieces come over, opened again after a
// drop (Link). Each player keeps its own protocol: what the messages mean, when to seek.
const TRIM_AFTER_S = 30; // played media still buffered behind the playhead before a trim
const KEEP_S = 10; // what a trim keeps behind it: a jump back of 10 s, and the GOP on screen
// (a removal that reaches into the GOP being shown takes the rest of that GOP with it)

// To the edition of the regulation the account owes its acknowledgement, and back.
export function toAcquaint() {
  location.assign(`/acquaint?next=${encodeURIComponent(location.pathname + location.search)}`);
}

export class SourceQueue {
  // A new MediaSource on `video`, with one SourceBuffer of `mime` in `mode` ("sequence":
  // each piece after the last; "segments": at its own times plus `timestampOffset`).
  // push({data, offset?, ...}) appends `data` (at `offset`, when given) once the pieces
  // before it are in; onOpen() is called once the buffer exists, onAppended(piece) after
  // each piece is in.
  constructor(video, mime, mode, {onOpen = () => {}, onAppended}) {
    this.video = video;
    this.queue = [];
    this.buffer = null;
    this.appending = null;
    this.closed = false;
    const source = new MediaSource();
    this.url = URL.createObjectURL(source);
    video.src = this.url;
    source.addEventListener("sourceopen", () => {
      URL.revokeObjectURL(this.url); // attached: the URL has done its work
      if (this.closed) return; // detached while its opening was on its way
      this.buffer = source.addSourceBuffer(mime);
      this.buffer.mode = mode;
      this.buffer.addEventListener("updateend", () => {
        if (this.closed) return; // the update that detaching aborted
        const piece = this.appending;
        this.appending = null;
        if (piece) onAppended(piece);
        const ranges = video.buffered;
        const trimmed = ranges.length > 0 &&
          video.currentTime - ranges.start(0) > TRIM_AFTER_S && this.trim();
        if (!trimmed) this.pump(); // else the trim's own updateend pumps
      });
      onOpen();
      this.pump();
    }, {once: true});
  }

  get waiting() {
    return this.queue.length;
  }

  push(piece) {
    this.queue.push(piece);
    this.pump();
  }

  clear() { // drops what waits, not what is buffered
    this.queue = [];
  }

  close() { // detaches the MediaSource from the video: what it buffered goes with it
    this.closed = true;
    this.buffer = null;
    this.queue = [];
    URL.revokeObjectURL(this.url);
    this.video.removeAttribute("src");
    this.video.load();
  }

  pump() {
    if (!this.buffer || this.buffer.updating || this.queue.length === 0) return;
    const piece = this.queue.shift();
    if (piece.offset !== undefined) this.buffer.timestampOffset = piece.offset;
    try {
      this.buffer.appendBuffer(piece.data);
    } catch (error) {
      if (error.name !== "QuotaExceededError") throw error;
      // Full (what is ahead of the playhead fills the browser's quota): make room behind
      // it, or wait for the playhead to move on, and try the same piece again. Chromium
      // with its quota cut to 2 MB, 90 one-second fragments pushed while paused: 11 went
      // in, the other 79 as playback at 8x made room (10.2 s); uncaught, the piece was lost.
      this.queue.unshift(piece);
      if (!this.trim()) this.video.addEventListener("timeupdate", () => this.pump(), {once: true});
      return;
    }
    this.appending = piece;
  }

  // Removes what lies more than KEEP_S behind the playhead; false when nothing does.
  trim() {
    const ranges = this.video.buffered;
    const to = this.video.currentTime - KEEP_S;
    if (ranges.length === 0 || ranges.start(0) >= to) return false;
    this.buffer.remove(ranges.start(0), to);
    return true;
  }
}

export class Link {
  // A socket to /api/ws/<path> (binary messages as ArrayBuffer). path() is asked at each
  // opening, so an owner can resume where it is and reset what a new socket starts
  // afresh; onDrop(event) hears each close the page did not ask for and answers whether
  // to open again (not after a refusal), after the waits in `waitsMs`, longer with each
  // failed try and from the first again once a socket opens.
  constructor(path, onMessage, onDrop, waitsMs) {
    this.path = path;
    this.onMessage = onMessage;
    this.onDrop = onDrop;
    this.waitsMs = waitsMs;
    this.socket = null;
    this.timer = null;
    this.tries = 0;
  }

  open() {
    this.close();
    const socket = new WebSocket(`wss://${location.host}/api/ws/${this.path()}`);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => { this.tries = 0; };
    socket.onmessage = (event) => this.onMessage(event.data);
    socket.onclose = (event) => {
      this.socket = null;
      // the server closed it for the session's screen lock: api.js covers the page
      if (event.reason.startsWith("the screen is locked")) dispatchEvent(new Event("kuzet-locked"));
      // an edition of the regulation came into force: read it first (UE-10-22 3.4.7)
      if (event.reason.includes("to be acknowledged")) toAcquaint();
      if (!this.onDrop(event)) return;
      const wait = this.waitsMs[Math.min(this.tries, this.waitsMs.length - 1)];
      this.tries += 1;
      this.timer = setTimeout(() => this.open(), wait);
    };
    this.socket = socket;
  }

  close() { // on purpose: no onDrop, and a retry on its way is called off
    clearTimeout(this.timer);
    if (!this.socket) return;
    this.socket.onclose = null;
    this.socket.close();
    this.socket = null;
  }

  send(message) { // JSON, while the socket is open
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}
