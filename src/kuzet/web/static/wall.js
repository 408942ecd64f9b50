// The video wall: a grid of live tiles. Layouts (1, 2×2, 3×3, 4×4 or any columns × rows
// up to 6×6) are kept on the server per user: the working one under ".last", so it
// follows the guard to another console, and named ones saved on purpose. A layout keeps
// the cameras of tiles its grid does not show (2×2 to 1 keeps three), and shows them
// again when it grows back: switching never drops an assignment (issue 21). Cameras come
// in a tree by building, floor and installation zone; one goes into a tile by dragging it
// there, double-clicking it (the first free tile), or, by keyboard, Enter on it in the
// tree (Tab reaches each camera; the first free tile too) or the empty tile's own
// "choose camera" list. Each tile shows the camera, the player's state and the
// recorder's, an "incident" button that starts a protocol, and a menu: the camera's
// archive (for those who may see stored footage) and emptying the tile.
// Grid tiles play the cameras' sub streams, a single tile the main stream.
import {send} from "/static/api.js";
import {LivePlayer} from "/static/player.js";

const WORKING = ".last";
const MAX_TILES = 36; // console/layouts.py MAX_TILES: assignments kept, shown or not
const grid = document.getElementById("grid");
const tree = document.getElementById("tree");
const saved = document.getElementById("saved");
const labels = document.getElementById("labels").dataset;
let layout = {cols: 2, rows: 2, tiles: []};
let recorder = {}; // camera -> recorder state, refreshed every 10 s
let names = []; // the cameras the caller may see, for the empty tiles' lists
const players = new Map(); // tile index -> LivePlayer

async function store(name, body) {
  const tiles = body.tiles.map((camera) => camera || null);
  while (tiles.length && !tiles[tiles.length - 1]) tiles.pop();
  const response = await send("PUT", `/api/layouts/${encodeURIComponent(name)}`,
                              {cols: body.cols, rows: body.rows, tiles});
  return response.ok;
}

function caption(tile) {
  const camera = tile.dataset.camera;
  const state = labels[tile.dataset.state] || "";
  const rec = labels[recorder[camera]] || recorder[camera] || "";
  tile.querySelector(".caption").textContent = [camera, state, rec].filter(Boolean).join(" · ");
}

function place(index, camera, keep = true) {
  const tile = grid.children[index];
  if (players.has(index)) players.get(index).close();
  players.delete(index);
  tile.replaceChildren();
  delete tile.dataset.camera;
  delete tile.dataset.state;
  layout.tiles[index] = camera || null;
  if (keep) store(WORKING, layout);
  if (!camera) {
    tile.append(emptyHint(index));
    return;
  }
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  const text = document.createElement("span");
  text.className = "caption";
  const incident = document.createElement("button");
  incident.className = "incident";
  incident.textContent = labels.incident;
  incident.addEventListener("click", async () => {
    // Clause 3.5.7: a protocol at this instant (its bookmark comes with it), opened for
    // writing beside the wall; without the right to write protocols, a bookmark.
    const writer = me.perms.includes("protocol.write");
    const response = writer
      ? await send("POST", "/api/protocols", {camera})
      : await send("POST", `/api/cameras/${encodeURIComponent(camera)}/bookmarks`,
                   {kind: "incident"});
    if (writer && response.ok) window.open(`/protocols/${(await response.json()).id}`, "_blank");
    tile.dataset.marked = response.ok ? "yes" : "refused";
    incident.textContent = response.ok ? labels.marked : labels.refused;
    setTimeout(() => { incident.textContent = labels.incident; }, 3000);
  });
  tile.append(video, text, incident, tileMenu(index, camera));
  tile.dataset.camera = camera;
  const stream = layout.cols * layout.rows > 1 ? "sub" : "main"; // main in single view
  players.set(index, new LivePlayer(video, camera, (name) => {
    tile.dataset.state = name;
    tile.dataset.stream = players.get(index)?.served || stream;
    caption(tile);
  }, stream));
}

// An empty tile says how to fill it: drag or double-click from the list, or pick from
// its own list of cameras (a keyboard reaches it with Tab, opens it with Enter).
function emptyHint(index) {
  const box = document.createElement("div");
  box.className = "empty";
  const hint = document.createElement("p");
  hint.textContent = labels.hint;
  const choose = document.createElement("details");
  choose.className = "choose";
  const title = document.createElement("summary");
  title.textContent = labels.choose;
  const list = document.createElement("ul");
  list.append(...names.map((name) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = name;
    button.addEventListener("click", () => place(index, name));
    item.append(button);
    return item;
  }));
  choose.append(title, list);
  box.append(hint, choose);
  return box;
}

// The tile's menu: the camera's archive at the instant watched, in a new tab beside the
// wall (only for whoever may see stored footage, by role or grant: clauses 3.5.4-3.5.5;
// the archive checks again), and emptying the tile.
function tileMenu(index, camera) {
  const menu = document.createElement("details");
  menu.className = "menu";
  const title = document.createElement("summary");
  title.textContent = "⋮";
  title.title = labels.menu;
  title.setAttribute("aria-label", `${labels.menu}: ${camera}`);
  const items = document.createElement("div");
  if (me.perms.includes("archive.view") || (me.grants || []).length) {
    const archive = document.createElement("a");
    archive.className = "archive";
    // At the instant on screen (a live tile is a fraction of a second behind): set as the
    // menu opens and again as the link is followed.
    const now = () => {
      const at = new Date().toISOString();
      archive.href = `/archive/${encodeURIComponent(camera)}?at=${encodeURIComponent(at)}`;
    };
    now();
    menu.addEventListener("toggle", now);
    archive.addEventListener("click", now);
    archive.target = "_blank";
    archive.rel = "noopener";
    archive.textContent = labels.archive;
    items.append(archive);
  }
  const clear = document.createElement("button");
  clear.type = "button";
  clear.className = "clear";
  clear.textContent = labels.clear;
  clear.addEventListener("click", () => place(index, null));
  items.append(clear);
  menu.append(title, items);
  return menu;
}

