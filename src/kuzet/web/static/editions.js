// The register of the regulation's editions and amendments (UE-10-22 4.1, 4.3), and the
// form that prepares one for the rector's approval (for those who may; the server
// decides and says why not).
import {refusal, row, send} from "/static/api.js";

const rows = document.getElementById("rows");
const labels = document.getElementById("labels").dataset;
const form = document.getElementById("new");
const message = document.getElementById("message");
const day = (text) => (text ? `${text.slice(8, 10)}.${text.slice(5, 7)}.${text.slice(0, 4)}` : "");

async function load() {
  const response = await fetch("/api/editions");
  if (!response.ok) {
    message.textContent = await refusal(response);
    return;
  }
  rows.replaceChildren(...(await response.json()).map((e) => {
    const link = document.createElement("a");
    link.href = `/editions/${e.id}`;
    link.textContent = labels[e.kind].replace("{number}", e.number);
    const state = labels[e.state] + (e.in_force ? ` (${labels.inForce})` : "");
    const tr = row([link, e.title, state, e.order_no ? `${e.order_no}, ${day(e.order_date)}` : "",
                    day(e.effective)]);
    tr.dataset.state = e.state;
    return tr;
  }));
}

async function prepareForm() {
  const me = await (await fetch("/api/auth/me")).json();
  form.hidden = !(me.perms || []).includes("edition.prepare");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  for (const optional of ["text_en", "summary"]) if (!data[optional]) data[optional] = null;
  const created = await send("POST", "/api/editions", data);
  if (!created.ok) {
    message.textContent = `${message.dataset.rejected} ${await refusal(created)}`;
    return;
  }
  location.assign(`/editions/${(await created.json()).id}`);
});

load();
prepareForm();
