// The register of places and their signs, and the coverage report's findings (UE-10-22
// 3.4.5); the form that adds a place for those who keep the register (the server decides).
import {refusal, row, send} from "/static/api.js";

const labels = document.getElementById("labels").dataset;
const zones = document.querySelector("#add select[name=zone]");
const message = document.getElementById("message");
const form = document.getElementById("add");
const zoneName = (z) => zones.querySelector(`option[value="${z}"]`)?.textContent || z;

function link(name) {
  const a = document.createElement("a");
  a.href = `/places/${encodeURIComponent(name)}`;
  a.textContent = name;
  return a;
}

async function load() {
  const [found, places] = await Promise.all([fetch("/api/places/coverage"), fetch("/api/places")]);
  if (!found.ok || !places.ok) {
    message.textContent = await refusal(found.ok ? places : found);
    return;
  }
  const findings = await found.json();
  document.getElementById("findings").replaceChildren(...findings.map((f) => row([
    f.finding === "no_sign" && f.named_room ? labels.named : labels[f.finding], f.building,
    f.floor, f.place ? link(f.place) : "", f.cameras.join(", "), f.since])));
  document.getElementById("no-findings").hidden = findings.length > 0;
  document.getElementById("places").replaceChildren(...(await places.json()).map((p) => row([
    link(p.name), p.building, p.floor, p.room, zoneName(p.zone), p.cameras.join(", "),
    String(p.signs.filter((s) => !s.removed).length)])));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  data.cameras = data.cameras.split(/[\s,]+/).filter(Boolean);
  if (!data.floor) data.floor = null;
  const response = await send("POST", "/api/places", data);
  if (!response.ok) {
    message.textContent = `${message.dataset.rejected} ${await refusal(response)}`;
    return;
  }
  location.assign(`/places/${encodeURIComponent(data.name)}`);
});

(async () => {
  const me = await (await fetch("/api/auth/me")).json();
  form.hidden = !(me.perms || []).includes("equipment.admin");
  load();
})();
