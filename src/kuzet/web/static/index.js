// The cameras this account may see, each linking to its live view (its name and the
// recorder's state), with where it is (building, floor, place), its frame rate while it
// records (issue 21: not bare links) and, for whoever may
// see footage (by a role, or a grant: the archive page says which footage), to its
// archive, with its installation zone and, where the rector's order keeps it, its sound. For those who set cameras up: the
// detection set-up, and the cameras still without a zone of the regulation's list
// (UE-10-22 3.3.9-3.3.17) to place. For the rector: keeping a camera's sound on an order,
// or recording its video only again (3.1.2).
import {refusal, send} from "/static/api.js";

const list = document.getElementById("cameras");
const unzoned = document.getElementById("unzoned");
const zones = document.getElementById("zones").dataset; // API name -> translated name
const text = list.dataset;
const states = document.getElementById("camera-states").dataset; // recorder state -> said

function field(name, type, placeholder) {
  const input = document.createElement("input");
  Object.assign(input, {name, type, placeholder, required: true});
  input.setAttribute("aria-label", placeholder);
  return input;
}

// A form that sends one change and draws the list again, or shows the API's refusal.
function changeForm(className, controls, button, request) {
  const form = document.createElement("form");
  form.className = `inline ${className}`;
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.textContent = button;
  const said = document.createElement("output");
  form.append(...controls, submit, said);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await request(form);
    if (response.ok) await draw();
    else said.textContent = await refusal(response);
  });
  return form;
}

function soundForm(camera) {
  const path = `/api/cameras/${encodeURIComponent(camera.name)}/audio`;
  if (camera.audio) {
    return changeForm("audio", [], text.drop, () => send("DELETE", path));
  }
  // Folded to one line until opened: the rector's home lists every camera, and an open
  // order form under each took most of the page (issue 21's walk-through).
  const folded = document.createElement("details");
  folded.className = "audio";
  const summary = document.createElement("summary");
  summary.textContent = text.keep;
  folded.append(summary, changeForm("audio", [field("order_no", "text", text.order),
                                              field("order_date", "date", text.date)],
                                    text.keep, (form) => send("PUT", path, {
                                      order_no: form.elements.order_no.value,
                                      order_date: form.elements.order_date.value})));
  return folded;
}

function zoneForm(camera) {
  const select = document.createElement("select");
  select.name = "zone";
  select.setAttribute("aria-label", text.zone);
  select.append(...Object.entries(zones).map(([value, label]) => new Option(label, value)));
  return changeForm("zone", [select], text.save, (form) => send(
    "PUT", `/api/cameras/${encodeURIComponent(camera.name)}/zone`,
    {zone: form.elements.zone.value}));
}

function cameraItem(camera, perms, archive) {
  const item = document.createElement("li");
  item.dataset.camera = camera.name;
  const link = document.createElement("a");
  link.href = `/live/${encodeURIComponent(camera.name)}`;
  link.textContent = `${camera.name} (${states[camera.status.state] || camera.status.state})`;
  item.append(link);
  if (camera.status.state === "recording") {
    const rate = document.createElement("span");
    rate.className = "fps";
    rate.textContent = `${camera.status.fps.toFixed(1)} ${text.fps}`;
    item.append(" · ", rate);
  }
  const where = [camera.building, camera.floor && `${text.floor} ${camera.floor}`,
                 camera.location].filter(Boolean).join(", ");
  if (where) {
    const place = document.createElement("span");
    place.className = "place";
    place.textContent = where;
    item.append(" · ", place);
  }
  if (archive) {
    const past = document.createElement("a");
    past.className = "archive";
    past.href = `/archive/${encodeURIComponent(camera.name)}`;
    past.textContent = text.archive;
    past.setAttribute("aria-label", `${text.archive}: ${camera.name}`);
    item.append(" · ", past);
  }
  if (camera.zone) item.append(" · ", zones[camera.zone]);
  if (camera.audio) {
    const sound = document.createElement("span");
    sound.className = "sound";
    sound.textContent = `${text.sound} № ${camera.audio.order_no}, ${camera.audio.order_date}`;
    item.append(" · ", sound);
  }
  if (perms.includes("camera.admin")) {
    const setup = document.createElement("a");
    setup.href = `/cameras/${encodeURIComponent(camera.name)}/detection`;
    setup.textContent = text.detection;
    item.append(" · ", setup);
  }
  if (perms.includes("camera.audio")) item.append(soundForm(camera));
  return item;
}

async function draw() {
  const response = await fetch("/api/cameras");
  if (response.status === 401) {
    location.assign("/login?next=/");
    return;
  }
  if (!response.ok) { // a role that sees no camera (the Board) is told why, and who may
    const said = document.createElement("li");
    said.className = "refused";
    said.textContent = await refusal(response);
    list.replaceChildren(said);
    return;
  }
  const me = await (await fetch("/api/auth/me")).json();
  const perms = me.perms || [];
  const archive = perms.includes("archive.view") || (me.grants || []).length > 0;
  const cameras = await response.json();
  list.replaceChildren(...cameras.map((camera) => cameraItem(camera, perms, archive)));
  const toPlace = perms.includes("camera.admin") ? cameras.filter((c) => !c.zone) : [];
  unzoned.hidden = toPlace.length === 0;
  unzoned.querySelector("ul").replaceChildren(...toPlace.map((camera) => {
    const item = document.createElement("li");
    item.dataset.camera = camera.name;
    item.append(`${camera.name} (${camera.unlisted_zone ?? "—"}) `, zoneForm(camera));
    return item;
  }));
}

await draw();
