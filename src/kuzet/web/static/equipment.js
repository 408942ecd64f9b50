// The equipment register (issue 22; UE-10-22 3.3.1-3.3.8, 3.4.3): every item with its
// state and open alarms, filtered by kind, state, building or any text, each linked to its
// page; the scheduled checks due and overdue; and, for equipment.admin, a form adding an
// item that is not a camera and a CSV import that reports every bad row (nothing imported
// from such a file unless its good rows are asked for). No picture, a camera's neither.
import {refusal, row, send, upload} from "/static/api.js";
import {answer, itemLink, kinds, linkChoices, place, states, words} from "/static/passport.js";
import {shownDate} from "/static/zone.js";

const filters = document.getElementById("filters");
const message = document.getElementById("message");
const keepMessage = document.getElementById("keep-message");
const add = document.getElementById("add");
const file = document.getElementById("import");
const checked = document.getElementById("checked").dataset; // what a check looks at, said

async function load() {
  const query = new URLSearchParams([...new FormData(filters)].filter(([, v]) => v));
  history.replaceState(null, "", `${location.pathname}${query.toString() ? `?${query}` : ""}`);
  const items = await answer(`/api/equipment?${query}`, message, refusal);
  if (!items) return;
  document.getElementById("rows").replaceChildren(...items.map((it) => {
    const tr = row([kinds[it.kind] || it.kind, itemLink(it.name), it.model, it.serial,
                    it.inventory_no, place(it), states[it.state] || it.state,
                    String(it.alarms)]);
    tr.dataset.name = it.name;
    tr.dataset.state = it.state;
    return tr;
  }));
  document.getElementById("no-items").hidden = items.length > 0;
}

// The whole register's names for the link fields' suggestions (the table may be filtered).
async function choices() {
  linkChoices(await answer("/api/equipment", keepMessage, refusal) || []);
}

async function due() {
  const list = await answer("/api/checks?within=7", message, refusal);
  if (!list) return;
  document.getElementById("due").replaceChildren(...list.map((d) => {
    let when = shownDate(d.due);
    if (d.overdue) {
      when = document.createElement("strong");
      when.textContent = `${shownDate(d.due)} · ${words.overdue}`;
    }
    const tr = row([itemLink(d.name), kinds[d.kind] || d.kind, when, shownDate(d.last_check),
                    checked[d.kind] || d.what]);
    tr.dataset.name = d.name;
    if (d.overdue) tr.dataset.overdue = "yes";
    return tr;
  }));
  document.getElementById("no-due").hidden = list.length > 0;
}

function said(ok, text) {
  keepMessage.replaceChildren(...text);
  keepMessage.dataset.state = ok ? "ok" : "rejected";
}

add.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = Object.fromEntries([...new FormData(add)].filter(([, v]) => v !== ""));
  const response = await send("POST", "/api/equipment", body);
  if (!response.ok) {
    said(false, [`${keepMessage.dataset.rejected} ${await refusal(response)}`]);
    return;
  }
  const item = await response.json();
  add.reset();
  said(true, [`${keepMessage.dataset.added} `, itemLink(item.name)]);
  await Promise.all([load(), due(), choices()]);
});

// The file's bytes as the body, as the API reads a spreadsheet saved as CSV.
file.addEventListener("submit", async (event) => {
  event.preventDefault();
  const report = document.getElementById("report");
  const good = file.elements.good_rows.checked;
  const response = await upload(`/api/equipment/import?good_rows=${good}`,
                                file.elements.file.files[0], "POST");
  if (!response.ok) {
    report.hidden = true;
    said(false, [`${keepMessage.dataset.rejected} ${await refusal(response)}`]);
    return;
  }
  said(true, []);
  const r = await response.json();
  const outcome = document.getElementById("imported");
  const texts = outcome.dataset;
  outcome.textContent = r.imported
    ? texts.done.replace("{added}", r.added).replace("{changed}", r.changed)
    : (r.bad_rows.length ? texts.nothing : texts.empty);
  outcome.dataset.state = r.imported ? "ok" : "rejected";
  const bad = document.getElementById("bad-rows");
  bad.hidden = r.bad_rows.length === 0;
  bad.tBodies[0].replaceChildren(...r.bad_rows.map((b) => {
    const tr = row([String(b.line), b.name, b.reason]);
    tr.dataset.line = String(b.line);
    return tr;
  }));
  report.hidden = false;
  if (r.imported) await Promise.all([load(), due(), choices()]);
});

for (const [key, value] of new URLSearchParams(location.search)) {
  if (filters.elements[key] && value) filters.elements[key].value = value;
}
filters.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
for (const select of filters.querySelectorAll("select")) select.addEventListener("change", load);

const me = await fetch("/api/auth/me").then((r) => r.json()).catch(() => ({}));
await Promise.all([load(), due()]);
if ((me.perms || []).includes("equipment.admin")) {
  await choices();
  document.getElementById("keep").hidden = false;
}
