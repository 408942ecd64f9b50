// One transfer: its request, the rector's decision (approve, narrowing cameras and range,
// or reject), its execution into a signed package, and the hand-over: the executor
// downloads the package, then confirms its receipt by the SHA-256 of the file saved
// (computed here from the file chosen, or pasted from sha256sum), which deletes the
// server's copy. The page shows only what the signed-in person may do next; the server
// checks everything again.
import {refusal, send} from "/static/api.js";
import {clockFormat, isoInZone} from "/static/zone.js";

const id = document.getElementById("transfer").dataset.id;
const facts = document.getElementById("facts").dataset;
const state = document.getElementById("state");
const decide = document.getElementById("decide");
const execute = document.getElementById("execute");
const received = document.getElementById("received");
const message = document.getElementById("message");
const when = (ns) => (ns ? clockFormat.format(new Date(ns / 1e6)) : "");
const text = (elementId, value) => { document.getElementById(elementId).textContent = value; };

function say(ok, detail = "") {
  message.textContent = ok ? message.dataset.saved : `${message.dataset.rejected} ${detail}`;
  message.dataset.state = ok ? "ok" : "rejected";
}

function show(t, me) {
  text("number", t.number);
  state.textContent = state.dataset[t.state];
  state.dataset.state = t.state;
  text("requester", `${facts[t.requester_type]}: ${t.requester} ${t.requester_details}`);
  text("basis", `№ ${t.basis.number}, ${t.basis.date}`);
  const scan = document.getElementById("scan");
  scan.hidden = !t.basis.sha256;
  scan.href = `/api/transfers/${id}/basis`;
  text("reason", t.reason);
  text("asked", `${t.cameras.join(", ")}: ${when(t.start_ns)} — ${when(t.end_ns)}`);
  const a = t.approved;
  text("decision", t.decided_by ? `${t.decided_by}, ${when(t.decided_ns)}` +
       (a ? ` — ${a.cameras.join(", ")}: ${when(a.start_ns)} — ${when(a.end_ns)}; ` +
        `≤ ${when(a.expires_ns)}` : "") + (t.note ? ` (${t.note})` : "") : "");
  text("executed", t.executed_by ? `${t.executed_by}, ${when(t.executed_ns)} → ${t.recipient}`
       : "");
  const perms = me.perms || [];
  decide.hidden = !(t.state === "pending" && perms.includes("transfer.decide") &&
                    t.registered_by !== me.name);
  if (!decide.hidden) {
    const box = document.getElementById("cameras");
    box.replaceChildren(box.firstElementChild, ...t.cameras.map((name) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      Object.assign(input, {type: "checkbox", name: "camera", value: name, checked: true});
      label.append(input, ` ${name}`);
      return label;
    }));
    // Shown to the second; sent only when changed, so an untouched field never moves the
    // request's exact bounds (narrowing is checked to the nanosecond).
    for (const [name, ns] of [["start", t.start_ns], ["end", t.end_ns]]) {
      decide.elements[name].value = isoInZone(ns / 1e6);
      decide.elements[name].dataset.shown = decide.elements[name].value;
    }
  }
  execute.hidden = !(t.state === "approved" && perms.includes("export.execute"));
  const handover = document.getElementById("handover");
  handover.hidden = t.state !== "executed";
  if (t.package) {
    const here = t.package.on_server;
    const link = document.getElementById("package");
    link.href = `/api/transfers/${id}/package`;
    link.hidden = !here;
    document.getElementById("discard").hidden = !(here && perms.includes("export.execute"));
    document.getElementById("gone").hidden = here;
    document.getElementById("once").hidden = !here;
    received.hidden = !(here && t.executed_by === me.name && perms.includes("export.execute"));
    text("sha", t.package.sha256);
    text("fingerprint", t.package.fingerprint.match(/.{4}/g).join(" ").toUpperCase());
    for (const lang of ["kk", "ru", "en"]) {
      document.getElementById(`act-${lang}`).href =
        `/api/transfers/${id}/handover.pdf?lang=${lang}`;
    }
  }
}

async function refresh(me) {
  const response = await fetch(`/api/transfers/${id}`);
  if (response.status === 401) location.assign(`/login?next=/transfers/${id}`);
  if (response.ok) show(await response.json(), me);
  else say(false, await refusal(response));
}

async function act(me, path, body) {
  const response = await send("POST", `/api/transfers/${id}/${path}`, body);
  if (response.ok) {
    say(true);
    await refresh(me);
  } else {
    say(false, await refusal(response));
  }
}

const meResponse = await fetch("/api/auth/me");
if (meResponse.status === 401) location.assign(`/login?next=/transfers/${id}`);
const me = await meResponse.json();
await refresh(me);

decide.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(decide);
  const days = Number(data.get("days") || 30);
  const body = {cameras: data.getAll("camera"), note: data.get("note"),
                expires: new Date(Date.now() + days * 86400e3).toISOString()};
  for (const name of ["start", "end"]) {
    const field = decide.elements[name];
    if (field.value !== field.dataset.shown) body[name] = field.value;
  }
  act(me, "approve", body);
});
document.getElementById("reject").addEventListener("click", () => {
  act(me, "reject", {note: new FormData(decide).get("note")});
});
document.getElementById("discard").addEventListener("click", async () => {
  const response = await send("DELETE", `/api/transfers/${id}/package`);
  if (response.ok) show(await response.json(), me);
  else say(false, await refusal(response));
});
// The SHA-256 of a chosen file, as hex (crypto.subtle: the console is served over HTTPS).
async function sha256Of(file) {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

received.elements.file.addEventListener("change", async () => {
  const [file] = received.elements.file.files;
  received.elements.sha256.value = "";
  if (file) received.elements.sha256.value = await sha256Of(file);
  received.dataset.hashed = file ? file.name : "";
});
received.addEventListener("submit", (event) => {
  event.preventDefault();
  // sha256sum prints "<hash>  <file>": the first word is the hash.
  const [sha256] = received.elements.sha256.value.trim().split(/\s+/);
  act(me, "received", {sha256});
});
execute.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(execute);
  act(me, "execute", {recipient: data.get("recipient"),
                      recipient_document: data.get("recipient_document")});
});
