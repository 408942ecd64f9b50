// One sign-off sheet (UE-10-22 3.4.7): print it, attach its signed scan, then mark each
// person on it as the scan shows (signed, refused, absent).
import {refusal, send, upload} from "/static/api.js";

const id = document.getElementById("sheet").dataset.id;
const labels = document.getElementById("labels").dataset;
const message = document.getElementById("message");
const forms = {scan: document.getElementById("scan"), marks: document.getElementById("marks")};

async function load() {
  const response = await fetch(`/api/sheets/${id}`);
  if (!response.ok) {
    message.textContent = await refusal(response);
    return;
  }
  const s = await response.json();
  document.getElementById("about").textContent = `${s.unit} ${s.group || ""}`;
  document.getElementById("scan-link").hidden = !s.scan_type;
  forms.scan.hidden = Boolean(s.scan_type);
  forms.marks.hidden = !s.scan_type;
  document.getElementById("people").replaceChildren(...s.people.map((p) => {
    const tr = document.createElement("tr");
    const select = document.createElement("select");
    select.name = p.person_id;
    select.setAttribute("aria-label", `${p.full_name}`);
    // nothing is marked until a keeper says what the scan shows: no default "signed"
    select.append(new Option("—", ""));
    for (const outcome of ["signed", "refused", "absent"]) {
      const option = new Option(labels[outcome], outcome);
      option.selected = s.marks[p.person_id] === outcome;
      select.append(option);
    }
    for (const value of [p.person_id, p.full_name, p.group || ""]) {
      const td = document.createElement("td");
      td.textContent = value;
      tr.append(td);
    }
    const td = document.createElement("td");
    td.append(select);
    tr.append(td);
    return tr;
  }));
}

forms.scan.addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await upload(`/api/sheets/${id}/scan`, new FormData(forms.scan).get("scan"));
  message.textContent = response.ok ? "" : `${message.dataset.rejected} ${await refusal(response)}`;
  load();
});

forms.marks.addEventListener("submit", async (event) => {
  event.preventDefault();
  // the rows a mark was chosen for; the others stay as they are
  const marks = Object.fromEntries([...new FormData(forms.marks)].filter(([, v]) => v));
  const response = await send("POST", `/api/sheets/${id}/marks`, {marks});
  message.textContent = response.ok ? message.dataset.saved
    : `${message.dataset.rejected} ${await refusal(response)}`;
  load();
});

load();
