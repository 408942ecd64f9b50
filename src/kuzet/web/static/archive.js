// The archive page: up to four cameras played at the same instant (the first one leads,
// the others follow its clock), their timelines, the calendar of the first camera, and
// the controls. Every opening of footage goes through the server with the stated purpose.
// `?at=` (an instant, as an alarm's link gives it) is where the start fields and the
// timeline begin. The start is picked as a date and a time of the display time zone (or
// a shortcut: now less 5 min, 15 min, 1 h, the start of today); the exact instant with
// its offset, kept in step with them, takes one pasted from a document or a link. A
// refused snapshot, bookmark or protocol shows the server's reason,
// which names the clause and the roles that may (never a guess made here).
import {refusal, saveSnapshot, send} from "/static/api.js";
import {ArchivePlayer} from "/static/archive-player.js";
import {Calendar} from "/static/calendar.js";
import {Timeline} from "/static/timeline.js";
import {clockFormat, dayStartMs, isoInZone} from "/static/zone.js";

const MAX_CAMERAS = 4;
const SYNC_S = 0.25; // a follower further than this from the leader is moved to it
const form = document.getElementById("open");
const clock = document.getElementById("clock");
const notice = document.getElementById("notice");
const first = document.getElementById("camera").textContent;
const params = new URLSearchParams(location.search);
const cameras = [first, ...(params.get("with") || "").split(",").filter(Boolean)]
  .filter((c, i, all) => all.indexOf(c) === i).slice(0, MAX_CAMERAS);

const nearest = document.getElementById("nearest");

function show(key) {
  notice.textContent = notice.dataset[key] || "";
  notice.dataset.state = key;
  nearest.hidden = !(key === "nothing" && players[0].nearestNs);
}

// The API's own refusal of an action, in the console's language.
async function refused(response) {
  show("refused");
  notice.textContent = await refusal(response);
}

const players = cameras.map((camera, i) => {
  const figure = document.createElement("figure");
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  if (i === 0) video.id = "video";
  const caption = document.createElement("figcaption");
  caption.textContent = camera;
  figure.append(video, caption);
  figure.dataset.camera = camera;
  document.getElementById("players").append(figure);
  video.addEventListener("timeupdate", () => {
    const ns = player.ns;
    if (ns !== null) figure.dataset.ns = String(ns);
  });
  const player = new ArchivePlayer(video, camera, (key) => {
    figure.dataset.notice = key;
    caption.textContent = key === "none" ? camera : `${camera} · ${notice.dataset[key] || ""}`;
    if (i === 0) show(key);
  });
  return player;
});
const leader = players[0];
document.getElementById("players").dataset.count = String(players.length);

const timeline = new Timeline(document.getElementById("timeline"), cameras, {
  labels: document.getElementById("timeline").dataset,
  onPick: (ns) => play(ns),
});
const askedMs = Date.parse(params.get("at") || "");
const startMs = Number.isNaN(askedMs) ? Date.now() - 60_000 : askedMs;
if (Number.isNaN(askedMs)) timeline.show(Date.now() - 43_200_000); // the last day
else timeline.show(askedMs, 600); // ten minutes around the instant asked
const calendar = new Calendar(document.getElementById("calendar"), first, (date) => {
  timeline.show(dayStartMs(date) + 43_200_000, 86400);
});
calendar.load();

// The instant a date ("2026-11-27") and time ("14:03" or "14:03:05") of the display zone
// name: read as UTC first, then moved by the zone's offset at that instant.
function zonedMs(date, time) {
  const wall = Date.parse(`${date}T${time.length === 5 ? `${time}:00` : time}Z`);
  if (Number.isNaN(wall)) return NaN;
  return wall - (Date.parse(`${isoInZone(wall).slice(0, 19)}Z`) - wall);
}

// The three start fields, all showing `ms`.
function setStart(ms) {
  const iso = isoInZone(ms);
  form.elements.start.value = iso;
  form.elements.date.value = iso.slice(0, 10);
  form.elements.time.value = iso.slice(11, 19);
  form.elements.start.setCustomValidity("");
}

function play(ns) {
  setStart(ns / 1e6);
  const purpose = form.elements.purpose.value.trim();
  if (purpose.length < 5) {
    show("purpose");
    form.elements.purpose.focus();
    return;
  }
  delete clock.dataset.ns;
  clock.textContent = "";
  for (const p of players) p.open(ns, purpose);
}

