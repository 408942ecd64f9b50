// Events: search by camera, kind, object class, zone or line (the name of the rule that
// raised them), time and acknowledgement (never by who: clause 3.1.4), with a bar per
// hour of the display time zone.
import {row} from "/static/api.js";
import {clockFormat, hourFormat, isoInZone} from "/static/zone.js";

const form = document.getElementById("filters");
const labels = document.getElementById("labels").dataset;

async function load() {
  const data = new FormData(form);
  const query = new URLSearchParams();
  for (const key of ["camera", "kind", "label", "start", "end"]) {
    if (data.get(key)) query.set(key, data.get(key));
  }
  if (data.get("open")) query.set("acknowledged", "false");
  query.set("limit", "5000");
  const response = await fetch(`/api/events?${query}`);
  if (response.status === 401) location.assign("/login?next=/events");
  const zoneName = (data.get("zone") || "").trim().toLowerCase();
  const list = (response.ok ? await response.json() : []).filter(
    (e) => !zoneName || e.rule_name.toLowerCase().includes(zoneName));
  document.getElementById("rows").replaceChildren(...list.map((e) => row([
    clockFormat.format(new Date(e.at_ns / 1e6)), e.camera, labels[e.kind] || e.kind,
    e.label, e.rule_name, e.score.toFixed(2), e.acknowledged_by || ""])));
  const counts = new Map();
  for (const e of list) {
    const hour = hourFormat.format(new Date(e.at_ns / 1e6));
    counts.set(hour, (counts.get(hour) || 0) + 1);
  }
  const most = Math.max(1, ...counts.values());
  document.getElementById("hours").replaceChildren(...[...counts].reverse().map(([h, n]) => {
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.height = `${Math.round(60 * n / most) + 2}px`;
    bar.title = `${h}: ${n}`;
    return bar;
  }));
}

// The time fields show, greyed, what they take: an instant with the zone's offset
// (a day ago and now), beside their visible labels.
form.elements.start.placeholder = isoInZone(Date.now() - 86_400_000);
form.elements.end.placeholder = isoInZone(Date.now());

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
load();
