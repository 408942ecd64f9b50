// Health (clause 3.4.3): alarms, volumes, recording nodes and camera states for whoever
// holds health.read, and the audit log's integrity for whoever holds audit.verify — its verdict and counts,
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
  // a cluster's recording nodes (issue 25): each links to its register item where it is one
  document.getElementById("nodes-section").hidden = h.nodes.length === 0;
  document.getElementById("nodes").replaceChildren(...h.nodes.map((n) => row([
    subject(n.name, items), n.up ? labels.yes : labels.no, word(n.state),
    `${n.cameras} / ${n.max_cameras}`, size(n.free_bytes), n.version,
    n.heartbeat ? clockFormat.format(new Date(n.heartbeat)) : ""])));
  document.getElementById("cameras").replaceChildren(...Object.entries(h.cameras)
    .map(([state, count]) => row([word(state), String(count)])));
}

// Each camera's frames per second hour by hour over the last day (issue 22 item 4): a bar
// per hour, drawn as SVG from numbers, no picture of any camera; an empty hour is a gap.
const SVG = "http://www.w3.org/2000/svg";

function bars(hours, said) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${hours.length * 6} 30`);
  svg.setAttribute("class", "rates");
  svg.setAttribute("role", "img");
  const top = Math.max(1, ...hours.map((h) => h.fps || 0));
  hours.forEach((h, i) => {
    const bar = document.createElementNS(SVG, "rect");
    const tall = h.fps == null ? 0 : Math.max(1, (h.fps / top) * 30);
    bar.setAttribute("x", String(i * 6));
    bar.setAttribute("y", String(30 - tall));
    bar.setAttribute("width", "5");
    bar.setAttribute("height", String(tall));
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${clockFormat.format(new Date(h.start))}: ` +
      (h.fps == null ? said.nothing : `${h.fps} ${said.fps}`);
    bar.append(title);
    svg.append(bar);
  });
  svg.setAttribute("aria-label", hours.map((h) => h.fps ?? "—").join(", "));
  return svg;
}

async function rates() {
  const table = document.getElementById("rates");
  const list = await answer("/api/health/rates?hours=24");
  if (!list) return;
  const said = table.dataset;
  table.tBodies[0].replaceChildren(...list.map((c) => {
    const seen = c.hours.filter((h) => h.fps != null).map((h) => h.fps);
    const last = c.hours[c.hours.length - 1].fps ?? c.hours[c.hours.length - 2]?.fps;
    const tr = row([c.camera, "", last == null ? said.nothing : `${last} ${said.fps}`,
      seen.length ? `${Math.min(...seen)} ${said.fps}` : said.nothing]);
    tr.cells[1].append(bars(c.hours, said));
    return tr;
  }));
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
  if ((me.perms || []).includes("health.read")) await rates();
  if ((me.perms || []).includes("audit.verify")) {
    document.getElementById("verify").addEventListener("click", verify);
    await verify();
  }
}
