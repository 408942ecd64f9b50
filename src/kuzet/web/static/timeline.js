// The archive's timeline: one row per camera over a shared window that zooms from 24 h to
// 1 min. Each row draws what /api/cameras/<camera>/timeline says: recorded spans, files
// missing on disk, held ranges and bookmarks; what is not drawn was not recorded (a gap).
// Over them, the camera's motion activity (/activity, a bar per bucket, height by the
// square root of the share of the picture that moved, so a person far away still shows)
// and its detection events (/api/events), each of which plays from just before it.
// Clicking a row asks the page to play from that instant. By keyboard the timeline is a
// slider (issue 21 item 12): the arrows move a cursor of its own by a step of the zoom
// (Page Up/Down ten steps, Home/End the window's ends), Enter plays from it, + and −
// zoom around it; its instant, in the display time zone, is the slider's spoken value.
import {clockFormat, timeFormat} from "/static/zone.js";

const ACTIVITY_BUCKETS = 300;
const EVENT_LEAD_NS = 2e9;
export const ZOOMS_S = [86400, 21600, 3600, 600, 60];
const TICKS_S = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800];
const KEY_STEP_S = {86400: 1800, 21600: 600, 3600: 60, 600: 10, 60: 1}; // by window span

// The timeline's last answers, by address, kept in this page's memory only (the server
// says no-store: nothing of them stays on a shared console's disk). Asked again with
// their ETag, an unchanged window comes back 304 without a body.
const TAGGED_KEPT = 64;
const tagged = new Map();

async function revalidated(url) {
  const known = tagged.get(url);
  const response = await fetch(url, known ? {headers: {"if-none-match": known.etag}} : {});
  if (response.status === 304 && known) return known.body;
  if (!response.ok) return null;
  const body = await response.json();
  const etag = response.headers.get("etag");
  tagged.delete(url);
  if (etag) tagged.set(url, {etag, body});
  if (tagged.size > TAGGED_KEPT) tagged.delete(tagged.keys().next().value);
  return body;
}

export class Timeline {
  // labels: {missing, unavailable, hold}; onPick(ns): an instant clicked. Instants are shown in the
  // display time zone (zone.js).
  constructor(root, cameras, {labels, onPick}) {
    this.root = root;
    this.cameras = cameras;
    this.labels = labels;
    this.onPick = onPick;
    this.spanS = ZOOMS_S[0];
    this.centerMs = Date.now() - this.spanS * 500;
    this.cursorNs = null;
    this.loading = null;
    this.label = timeFormat; // "18:19:41", the display zone's 24-hour clock
    this.axis = document.createElement("div");
    this.axis.className = "axis";
    this.rows = cameras.map((camera) => this.row(camera));
    this.cursor = document.createElement("div");
    this.cursor.className = "cursor";
    this.cursor.hidden = true;
    this.pick = document.createElement("div"); // the keyboard's cursor
    this.pick.className = "pick";
    this.pick.hidden = true;
    this.pickMs = null;
    this.spoken = clockFormat; // day.month.year, 24-hour, in every language (issue 21)
    root.tabIndex = 0;
    root.setAttribute("role", "slider");
    root.setAttribute("aria-label", labels.name || "");
    root.addEventListener("keydown", (event) => this.key(event));
    root.replaceChildren(this.axis, ...this.rows.map((r) => r.element));
    root.addEventListener("wheel", (event) => {
      event.preventDefault();
      const track = this.rows[0].track.getBoundingClientRect();
      const at = this.startMs() + (event.clientX - track.left) / track.width * this.spanS * 1000;
      this.zoom(event.deltaY < 0 ? 1 : -1, at);
    }, {passive: false});
  }

  row(camera) {
    const element = document.createElement("div");
    element.className = "row";
    element.dataset.camera = camera;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = camera;
    const track = document.createElement("div");
    track.className = "track";
    track.addEventListener("click", (event) => {
      const box = track.getBoundingClientRect();
      const ms = this.startMs() + (event.clientX - box.left) / box.width * this.spanS * 1000;
      this.onPick(Math.round(ms) * 1e6);
    });
    element.append(name, track);
    return {camera, element, track};
  }

  startMs() { return this.centerMs - this.spanS * 500; }

