// One place under the cameras' view: its signs with their checks and photographs, the
// printable sign, and the form that records a sign put up (UE-10-22 3.4.5). Each change
// is for those who keep the register; the server decides and says why not.
import {button, refusal, row, send, upload} from "/static/api.js";
import {isoInZone} from "/static/zone.js";

const name = document.getElementById("place").dataset.name;
const labels = document.getElementById("labels").dataset;
const message = document.getElementById("message");
const form = document.getElementById("sign");
const base = `/api/places/${encodeURIComponent(name)}`;
const today = () => isoInZone(Date.now()).slice(0, 10);
let keeper = false;

async function answered(response) {
  if (!response.ok) {
    message.textContent = `${message.dataset.rejected} ${await refusal(response)}`;
    return false;
  }
  message.textContent = "";
  await load();
  return true;
}

async function load() {
  const response = await fetch(base);
  if (!response.ok) {
    message.textContent = await refusal(response);
    return;
  }
  const p = await response.json();
  document.getElementById("where").textContent = [p.building, p.floor].filter(Boolean).join(", ");
  document.getElementById("room").textContent = p.room;
  document.getElementById("zone").textContent = p.zone;
  document.getElementById("cameras").textContent = p.cameras.join(", ") || "—";
  document.getElementById("signs").replaceChildren(...p.signs.map((s) => {
    let photo = "";
    if (s.photo) {
      photo = document.createElement("a");
      photo.href = `${base}/signs/${s.id}/photo`;
      photo.textContent = labels.photo;
    }
    const actions = keeper && !s.removed ? [
      button(labels.checked, async () => answered(await send(
        "POST", `${base}/signs/${s.id}/check`, {day: today(), present: true}))),
      button(labels.gone, async () => answered(await send(
        "POST", `${base}/signs/${s.id}/check`, {day: today(), present: false})))]
      : [s.removed ? `${labels.removed} ${s.removed}` : ""];
    const cell = document.createElement("span");
    cell.append(...actions);
    return row([s.position, labels[s.kind], s.installed, s.checked || "—", s.due, photo, cell]);
  }));
  document.getElementById("no-signs").hidden = p.signs.some((s) => !s.removed);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const response = await send("POST", `${base}/signs`, {
    position: data.get("position"), kind: data.get("kind"), installed: data.get("installed")});
  if (!await answered(response)) return;
  const photo = data.get("photo");
  if (photo && photo.size) {
    const signs = (await (await fetch(base)).json()).signs;
    await answered(await upload(`${base}/signs/${signs[signs.length - 1].id}/photo`, photo));
  }
  form.reset();
});

(async () => {
  const me = await (await fetch("/api/auth/me")).json();
  keeper = (me.perms || []).includes("equipment.admin");
  form.hidden = !keeper;
  form.elements.installed.value = today();
  load();
})();