function draw(next, keep = true) {
  for (const p of players.values()) p.close();
  players.clear();
  // Every assignment is kept, those past this grid's tiles too (for a larger grid).
  layout = {cols: next.cols, rows: next.rows, tiles: next.tiles.slice(0, MAX_TILES)};
  grid.style.setProperty("--cols", layout.cols);
  grid.replaceChildren(...Array.from({length: layout.cols * layout.rows}, (_, i) => {
    const tile = document.createElement("div");
    tile.className = "tile";
    tile.addEventListener("dragover", (event) => event.preventDefault());
    tile.addEventListener("drop", (event) => {
      event.preventDefault();
      place(i, event.dataTransfer.getData("text/plain"));
    });
    return tile;
  }));
  for (let i = 0; i < layout.cols * layout.rows; i++) place(i, layout.tiles[i], false);
  if (keep) store(WORKING, layout);
}

function freeTile() {
  const count = layout.cols * layout.rows;
  for (let i = 0; i < count; i++) if (!layout.tiles[i]) return i;
  return count - 1;
}

// building -> floor -> zone -> cameras, as nested <details>; a level a camera does not
// have (no building given, say) is left out rather than shown as an empty branch.
function drawTree(cameras) {
  const zones = document.getElementById("zones").dataset; // installation zones, translated
  const levels = [(c) => c.building, (c) => (c.floor ? `${tree.dataset.floor} ${c.floor}` : ""),
                  (c) => (c.zone ? zones[c.zone] || c.zone : "")];
  const leaf = (camera) => {
    const item = document.createElement("li");
    item.textContent = camera.name;
    item.draggable = true;
    item.dataset.camera = camera.name;
    item.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/plain", camera.name);
    });
    item.addEventListener("dblclick", () => place(freeTile(), camera.name));
    item.tabIndex = 0; // issue 21 item 12: a keyboard puts it on the wall as well
    item.title = tree.dataset.keys;
    item.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      place(freeTile(), camera.name);
    });
    return item;
  };
  const branch = (items, depth) => {
    if (depth === levels.length) {
      const list = document.createElement("ul");
      list.append(...items.map(leaf));
      return [list];
    }
    const groups = new Map();
    for (const item of items) {
      const key = levels[depth](item) || "";
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(item);
    }
    return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).flatMap(([key, group]) => {
      const inner = branch(group, depth + 1);
      if (!key) return inner;
      const details = document.createElement("details");
      details.open = true;
      const title = document.createElement("summary");
      title.textContent = key;
      details.append(title, ...inner);
      return [details];
    });
  };
  tree.replaceChildren(...branch(cameras, 0));
}

async function refresh() {
  const response = await fetch("/api/cameras");
  if (response.status === 401) location.assign("/login?next=/wall");
  const cameras = response.ok ? await response.json() : [];
  recorder = Object.fromEntries(cameras.map((c) => [c.name, c.status.state]));
  names = cameras.map((c) => c.name);
  for (const tile of grid.children) if (tile.dataset.camera) caption(tile);
  return cameras;
}

async function loadSaved() {
  const response = await fetch("/api/layouts");
  const all = response.ok ? (await response.json()).layouts : {};
  saved.replaceChildren(saved.options[0], ...Object.keys(all).filter((n) => !n.startsWith("."))
    .map((name) => {
      const option = document.createElement("option");
      option.value = option.textContent = name;
      return option;
    }));
  return all;
}

const asked = await fetch("/api/auth/me");
const me = asked.ok ? await asked.json() : {perms: [], grants: []};
const cameras = await refresh();
drawTree(cameras);
const all = await loadSaved();
const start = all[WORKING] || {cols: 2, rows: 2, tiles: cameras.map((c) => c.name)};
draw(start, false);
setInterval(refresh, 10_000);

for (const button of document.querySelectorAll("[data-size]")) {
  button.addEventListener("click", () => {
    const size = Number(button.dataset.size);
    draw({cols: size, rows: size, tiles: layout.tiles});
  });
}
document.getElementById("custom").addEventListener("submit", (event) => {
  event.preventDefault();
  const f = event.target.elements;
  draw({cols: Number(f.cols.value), rows: Number(f.rows.value), tiles: layout.tiles});
});
document.getElementById("save").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = event.target.elements.name.value.trim();
  if (name && await store(name, layout)) {
    await loadSaved();
    saved.value = name;
  }
});
saved.addEventListener("change", async () => {
  const name = saved.value;
  const all = await loadSaved();
  saved.value = name;
  if (all[name]) draw(all[name]);
});
document.getElementById("delete").addEventListener("click", async () => {
  if (!saved.value) return;
  await send("DELETE", `/api/layouts/${encodeURIComponent(saved.value)}`);
  await loadSaved();
});
document.getElementById("fullscreen").addEventListener("click", () => {
  grid.requestFullscreen().catch(() => {});
});
