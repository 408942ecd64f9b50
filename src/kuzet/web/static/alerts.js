// Alarms at the security post: each new event arrives over /api/ws/alerts with a tone,
// its picture, the camera live beside it (the sub stream, for a minute, for the newest
// alarm only: one more stream per console, not one per alarm), and what a guard does
// next: open the camera, open its archive at the alarm's instant (for whoever may see
// footage, by a role or a grant), acknowledge with a note (audited), or start an incident
// protocol at that instant (clause 3.5.7).
import {button, refusal, send} from "/static/api.js";
import {toAcquaint} from "/static/mse.js";
import {LivePlayer} from "/static/player.js";
import {clockFormat} from "/static/zone.js";

const CLIP_S = 60;
const ARCHIVE_BEFORE_MS = 10_000; // the archive opens a little before the alarm
let clip = null; // {player, video, timer} of the newest alarm

const panel = document.getElementById("alerts");
const list = document.getElementById("alert-list");
const text = panel.dataset;
let me = {perms: []};

function tone() {
  try {
    const audio = new AudioContext();
    const osc = audio.createOscillator();
    osc.frequency.value = 880;
    osc.connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.3);
  } catch {
    // no sound before the guard has touched the page: the list still shows it
  }
}

function stopClip() {
  if (!clip) return;
  clip.player.close();
  clearTimeout(clip.timer);
  clip.video.remove();
  clip = null;
}

function startClip(li, camera) {
  stopClip();
  const video = document.createElement("video");
  video.className = "clip";
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  const player = new LivePlayer(video, camera, (state) => { video.dataset.state = state; },
                                "sub");
  clip = {player, video, timer: setTimeout(stopClip, CLIP_S * 1000)};
  li.append(video);
}

function show(e) {
  const li = document.createElement("li");
  li.className = "alert";
  li.dataset.event = e.id;
  const what = document.createElement("strong");
  what.textContent = `${text[e.kind] || e.kind} · ${e.camera} · ` +
    `${clockFormat.format(new Date(e.at_ns / 1e6))} · ${e.label}`;
  li.append(what);
  if (e.snapshot) {
    const img = document.createElement("img");
    img.src = `/api/events/${e.id}/snapshot`;
    img.alt = e.camera;
    li.append(img);
  }
  const live = document.createElement("a");
  live.href = `/live/${encodeURIComponent(e.camera)}`;
  live.textContent = text.live;
  const links = [live];
  if (me.perms.includes("archive.view") || (me.grants || []).length) {
    const past = document.createElement("a");
    past.className = "archive";
    const at = new Date(e.at_ns / 1e6 - ARCHIVE_BEFORE_MS).toISOString();
    past.href = `/archive/${encodeURIComponent(e.camera)}?at=${encodeURIComponent(at)}`;
    past.textContent = text.archive;
    links.push(" ", past);
  }
  const note = document.createElement("input");
  note.placeholder = text.note;
  note.setAttribute("aria-label", text.note);
  note.maxLength = 2000;
  const status = document.createElement("span");
  const ack = button(text.acknowledge, async () => {
    const r = await send("POST", `/api/events/${e.id}/ack`, {note: note.value});
    status.textContent = r.ok ? text.done : `${text.rejected} ${await refusal(r)}`;
    if (r.ok) {
      li.dataset.acknowledged = "yes";
      if (clip && li.contains(clip.video)) stopClip();
    }
  });
  li.append(...links, note, ack);
  if (me.perms.includes("protocol.write")) {
    li.append(button(text.protocol, async () => {
      // At the event's instant for those who may open the archive; at the live instant
      // (seconds later) for a guard, who may watch only live.
      const body = me.perms.includes("archive.view")
        ? {camera: e.camera, at: new Date(e.at_ns / 1e6).toISOString()} : {camera: e.camera};
      const r = await send("POST", "/api/protocols", body);
      if (r.ok) window.open(`/protocols/${(await r.json()).id}`, "_blank");
      else status.textContent = `${text.rejected} ${await refusal(r)}`;
    }));
  }
  li.append(status);
  startClip(li, e.camera);
  list.prepend(li);
  panel.dataset.count = list.children.length;
  tone();
}

function connect() {
  const ws = new WebSocket(`wss://${location.host}/api/ws/alerts`);
  ws.onmessage = (m) => {
    const e = JSON.parse(m.data);
    if (e.type === "ready") panel.dataset.connected = "yes";
    if (e.type === "event") show(e);
  };
  ws.onclose = (c) => {
    panel.dataset.connected = "no";
    if (c.reason.includes("to be acknowledged")) toAcquaint();  // a new edition: read it
    if (c.code !== 1008) setTimeout(connect, 3000);  // 1008: refused, do not insist
  };
}

const response = await fetch("/api/auth/me");
if (response.ok) {
  me = await response.json();
  if ((me.perms || []).includes("live.view")) connect();
  else panel.hidden = true;
}