  // A key on the focused timeline: move the keyboard's cursor, play from it, or zoom.
  key(event) {
    const step = (KEY_STEP_S[this.spanS] || this.spanS / 60) * 1000;
    const endMs = this.startMs() + this.spanS * 1000;
    const at = this.pickMs ?? this.centerMs;
    const moves = {ArrowRight: at + step, ArrowUp: at + step, ArrowLeft: at - step,
                   ArrowDown: at - step, PageUp: at + 10 * step, PageDown: at - 10 * step,
                   Home: this.startMs(), End: endMs};
    if (event.key in moves) {
      this.setPick(moves[event.key]);
    } else if (event.key === "Enter" || event.key === " ") {
      this.onPick(Math.round(at) * 1e6);
    } else if (event.key === "+" || event.key === "=") {
      this.pickMs = at;
      this.zoom(1, at);
    } else if (event.key === "-" || event.key === "−") {
      this.pickMs = at;
      this.zoom(-1, at);
    } else {
      return;
    }
    event.preventDefault();
  }

  // The keyboard's cursor at `ms`, the window following it when it leaves.
  setPick(ms) {
    this.pickMs = ms;
    const share = (ms - this.startMs()) / (this.spanS * 1000);
    if (share < 0 || share > 1) this.show(ms);
    else this.drawPick();
  }

  drawPick() {
    const ms = this.pickMs;
    if (ms === null) return;
    this.place(this.pick, ms, ms);
    this.pick.hidden = false;
    this.root.setAttribute("aria-valuemin", String(Math.round(this.startMs())));
    this.root.setAttribute("aria-valuemax", String(Math.round(this.startMs() + this.spanS * 1000)));
    this.root.setAttribute("aria-valuenow", String(Math.round(ms)));
    this.root.setAttribute("aria-valuetext", this.spoken.format(new Date(ms)));
    this.root.dataset.pick = String(Math.round(ms));
  }

  show(centerMs, spanS = this.spanS) {
    this.centerMs = centerMs;
    this.spanS = Math.min(ZOOMS_S[0], Math.max(ZOOMS_S[ZOOMS_S.length - 1], spanS));
    this.root.dataset.span = String(this.spanS);
    const share = (this.pickMs - this.startMs()) / (this.spanS * 1000);
    if (this.pickMs === null || !(share >= 0 && share <= 1)) this.pickMs = centerMs;
    this.drawPick();
    this.load();
  }

  // One zoom step in (+1) or out (-1), keeping the instant `atMs` where it is on screen.
  zoom(direction, atMs = this.centerMs) {
    const i = ZOOMS_S.indexOf(this.spanS);
    const next = ZOOMS_S[Math.min(ZOOMS_S.length - 1, Math.max(0, (i < 0 ? 0 : i) + direction))];
    const share = (atMs - this.startMs()) / (this.spanS * 1000);
    this.show(atMs - (share - 0.5) * next * 1000, next);
  }

  pan(share) { this.show(this.centerMs + share * this.spanS * 1000); }

  setCursor(ns) {
    this.cursorNs = ns;
    if (document.activeElement !== this.root) this.pickMs = ns / 1e6; // keys start from it
    const left = (ns / 1e6 - this.startMs()) / (this.spanS * 1000);
    if (left > 0.97 || left < 0) { // playback ran off the window: follow it
      this.show(ns / 1e6 + this.spanS * 300);
      return;
    }
    this.place(this.cursor, ns / 1e6, ns / 1e6);
    this.cursor.hidden = false;
    this.drawPick();
  }

  place(element, fromMs, toMs) {
    const width = this.spanS * 1000;
    const left = Math.max(0, (fromMs - this.startMs()) / width);
    const right = Math.min(1, (toMs - this.startMs()) / width);
    element.style.left = `${left * 100}%`;
    element.style.width = `${Math.max(0, right - left) * 100}%`;
  }

  drawAxis() {
    const step = TICKS_S.find((s) => this.spanS / s <= 12) || TICKS_S[TICKS_S.length - 1];
    const first = Math.ceil(this.startMs() / (step * 1000)) * step * 1000;
    const ticks = [];
    for (let ms = first; ms < this.startMs() + this.spanS * 1000; ms += step * 1000) {
      const tick = document.createElement("span");
      tick.className = "tick";
      tick.style.left = `${(ms - this.startMs()) / (this.spanS * 10)}%`;
      tick.textContent = this.label.format(new Date(ms)).slice(0, step < 60 ? 8 : 5);
      ticks.push(tick);
    }
    this.axis.replaceChildren(...ticks);
  }

