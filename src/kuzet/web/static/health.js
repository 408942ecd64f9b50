// Health (clause 3.4.3): alarms, volumes and camera states for whoever holds health.read,
// and the audit log's integrity for whoever holds audit.verify — its verdict and counts,
// never what an entry says. No picture reaches this page. An alarm about an item of the
// equipment register links to the item's page (issue 22).
import {refusal, row} from "/static/api.js";
import {clockFormat} from "/static/zone.js";

const message = document.getElementById("message");
const labels = document.getElementById("labels").dataset;
const words = document.getElementById("words").dataset; // stored states, said (issue 21)
const word = (w) => words[w] || w;
const GiB = 1024 ** 3;
const size = (bytes) => (bytes == null ? "" : `${(bytes / GiB).toFixed(1)} GiB`);

async function answer(path) {
  const response = await fetch(path);
  if (response.status === 401) location.assign("/login?next=/health");
  if (!response.ok) {
    message.textContent = await refusal(response);
    return null;
  }
  return response.json();
}

// The register's item names, asked once: an alarm's subject among them becomes a link.
async function registered() {
  const response = await fetch("/api/equipment").catch(() => null);
  return new Set(response?.ok ? (await response.json()).map((item) => item.name) : []);
}

function subject(name, items) {
  if (!items.has(name)) return name;
  const link = document.createElement("a");
  link.href = `/equipment/${encodeURIComponent(name)}`;
  link.textContent = name;
  return link;
}

async function health(items) {
  const h = await answer("/api/health");
  if (!h) return;
  document.getElementById("alarms").replaceChildren(...h.alarms.map((a) => row([
    clockFormat.format(new Date(a.since)), word(a.severity), a.kind, subject(a.subject, items),
    a.message])));
  document.getElementById("no-alarms").hidden = h.alarms.length > 0;
  document.getElementById("volumes").replaceChildren(...h.volumes.map((v) => row([
    v.name, word(v.state), v.present ? labels.yes : labels.no, size(v.free_bytes),
    size(v.total_bytes), size(v.floor_bytes)])));
  document.getElementById("cameras").replaceChildren(...Object.entries(h.cameras)
    .map(([state, count]) => row([word(state), String(count)])));
}

async function verify() {
  const audit = document.getElementById("audit");
  const v = await answer("/api/audit/verify");
  if (!v) return;
  const verdict = document.getElementById("verdict");
  verdict.textContent = v.intact ? verdict.dataset.intact : verdict.dataset.broken;
  verdict.dataset.state = v.intact ? "ok" : "rejected";
  document.getElementById("entries").textContent = String(v.entries);
  document.getElementById("checkpoints").textContent = String(v.checkpoints);
  document.getElementById("first-bad").textContent = v.first_bad_seq ?? "";
  document.getElementById("problems").replaceChildren(...v.problems.map((p) => {
    const li = document.createElement("li");
    li.textContent = p;
    return li;
  }));
  audit.hidden = false;
}

const me = await answer("/api/auth/me");
if (me) {
  await health((me.perms || []).includes("health.read") ? await registered() : new Set());
  if ((me.perms || []).includes("audit.verify")) {
    document.getElementById("verify").addEventListener("click", verify);
    await verify();
  }
}
