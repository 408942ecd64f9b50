// The acquaintance of staff and students (UE-10-22 3.1.4, 3.4.6, 3.4.7): progress with the
// edition in force, newcomers, sign-off sheets, the lists' import and general meetings.
import {refusal, row, send, upload} from "/static/api.js";

const labels = document.getElementById("labels").dataset;
const message = document.getElementById("message");

async function json(path) {
  const response = await fetch(path);
  if (!response.ok) {
    message.textContent = await refusal(response);
    return [];
  }
  return response.json();
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

async function load() {
  document.getElementById("progress").replaceChildren(...(await json("/api/people/progress"))
    .map((p) => row([p.unit, p.group, String(p.people), String(p.signed), String(p.refused),
                     String(p.absent), String(p.waiting)])));
  document.getElementById("newcomers").replaceChildren(...(await json("/api/people/newcomers"))
    .map((p) => {
      const li = document.createElement("li");
      li.textContent = `${p.full_name} (${p.person_id}), ${p.unit} ${p.group || ""}, ${p.start}`;
      return li;
    }));
  document.getElementById("sheets").replaceChildren(...(await json("/api/sheets")).map((s) =>
    row([link(`/sheets/${s.id}`, String(s.id)), s.unit, s.group || "", String(s.people),
         s.scanned ? labels.yes : labels.no, String(s.marked)])));
  document.getElementById("meetings").replaceChildren(...(await json("/api/meetings")).map((m) =>
    row([m.held, m.audience, m.informed_by, m.attendees == null ? "" : String(m.attendees),
         m.minutes_type ? link(`/api/meetings/${m.id}/minutes`, labels.minutes) : ""])));
}

async function failed(response) {
  if (response.ok) return false;
  message.textContent = `${message.dataset.rejected} ${await refusal(response)}`;
  return true;
}

document.getElementById("sheet").addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(event.target));
  const response = await send("POST", "/api/sheets", {unit: data.unit, group: data.group || null});
  if (await failed(response)) return;
  location.assign(`/sheets/${(await response.json()).id}`);
});

document.getElementById("import").addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await upload("/api/people/import", new FormData(event.target).get("file"),
                                "POST");
  // 422: the bad rows, each said; anything else not ok is a refusal
  if (response.status !== 422 && await failed(response)) return;
  const said = await response.json();
  document.getElementById("bad-rows").replaceChildren(...said.bad.map((b) => {
    const li = document.createElement("li");
    li.textContent = `${labels.line} ${b.line}: ${b.reason}`;
    return li;
  }));
  message.textContent = said.bad.length ? "" : message.dataset.done
    .replace("{added}", said.added).replace("{updated}", said.updated);
  load();
});

document.getElementById("meeting").addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(event.target);
  const response = await send("POST", "/api/meetings", {
    held: data.get("held"), audience: data.get("audience"),
    informed_by: data.get("informed_by"), notes: data.get("notes") || null,
    attendees: data.get("attendees") ? Number(data.get("attendees")) : null});
  if (await failed(response)) return;
  const minutes = data.get("minutes");
  if (minutes && minutes.size) {
    if (await failed(await upload(`/api/meetings/${(await response.json()).id}/minutes`,
                                  minutes))) return;
  }
  event.target.reset();
  message.textContent = "";
  load();
});

load();
