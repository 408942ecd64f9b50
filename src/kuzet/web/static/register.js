// Registers of acts, viewing sessions and holds: the rows the server lets the signed-in
// person see, filtered by any text in them, with the CSV the server writes (audited).
import {refusal, row, send} from "/static/api.js";
import {clockFormat, isoInZone, shownIso} from "/static/zone.js";

const table = document.getElementById("register");
const kind = table.dataset.kind;
const labels = document.getElementById("labels").dataset;
const filter = document.getElementById("filter");
const lang = document.documentElement.lang;
const words = document.getElementById("words").dataset; // stored states, said (issue 21)
const word = (w) => words[w] || w;
const when = (ns) => (ns ? clockFormat.format(new Date(ns / 1e6)) : "");
const COLUMNS = {
  acts: [["number", (a) => link(`/acts/${a.id}`, a.number || `#${a.id}`)],
         ["state", (a) => word(a.state)],
         ["protocols", (a) => a.protocols.join(", ")], ["what", (a) => a.what],
         ["author", (a) => a.author], ["registered", (a) => when(a.registered_ns)]],
  viewings: [["number", (v) => link(`/api/viewings/${v.id}/pdf?lang=${lang}`, v.number)],
             ["held", (v) => when(v.held_ns)],
             ["conducted", (v) => v.conducted_by], ["cameras", (v) => v.cameras.join(", ")],
             ["ranges", (v) => `${when(v.start_ns)} — ${when(v.end_ns)}`],
             ["purpose", (v) => v.purpose],
             ["attendees", (v) => v.attendees.map((x) => x.name).join(", ")]],
  holds: [["number", (h) => `#${h.id}`], ["state", (h) => word(h.state)],
          ["incident", (h) => h.incident], ["reason", (h) => h.reason],
          ["ranges", (h) => h.ranges.map((r) => `${r.camera} ${shownIso(r.start)} — ` +
                                          shownIso(r.end)).join("; ")],
          ["requested", (h) => h.requested_by], ["approved", (h) => h.approved_by || ""],
          ["expires", (h) => shownIso(h.expires)]],
};
const columns = COLUMNS[kind];
let rows = [];

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

function draw() {
  const needle = filter.value.trim().toLowerCase();
  document.getElementById("rows").replaceChildren(...rows
    .filter((cells) => !needle || cells.map((c) => c.textContent ?? String(c)).join(" ")
      .toLowerCase().includes(needle))
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
  rows = list.map((x) => columns.map(([, cell]) => cell(x) ?? ""));
  draw();
}

filter.addEventListener("input", draw);
load();

// Writing into the register: a new act from registered protocols (act.write), a viewing
// session that took place (archive.view). The server checks both again.
const message = document.getElementById("message");
const say = (ok, detail = "") => {
  message.textContent = ok ? message.dataset.saved : `${message.dataset.rejected} ${detail}`;
  message.dataset.state = ok ? "ok" : "rejected";
};

// Whether any of `cameras` recorded anything in [start, end), from the archive's timeline
// (open to whoever may record the session, who must be able to open that footage): a
// viewing of no footage is said before it is recorded (issue 21; clause 3.5.5 records the
// footage shown). A timeline refused (a window typed wrongly, footage outside a grant)
// leaves the answer to the server's own checks when the session is sent.
async function recorded(cameras, start, end) {
  for (const name of cameras) {
    const query = new URLSearchParams({start, end});
    const response = await fetch(`/api/cameras/${encodeURIComponent(name)}/timeline?${query}`);
    if (!response.ok) return true;
    const timeline = await response.json();
    if (timeline.spans.length || timeline.missing.length) return true;
  }
  return cameras.length === 0; // none chosen: the server says what is missing
}

function checkbox(name, value, text) {
  const label = document.createElement("label");
  const input = document.createElement("input");
  Object.assign(input, {type: "checkbox", name, value});
  label.append(input, ` ${text}`);
  return label;
}

async function prepare() {
  const me = await (await fetch("/api/auth/me")).json();
  const perms = me.perms || [];
  const act = document.getElementById("new-act");
  if (act && perms.includes("act.write")) {
    const list = await (await fetch("/api/protocols")).json();
    document.getElementById("protocol-choice").append(...list.filter((p) => p.number)
      .map((p) => checkbox("protocol", p.id, `${p.number} — ${p.location}`)));
    act.hidden = false;
    act.addEventListener("submit", async (event) => {
      event.preventDefault();
      const ids = new FormData(act).getAll("protocol").map(Number);
      const response = await send("POST", "/api/acts", {protocols: ids});
      if (response.ok) location.assign(`/acts/${(await response.json()).id}`);
      else say(false, await refusal(response));
    });
  }
  const viewing = document.getElementById("new-viewing");
  if (viewing && perms.includes("archive.view")) {
    const cams = await (await fetch("/api/cameras")).json();
    document.getElementById("cameras").append(...cams.map((c) => checkbox("camera", c.name,
                                                                          c.name)));
    const attendees = document.getElementById("attendees");
    const add = () => attendees.append(
      document.getElementById("attendee").content.cloneNode(true));
    add();
    document.getElementById("add-attendee").addEventListener("click", add);
    viewing.elements.start.value = isoInZone(Date.now() - 3600e3);
    viewing.elements.end.value = isoInZone(Date.now() - 3000e3);
    viewing.hidden = false;
    const anyway = document.getElementById("record-anyway");
    anyway.addEventListener("click", () => {
      anyway.dataset.confirmed = "yes";
      viewing.requestSubmit();
    });
    viewing.addEventListener("input", () => { // a changed window is looked up again
      anyway.hidden = true;
      delete anyway.dataset.confirmed;
    });
    viewing.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(viewing);
      if (!anyway.dataset.confirmed &&
          !await recorded(data.getAll("camera"), data.get("start"), data.get("end"))) {
        message.textContent = message.dataset.noFootage;
        message.dataset.state = "warning";
        anyway.hidden = false;
        return;
      }
      anyway.hidden = true;
      delete anyway.dataset.confirmed;
      const people = [...attendees.querySelectorAll(".attendee")].map((p) => ({
        name: p.querySelector("[name=name]").value,
        capacity: p.querySelector("[name=capacity]").value,
        document: p.querySelector("[name=document]").value}));
      const response = await send("POST", "/api/viewings", {
        cameras: data.getAll("camera"), start: data.get("start"), end: data.get("end"),
        purpose: data.get("purpose"), attendees: people});
      if (!response.ok) {
        say(false, await refusal(response));
        return;
      }
      say(true);
      load();
    });
  }
}

prepare();
