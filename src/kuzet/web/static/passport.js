// What the equipment register's two pages share (issue 22): an item's link, its place
// and the passport form's choices of what it may be linked to. The words come from
// templates/_equipment.html, in the page's language.
export const kinds = document.getElementById("kinds").dataset;
export const states = document.getElementById("states").dataset;
export const words = document.getElementById("entries").dataset;

// The item's page, as a link named by the item.
export function itemLink(name) {
  const link = document.createElement("a");
  link.href = `/equipment/${encodeURIComponent(name)}`;
  link.textContent = name;
  return link;
}

// "Main, Floor 2, North door": where an item is.
export function place(item) {
  return [item.building, item.floor && `${words.floor} ${item.floor}`, item.room]
    .filter(Boolean).join(", ");
}

// The register's answer, or null once the page says why not (a lapsed session goes to the
// login, which comes back here).
export async function answer(path, message, refusal) {
  const response = await fetch(path);
  if (response.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  if (!response.ok) {
    message.textContent = await refusal(response);
    message.dataset.state = "rejected";
    return null;
  }
  return response.json();
}

// The link fields' suggestions: switches for the uplink, UPSes for the power, arrays and
// servers for "part of" (what the register accepts; it says why it refuses the rest).
export function linkChoices(items, except = "") {
  const fill = (id, wanted) => document.getElementById(id)?.replaceChildren(
    ...items.filter((it) => wanted.includes(it.kind) && it.name !== except)
      .map((it) => new Option(kinds[it.kind], it.name)));
  fill("switch-names", ["switch"]);
  fill("ups-names", ["ups"]);
  fill("whole-names", ["storage", "server"]);
  const buildings = document.getElementById("building-names");
  const known = new Set([...buildings.options].map((o) => o.value));
  for (const it of items) {
    if (it.building && !known.has(it.building)) {
      known.add(it.building);
      buildings.append(new Option("", it.building));
    }
  }
}