setStart(startMs);
for (const name of ["date", "time"]) {
  form.elements[name].addEventListener("input", () => {
    const ms = zonedMs(form.elements.date.value, form.elements.time.value);
    if (!Number.isNaN(ms)) form.elements.start.value = isoInZone(ms);
  });
}
form.elements.start.addEventListener("input", () => { // pasted: the pickers follow
  const ms = Date.parse(form.elements.start.value);
  if (Number.isNaN(ms)) return;
  const iso = isoInZone(ms);
  form.elements.date.value = iso.slice(0, 10);
  form.elements.time.value = iso.slice(11, 19);
});
for (const button of document.querySelectorAll("[data-ago]")) {
  button.addEventListener("click", () => {
    const ago = button.dataset.ago;
    setStart(ago === "today" ? dayStartMs(isoInZone(Date.now()).slice(0, 10))
      : Date.now() - Number(ago) * 1000);
    form.requestSubmit();
  });
}
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const ms = Date.parse(form.elements.start.value);
  if (Number.isNaN(ms)) {
    form.elements.start.setCustomValidity("2026-11-27T14:03:05+05:00");
    form.elements.start.reportValidity();
    return;
  }
  form.elements.start.setCustomValidity("");
  timeline.show(ms + timeline.spanS * 300);
  play(ms * 1e6);
});

leader.video.addEventListener("timeupdate", () => {
  const ns = leader.ns;
  if (ns === null) return;
  clock.textContent = clockFormat.format(new Date(ns / 1e6));
  clock.dataset.ns = String(ns);
  timeline.setCursor(ns);
});

setInterval(() => { // followers keep to the leader's clock
  const ns = leader.ns;
  if (ns === null || leader.video.paused) return;
  for (const p of players.slice(1)) {
    if (p.ns !== null && Math.abs(p.ns - ns) > SYNC_S * 1e9) p.seek(ns, false);
  }
}, 250);

const add = document.getElementById("add");
fetch("/api/cameras").then((r) => (r.ok ? r.json() : [])).then((list) => {
  for (const c of list) {
    if (cameras.includes(c.name)) continue;
    const option = document.createElement("option");
    option.value = option.textContent = c.name;
    add.append(option);
  }
  add.disabled = cameras.length >= MAX_CAMERAS;
});
add.addEventListener("change", () => {
  if (!add.value) return;
  const others = [...cameras.slice(1), add.value].join(",");
  location.assign(`/archive/${encodeURIComponent(first)}?with=${encodeURIComponent(others)}`);
});

for (const button of document.querySelectorAll("[data-speed]")) {
  button.addEventListener("click", () => {
    for (const p of players) p.setSpeed(Number(button.dataset.speed));
  });
}
for (const button of document.querySelectorAll("[data-jump]")) {
  button.addEventListener("click", () => {
    if (leader.ns === null) return;
    const ns = leader.ns + Number(button.dataset.jump) * 1e9;
    for (const p of players) p.seek(ns, true);
  });
}
for (const button of document.querySelectorAll("[data-zoom]")) {
  button.addEventListener("click", () => {
    const typed = Date.parse(form.elements.start.value);
    const centerMs = leader.ns !== null ? leader.ns / 1e6
      : Number.isNaN(typed) ? timeline.centerMs : typed;
    timeline.show(centerMs, Number(button.dataset.zoom));
  });
}
for (const button of document.querySelectorAll("[data-pan]")) {
  button.addEventListener("click", () => timeline.pan(Number(button.dataset.pan)));
}
document.getElementById("frame").addEventListener("click", () => {
  for (const p of players) p.video.pause();
  leader.video.currentTime += 1 / 25; // one frame of a 25 fps camera
  const ns = leader.ns;
  for (const p of players.slice(1)) p.seek(ns, false);
});
document.getElementById("pause").addEventListener("click", () => {
  const resume = leader.video.paused;
  for (const p of players) {
    if (resume) p.video.play().catch(() => {}); else p.video.pause();
  }
});
document.getElementById("snapshot").addEventListener("click", async () => {
  if (!clock.dataset.ns) return;
  const at = new Date(Number(clock.dataset.ns) / 1e6).toISOString();
  const response = await saveSnapshot(first, at, form.elements.purpose.value);
  if (response) await refused(response);
});
document.getElementById("bookmark").addEventListener("click", async () => {
  if (!clock.dataset.ns) return;
  const at = new Date(Number(clock.dataset.ns) / 1e6).toISOString();
  const note = document.getElementById("note").value;
  const response = await send("POST", `/api/cameras/${encodeURIComponent(first)}/bookmarks`,
                              {at, note, kind: "note"});
  if (!response.ok) {
    await refused(response);
    return;
  }
  show("marked");
  timeline.load();
});
nearest.addEventListener("click", () => { // the last 30 s before the footage ends
  play(leader.nearestNs - 30e9);
});
document.getElementById("protocol").addEventListener("click", async () => {
  if (!clock.dataset.ns) return;
  const at = new Date(Number(clock.dataset.ns) / 1e6).toISOString();
  const response = await send("POST", "/api/protocols", {camera: first, at});
  if (!response.ok) {
    await refused(response);
    return;
  }
  window.open(`/protocols/${(await response.json()).id}`, "_blank");
});

