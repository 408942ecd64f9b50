// The single-camera live page, with what the wall tile offers for the camera: its archive
// (for whoever may see footage, by a role or a grant), an incident (clause 3.5.7: a
// protocol at this instant for a protocol writer, an incident bookmark otherwise), and a
// stamped snapshot of the latest recorded frame for those who may take one.
import {LivePlayer} from "/static/player.js";
import {refusal, saveSnapshot, send} from "/static/api.js";

const SNAPSHOT_BEHIND_MS = 5000; // a frame already written to the open segment
const state = document.getElementById("state");
const camera = document.getElementById("camera").textContent;
const said = document.getElementById("said");
const player = new LivePlayer(document.getElementById("video"), camera, (name) => {
  state.textContent = state.dataset[name];
  state.dataset.state = name;
});
window.kuzetLatencyMs = player.latencyMs; // read by bench/live.py

const me = await (await fetch("/api/auth/me")).json().catch(() => ({perms: [], grants: []}));
const perms = me.perms || [];
document.getElementById("archive").hidden =
  !(perms.includes("archive.view") || (me.grants || []).length);
document.getElementById("snapshot-form").hidden = !perms.includes("snapshot");

const incident = document.getElementById("incident");
incident.addEventListener("click", async () => {
  const writer = perms.includes("protocol.write");
  const response = writer
    ? await send("POST", "/api/protocols", {camera})
    : await send("POST", `/api/cameras/${encodeURIComponent(camera)}/bookmarks`,
                 {kind: "incident"});
  if (!response.ok) {
    said.textContent = `${said.dataset.rejected} ${await refusal(response)}`;
    return;
  }
  if (writer) window.open(`/protocols/${(await response.json()).id}`, "_blank");
  said.textContent = incident.dataset.marked;
});

document.getElementById("snapshot").addEventListener("click", async () => {
  const at = new Date(Date.now() - SNAPSHOT_BEHIND_MS).toISOString();
  const refused = await saveSnapshot(camera, at, document.getElementById("purpose").value);
  said.textContent = refused ? `${said.dataset.rejected} ${await refusal(refused)}` : "";
});
