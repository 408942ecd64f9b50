// The centres that receive live video (UE-10-22 3.2.11): the register, the sessions
// running now (the head of internal security cuts one at once), the register of
// sessions with its filters and CSV, and the form that asks the rector for a new centre.
// The server decides every step and says why not.
import {button, refusal, row, send} from "/static/api.js";
import {dayStartMs, shownIso} from "/static/zone.js";

const labels = document.getElementById("labels").dataset;
const message = document.getElementById("message");
const form = document.getElementById("new");
const push = document.getElementById("push");
const filter = document.getElementById("filter");
const words = (text) => text.split(/[\s,]+/).filter(Boolean);

async function answer(response) {
  message.textContent = response.ok ? "" : `${message.dataset.rejected} ${await refusal(response)}`;
  return response.ok;
}

async function list(path) {
  const response = await fetch(path);
  if (response.status === 401) location.assign("/login?next=/centres");
  return (await answer(response)) ? response.json() : null;
}

function centreRow(c, perms) {
  const cameras = Object.entries(c.cameras).map(([k, v]) => `${k}/${v}`).join(", ");
  const actions = document.createElement("span");
  if (c.state !== "disabled" && (perms.includes("centre.prepare") || perms.includes("restream.cut"))) {
    actions.append(button(labels.disable, async () => {
      if (await answer(await send("POST", `/api/centres/${c.id}/disable`))) load();
    }));
  }
  const tr = row([c.name, labels[c.state] || c.state, c.addresses.join(", "), cameras,
                  `${c.valid_from} — ${c.valid_until}`, `${c.basis_no}, ${c.basis_date}`, actions]);
  tr.dataset.state = c.state;
  return tr;
}

async function sessions() {
  const data = Object.fromEntries(new FormData(filter));
  const query = new URLSearchParams();
  if (data.camera) query.set("camera", data.camera);
  if (data.since) query.set("since", new Date(dayStartMs(data.since)).toISOString());
  if (data.until) query.set("until", new Date(dayStartMs(data.until) + 86400e3).toISOString());
  document.getElementById("csv").href = `/api/restream/sessions.csv?${query}`;
  const rows = await list(`/api/restream/sessions?${query}`);
  if (rows === null) return;
  document.getElementById("sessions").replaceChildren(...rows.map((s) => row([
    s.centre, `${s.camera}/${s.stream}`, `${s.source} (${s.transport})`, shownIso(s.start),
    shownIso(s.end), String(s.bytes), s.ended || ""])));
}

// Who keeps the register (and sees its sessions); a guard who may push sees the push only.
const KEEPERS = ["centre.prepare", "centre.approve", "restream.cut"];

async function load() {
  const me = await (await fetch("/api/auth/me")).json();
  const perms = me.perms || [];
  const keeper = perms.some((p) => KEEPERS.includes(p));
  document.getElementById("keeper").hidden = !keeper;
  if (keeper) await keeperView(perms);
  form.hidden = !perms.includes("centre.prepare");
  push.hidden = !perms.includes("restream.push");
  if (!push.hidden) {
    // a guard pushes only where the centre's agreement allows it (the server says so too)
    const targets = ((await list("/api/centres/targets")) || [])
      .filter((t) => keeper || t.guard_push);
    push.elements.centre.replaceChildren(...targets.map((t) => new Option(t.name, t.id)));
  }
  document.querySelector("main").dataset.loaded = "true";
}

async function keeperView(perms) {
  const register = await list("/api/centres");
  if (register === null) return;
  const urls = document.getElementById("urls");
  urls.textContent = register.urls.rtsp ?
    [register.urls.rtsp, register.urls.rtsps || ""].filter(Boolean).join(" · ") +
      (register.urls.fingerprint ? ` — ${labels.fingerprint}: ${register.urls.fingerprint}` : "")
    : labels.off;
  document.getElementById("centres").replaceChildren(...register.centres.map(
    (c) => centreRow(c, perms)));
  const live = (await list("/api/restream/live")) || [];
  document.getElementById("live").replaceChildren(...live.map((s) => row([
    s.centre, `${s.camera}/${s.stream}`, `${s.source} (${s.transport})`, shownIso(s.start),
    String(s.kbps), perms.includes("restream.cut") ? button(labels.cut, async () => {
      if (await answer(await send("POST", `/api/restream/live/${s.id}/cut`))) load();
    }) : ""])));
  await sessions();
}

filter.addEventListener("submit", (event) => {
  event.preventDefault();
  sessions();
});

push.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(push));
  const done = await send("POST", `/api/centres/${data.centre}/push`, {
    camera: data.camera, minutes: Number(data.minutes), incident: data.incident,
    reason: data.reason});
  if (await answer(done)) {
    push.reset();
    load();
  }
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  const body = {...data, addresses: words(data.addresses), guard_push: data.guard_push === "on",
                max_streams: Number(data.max_streams), max_kbps: Number(data.max_kbps),
                cameras: words(data.cameras).map((name) => {
                  const [camera, stream] = name.split("/");
                  return {camera, stream: stream || "main"};
                })};
  const created = await send("POST", "/api/centres", body);
  if (!(await answer(created))) return;
  const shown = document.getElementById("password");
  shown.textContent = `${shown.dataset.said} ${(await created.json()).password}`;
  shown.hidden = false;
  form.reset();
  load();
});

load();
