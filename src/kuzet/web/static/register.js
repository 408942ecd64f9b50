// Registers of acts, viewing sessions and holds: the rows the server lets the signed-in
// person see, filtered by any text in them, with the CSV the server writes (audited).
import {row} from "/static/api.js";
import {clockFormat} from "/static/zone.js";

const table = document.getElementById("register");
const kind = table.dataset.kind;
const labels = document.getElementById("labels").dataset;
const filter = document.getElementById("filter");
const when = (ns) => (ns ? clockFormat.format(new Date(ns / 1e6)) : "");
const COLUMNS = {
  acts: [["number", (a) => a.number || `#${a.id}`], ["state", (a) => a.state],
         ["protocols", (a) => a.protocols.join(", ")], ["what", (a) => a.what],
         ["author", (a) => a.author], ["registered", (a) => when(a.registered_ns)]],
  viewings: [["number", (v) => v.number], ["held", (v) => when(v.held_ns)],
             ["conducted", (v) => v.conducted_by], ["cameras", (v) => v.cameras.join(", ")],
             ["ranges", (v) => `${when(v.start_ns)} — ${when(v.end_ns)}`],
             ["purpose", (v) => v.purpose],
             ["attendees", (v) => v.attendees.map((x) => x.name).join(", ")]],
  holds: [["number", (h) => `#${h.id}`], ["state", (h) => h.state],
          ["incident", (h) => h.incident], ["reason", (h) => h.reason],
          ["ranges", (h) => h.ranges.map((r) => `${r.camera} ${r.start} — ${r.end}`).join("; ")],
          ["requested", (h) => h.requested_by], ["approved", (h) => h.approved_by || ""],
          ["expires", (h) => h.expires || ""]],
};
const columns = COLUMNS[kind];
let rows = [];

function draw() {
  const needle = filter.value.trim().toLowerCase();
  document.getElementById("rows").replaceChildren(...rows
    .filter((cells) => !needle || cells.join(" ").toLowerCase().includes(needle))
    .map((cells) => row(cells)));
}

async function load() {
  document.getElementById("head").replaceChildren(...columns.map(([key]) => {
    const th = document.createElement("th");
    th.textContent = labels[key];
    return th;
  }));
  const response = await fetch(`/api/${kind}`);
  if (response.status === 401) location.assign(`/login?next=/registers/${kind}`);
  const list = response.ok ? await response.json() : [];
  rows = list.map((x) => columns.map(([, cell]) => String(cell(x) ?? "")));
  draw();
}

filter.addEventListener("input", draw);
load();
