// The register of transfers to third parties, and the form that registers a new request
// with its scanned basis (for those who may; the server decides and says why not).
import {refusal, row, send, upload} from "/static/api.js";
import {clockFormat, isoInZone} from "/static/zone.js";

const rows = document.getElementById("rows");
const filter = document.getElementById("filter");
const labels = document.getElementById("labels").dataset;
const form = document.getElementById("new");
const message = document.getElementById("message");
const when = (ns) => clockFormat.format(new Date(ns / 1e6));

async function load() {
  const response = await fetch(`/api/transfers${filter.value ? `?state=${filter.value}` : ""}`);
  if (response.status === 401) location.assign("/login?next=/transfers");
  // A refusal says why (and who may) instead of showing an empty register.
  if (!response.ok) message.textContent = await refusal(response);
  const list = response.ok ? await response.json() : [];
  rows.replaceChildren(...list.map((t) => {
    const link = document.createElement("a");
    link.href = `/transfers/${t.id}`;
    link.textContent = t.number;
    const tr = row([link, labels[t.state], `${labels[t.requester_type]}: ${t.requester}`,
                    t.cameras.join(", "), when(t.start_ns), when(t.end_ns)]);
    tr.dataset.state = t.state;
    return tr;
  }));
}

async function prepareForm() {
  const me = await (await fetch("/api/auth/me")).json();
  if (!me.perms || !me.perms.includes("transfer.register")) return;
  const cams = await (await fetch("/api/cameras")).json();
  const box = document.getElementById("cameras");
  for (const cam of cams) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "checkbox";
    input.name = "camera";
    input.value = cam.name;
    label.append(input, ` ${cam.name}`);
    box.append(label);
  }
  form.elements.start.value = isoInZone(Date.now() - 3600e3);
  form.elements.end.value = isoInZone(Date.now());
  form.hidden = false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const body = Object.fromEntries(["requester_type", "requester", "requester_details",
    "basis_number", "basis_date", "reason", "start", "end"].map((k) => [k, data.get(k)]));
  body.cameras = data.getAll("camera");
  const created = await send("POST", "/api/transfers", body);
  if (!created.ok) {
    message.textContent = `${message.dataset.rejected} ${await refusal(created)}`;
    return;
  }
  const t = await created.json();
  const scan = await upload(`/api/transfers/${t.id}/basis`, data.get("scan"));
  if (!scan.ok) {
    message.textContent = `${message.dataset.rejected} ${await refusal(scan)}`;
  }
  location.assign(`/transfers/${t.id}`);
});

filter.addEventListener("change", load);
load();
prepareForm();
