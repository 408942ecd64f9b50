// An item of the equipment register (issue 22; UE-10-22 3.3.1-3.3.8, 3.4.3): its
// technical passport (a form for equipment.admin, read-only otherwise), what it is
// connected to and what is connected to it, each a link, its open alarms, and its
// maintenance log, newest first, open faults marked; equipment.admin writes a check, a
// fault, or a repair closing an open fault. No picture and no way to one, a camera's
// neither: IT support sees no video (3.4.3).
import {refusal, row, send} from "/static/api.js";
import {answer, itemLink, kinds, linkChoices, states, words} from "/static/passport.js";
import {shownIso} from "/static/zone.js";

const name = document.getElementById("item").dataset.name;
const path = `/api/equipment/${encodeURIComponent(name)}`;
const message = document.getElementById("message");
const passport = document.getElementById("passport");
const fields = document.getElementById("fields");
const write = document.getElementById("write");
const severities = document.getElementById("severities").dataset;
let shown = {}; // the passport's fields as loaded: only what changes is sent

// The outcome beside the form that asked (`where`: the passport's or the log's line).
function say(where, ok, detail = "") {
  where.textContent = ok ? message.dataset.saved : `${message.dataset.rejected} ${detail}`;
  where.dataset.state = ok ? "ok" : "rejected";
}

// A link's cell: the item linked to (a link to its page), or "—".
function linkedTo(target, ...more) {
  const dd = document.getElementById(target);
  const names = more.filter(Boolean);
  if (!names.length) {
    dd.replaceChildren("—");
    return dd;
  }
  dd.replaceChildren(...names.flatMap((n, i) => (i ? [", ", itemLink(n)] : [itemLink(n)])));
  return dd;
}

function outcome(e) {
  if (e.kind === "check") return e.outcome === "ok" ? words.ok : words.fault_found;
  if (e.kind === "repair" && e.closes) return `${words.closes} №${e.closes}`;
  if (e.kind === "fault" && e.open) {
    const open = document.createElement("strong");
    open.textContent = words.open;
    return open;
  }
  return "";
}

function show({item, log, alarms, linked}) {
  document.getElementById("kind").textContent = kinds[item.kind] || item.kind;
  const state = document.getElementById("state");
  state.textContent = states[item.state] || item.state;
  state.dataset.state = item.state;
  shown = {};
  for (const input of fields.elements) {
    if (!input.name) continue;
    input.value = item[input.name] ?? "";
    shown[input.name] = input.value;
  }
  const uplink = linkedTo("link-uplink", item.uplink);
  if (item.uplink && item.uplink_port) {
    uplink.append(`, ${uplink.dataset.port} ${item.uplink_port}`);
  }
  linkedTo("link-power", item.power);
  linkedTo("link-part_of", item.part_of);
  linkedTo("linked", ...linked);

  document.getElementById("alarms").replaceChildren(...alarms.map((a) => row([
    shownIso(a.since), severities[a.severity] || a.severity, a.kind, a.message])));
  document.getElementById("no-alarms").hidden = alarms.length > 0;

  document.getElementById("log").replaceChildren(...log.map((e) => {
    const tr = row([shownIso(e.at), `${words[e.kind] || e.kind} №${e.id}`, e.by, e.what,
                    outcome(e)]);
    tr.dataset.entry = String(e.id);
    tr.dataset.kind = e.kind;
    if (e.open) tr.dataset.open = "yes";
    return tr;
  }));
  document.getElementById("no-log").hidden = log.length > 0;

  const faults = log.filter((e) => e.kind === "fault" && e.open);
  write.elements.closes.replaceChildren(...faults.map((e) => new Option(
    `№${e.id} · ${shownIso(e.at)} · ${e.what.slice(0, 80)}`, String(e.id))));
  write.elements.entry.querySelector("[value=repair]").disabled = faults.length === 0;
  if (!faults.length && write.elements.entry.value === "repair") {
    write.elements.entry.value = "check-ok";
  }
  document.getElementById("closes").hidden = write.elements.entry.value !== "repair";
}

async function load() {
  const detail = await answer(path, message, refusal);
  if (detail) show(detail);
  return detail;
}

passport.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {};
  for (const input of fields.elements) {
    if (input.name && input.value !== shown[input.name]) body[input.name] = input.value;
  }
  if (Object.keys(body).length) { // "" clears a field
    const response = await send("PATCH", path, body);
    if (!response.ok) {
      say(message, false, await refusal(response));
      return;
    }
  }
  await load();
  say(message, true);
});

write.elements.entry.addEventListener("change", () => {
  document.getElementById("closes").hidden = write.elements.entry.value !== "repair";
});

write.addEventListener("submit", async (event) => {
  event.preventDefault();
  const [kind, result] = write.elements.entry.value.split("-");
  const body = {kind, what: write.elements.what.value};
  if (kind === "check") body.outcome = result;
  if (kind === "repair") body.closes = Number(write.elements.closes.value);
  const response = await send("POST", `${path}/log`, body);
  const said = document.getElementById("log-message");
  if (!response.ok) {
    say(said, false, await refusal(response));
    return;
  }
  write.elements.what.value = "";
  await load();
  say(said, true);
});

const me = await fetch("/api/auth/me").then((r) => r.json()).catch(() => ({}));
const detail = await load();
if (detail && (me.perms || []).includes("equipment.admin")) {
  linkChoices(await answer("/api/equipment", message, refusal) || [], name);
  fields.disabled = false;
  document.getElementById("save").hidden = false;
  write.hidden = false;
}
