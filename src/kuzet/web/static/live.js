// The single-camera live page.
import {LivePlayer} from "/static/player.js";

const state = document.getElementById("state");
const camera = document.getElementById("camera").textContent;
const player = new LivePlayer(document.getElementById("video"), camera, (name) => {
  state.textContent = state.dataset[name];
  state.dataset.state = name;
});
window.kuzetLatencyMs = player.latencyMs; // read by bench/live.py