  async load() {
    this.drawAxis();
    const startMs = this.startMs();
    const query = new URLSearchParams({start: new Date(startMs).toISOString(),
                                       end: new Date(startMs + this.spanS * 1000).toISOString()});
    const token = {};
    this.loading = token;
    const step = Math.max(1, Math.ceil(this.spanS / ACTIVITY_BUCKETS));
    const json = async (url) => {
      const response = await fetch(url);
      return response.ok ? response.json() : null;
    };
    const answers = await Promise.all(this.rows.map(async (row) => {
      const cam = encodeURIComponent(row.camera);
      const [data, activity, events] = await Promise.all([
        revalidated(`/api/cameras/${cam}/timeline?${query}`),
        json(`/api/cameras/${cam}/activity?${query}&step=${step}`),
        json(`/api/events?camera=${cam}&${query}&limit=1000`)]);
      return {data, activity, events};
    }));
    if (this.loading !== token) return; // a newer window was asked for meanwhile
    this.rows.forEach((row, i) => this.drawRow(row, answers[i].data, answers[i].activity,
                                               answers[i].events));
    this.root.dataset.loaded = String(startMs);
    if (this.cursorNs !== null) this.setCursor(this.cursorNs);
  }

  drawActivity(activity) {
    const canvas = document.createElement("canvas");
    canvas.className = "activity";
    canvas.width = activity.levels.length;
    canvas.height = 32;
    const g = canvas.getContext("2d");
    g.fillStyle = "#e94";
    let moving = 0;
    activity.levels.forEach((level, i) => {
      if (!level) return;
      moving += 1;
      const h = Math.max(2, Math.round(Math.sqrt(level / 255) * canvas.height));
      g.fillRect(i, canvas.height - h, 1, h);
    });
    canvas.dataset.moving = String(moving);
    canvas.title = this.labels.activity;
    return canvas;
  }

  drawRow(row, data, activity = null, events = null) {
    const items = [];
    const add = (kind, fromNs, toNs, title) => {
      const element = document.createElement("div");
      element.className = kind;
      element.dataset.start = String(fromNs);
      element.dataset.end = String(toNs);
      if (title) element.title = title;
      this.place(element, fromNs / 1e6, toNs / 1e6);
      items.push(element);
    };
    row.element.dataset.state = data ? "loaded" : "refused";
    if (data) {
      for (const s of data.spans) add("rec", s.start_ns, s.end_ns);
      // footage on a recording node that is down is unavailable, not gone (issue 25)
      const missing = data.unavailable?.length
        ? this.labels.unavailable.replace("{nodes}", data.unavailable.join(", "))
        : this.labels.missing;
      for (const s of data.missing) add("missing", s.start_ns, s.end_ns, missing);
      for (const h of data.holds) add("hold", h.start_ns, h.end_ns, `${this.labels.hold} #${h.hold}`);
      for (const b of data.bookmarks) {
        add("bookmark", b.at_ns, b.at_ns, `${b.by}: ${b.note || b.kind}`);
        items[items.length - 1].style.width = "";
      }
    }
    if (data && activity) items.push(this.drawActivity(activity));
    for (const e of data && events ? events : []) {
      const kind = this.labels[`kind${e.kind[0].toUpperCase()}${e.kind.slice(1)}`] || e.kind;
      add("event", e.at_ns, e.at_ns, `${kind}: ${e.label}` +
          (e.rule_name ? ` (${e.rule_name})` : "") + (e.acknowledged_by ? " ✓" : ""));
      const mark = items[items.length - 1];
      mark.style.width = "";
      mark.dataset.event = String(e.id);
      mark.addEventListener("click", (event) => {
        event.stopPropagation();
        this.onPick(e.at_ns - EVENT_LEAD_NS);
      });
    }
    if (row === this.rows[0]) items.push(this.cursor, this.pick);
    row.track.replaceChildren(...items);
  }
}
