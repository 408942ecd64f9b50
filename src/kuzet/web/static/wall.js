// The video wall: a grid of live tiles. The layout (1, 4, 9 or 16 tiles) is chosen with
// the buttons and kept per browser; a camera goes into a tile by dragging it from the
// list, or fills the free tiles in list order.
import {LivePlayer} from "/static/player.js";

const grid = document.getElementById("grid");
const list = document.getElementById("camera-list");
const labels = document.getElementById("labels").dataset;
const STORE = "kuzet.wall";
let saved = JSON.parse(localStorage.getItem(STORE) || '{"size": 2, "tiles": []}');
const players = new Map(); // tile index -> LivePlayer

function save() {
  localStorage.setItem(STORE, JSON.stringify(saved));
}

function place(index, camera) {
  const tile = grid.children[index];
  if (players.has(index)) players.get(index).close();
  tile.replaceChildren();
  saved.tiles[index] = camera;
  save();
  if (!camera) return;
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  const caption = document.createElement("span");
  caption.className = "caption";
  tile.append(video, caption);
  tile.dataset.camera = camera;
  players.set(index, new LivePlayer(video, camera, (name) => {
    caption.textContent = `${camera} · ${labels[name]}`;
    tile.dataset.state = name;
  }));
}

function layout(size) {
  for (const p of players.values()) p.close();
  players.clear();
  saved.size = size;
  grid.style.setProperty("--size", size);
  grid.replaceChildren(...Array.from({length: size * size}, (_, i) => {
    const tile = document.createElement("div");
    tile.className = "tile";
    tile.addEventListener("dragover", (event) => event.preventDefault());
    tile.addEventListener("drop", (event) => {
      event.preventDefault();
      place(i, event.dataTransfer.getData("text/plain"));
    });
    return tile;
  }));
  saved.tiles.slice(0, size * size).forEach((camera, i) => place(i, camera));
  save();
}

const response = await fetch("/api/cameras");
if (response.status === 401) location.assign("/login?next=/wall");
const cameras = response.ok ? await response.json() : [];
list.replaceChildren(...cameras.map((camera) => {
  const item = document.createElement("li");
  item.textContent = camera.name;
  item.draggable = true;
  item.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData("text/plain", camera.name);
  });
  return item;
}));
if (!saved.tiles.some(Boolean)) saved.tiles = cameras.map((c) => c.name);
for (const button of document.querySelectorAll("[data-size]")) {
  button.addEventListener("click", () => layout(Number(button.dataset.size)));
}
layout(saved.size);
