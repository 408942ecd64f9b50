// The register of protocols: one's own for a writer, all for a reviewer, the registered
// ones for the Management Board (the server decides which), newest last, each linking to
// its page, with the Board's acknowledgements; a member acknowledges a row from here.
import {refusal, send} from "/static/api.js";
import {clockFormat} from "/static/zone.js";
import {acknowledgements} from "/static/board.js";

const rows = document.getElementById("rows");
const filter = document.getElementById("filter");
const labels = document.getElementById("labels").dataset;
const message = document.getElementById("message");
const meResponse = await fetch("/api/auth/me");
if (meResponse.status === 401) location.assign("/login?next=/protocols");
const me = meResponse.ok ? await meResponse.json() : {name: "", perms: []};
const member = (me.perms || []).includes("protocol.read");

function boardCell(p) {
  const cell = document.createElement("td");
  cell.className = "board";
  cell.append(acknowledgements(p.acknowledgements));
  if (member && p.number && !p.acknowledgements.some((a) => a.member === me.name)) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "acknowledge";
    button.textContent = labels.acknowledge;
    button.addEventListener("click", async () => {
      button.disabled = true;
      const response = await send("POST", `/api/protocols/${p.id}/acknowledge`);
      if (response.ok) load(); else button.disabled = false;
    });
    cell.append(" ", button);
  }
  return cell;
}

async function load() {
  const query = filter.value ? `?state=${filter.value}` : "";
  const response = await fetch(`/api/protocols${query}`);
  if (response.status === 401) location.assign("/login?next=/protocols");
  // A refusal says why (and who may) instead of showing an empty register.
  message.textContent = response.ok ? "" : await refusal(response);
  const list = response.ok ? await response.json() : [];
  rows.replaceChildren(...list.map((p) => {
    const row = document.createElement("tr");
    const link = document.createElement("a");
    link.href = `/protocols/${p.id}`;
    link.textContent = p.number || `#${p.id}`;
    const cells = [link, labels[p.state], p.camera, clockFormat.format(new Date(p.at_ns / 1e6)),
                   p.location, p.author].map((value) => {
      const cell = document.createElement("td");
      cell.append(value);
      return cell;
    });
    row.append(...cells, boardCell(p));
    row.dataset.state = p.state;
    row.dataset.id = String(p.id);
    return row;
  }));
  rows.dataset.loaded = String(Date.now());
}

filter.addEventListener("change", load);
load();
