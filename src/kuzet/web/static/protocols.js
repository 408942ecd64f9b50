// The register of protocols: one's own for a writer, all for a reviewer (the server
// decides which), newest last, each linking to its page.
import {clockFormat} from "/static/zone.js";

const rows = document.getElementById("rows");
const filter = document.getElementById("filter");
const labels = document.getElementById("labels").dataset;

async function load() {
  const query = filter.value ? `?state=${filter.value}` : "";
  const response = await fetch(`/api/protocols${query}`);
  if (response.status === 401) location.assign("/login?next=/protocols");
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
    row.append(...cells);
    row.dataset.state = p.state;
    return row;
  }));
}

filter.addEventListener("change", load);
load();
