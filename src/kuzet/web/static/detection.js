// Detection set-up for one camera: zones, lines and masks drawn on its latest recorded
// picture, in fractions of the frame (so they hold on the main and the sub stream), the
// camera's rules listed and removed, motion sensitivity and masks saved. The server checks
// every shape again (a crossing zone, a point outside the picture) and says why not.
import {refusal, send} from "/static/api.js";

const camera = document.getElementById("camera").textContent.trim();
const cam = encodeURIComponent(camera);
const labels = document.getElementById("labels").dataset;
const message = document.getElementById("message");
const svg = document.getElementById("drawing");
const ruleForm = document.getElementById("rule");
const motionForm = document.getElementById("motion");
const NS = "http://www.w3.org/2000/svg";
let points = [];
let rules = [];
let masks = [];

function say(text, bad = false) {
  message.textContent = text;
  message.className = bad ? "error" : "";
}

function shape(pts, kind, closed) {
  const element = document.createElementNS(NS, closed ? "polygon" : "polyline");
  element.setAttribute("points", pts.map(([x, y]) => `${x},${y}`).join(" "));
  element.setAttribute("class", kind);
  element.setAttribute("vector-effect", "non-scaling-stroke");
  return element;
}

function draw() {
  const items = [];
  for (const m of masks) items.push(shape(m, "mask", true));
  for (const r of rules) {
    if (r.zone && r.zone.length) items.push(shape(r.zone, "zone", true));
    if (r.line) items.push(shape(r.line, "line", false));
  }
  if (points.length) {
    const closed = ruleForm.kind.value !== "line" && points.length > 2;
    items.push(shape(points, "drawing", closed));
  }
  svg.replaceChildren(...items);
  svg.dataset.points = String(points.length);
}

svg.addEventListener("click", (event) => {
  const box = svg.getBoundingClientRect();
  const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
  const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
  const point = [Math.round(x * 1e4) / 1e4, Math.round(y * 1e4) / 1e4];
  if (ruleForm.kind.value === "line" && points.length >= 2) points = [];
  points.push(point);
  draw();
});
document.getElementById("undo").addEventListener("click", () => { points.pop(); draw(); });
document.getElementById("clear").addEventListener("click", () => { points = []; draw(); });

function showFields() {
  const kind = ruleForm.kind.value;
  for (const label of ruleForm.querySelectorAll("[data-for]")) {
    label.hidden = label.dataset.for !== kind;
  }
  if (kind === "vehicle" && ruleForm.labels.value === "person") {
    ruleForm.labels.value = "car,bus,truck,motorcycle";
  } else if (kind !== "vehicle" && ruleForm.labels.value.startsWith("car")) {
    ruleForm.labels.value = "person";
  }
  draw();
}
ruleForm.kind.addEventListener("change", showFields);

async function loadRules() {
  const response = await fetch(`/api/cameras/${cam}/rules`);
  if (response.status === 401) location.assign(`/login?next=${location.pathname}`);
  if (!response.ok) {
    say(await refusal(response), true);
    return;
  }
  rules = await response.json();
  document.getElementById("rules").replaceChildren(...rules.map((r) => {
    const item = document.createElement("li");
    item.dataset.rule = String(r.id);
    const extra = r.kind === "loitering" ? ` ${r.seconds} s` : r.kind === "crowding"
      ? ` ≥ ${r.count}` : r.kind === "line"
        ? ` (${ruleForm.direction.querySelector(`[value="${r.direction}"]`).textContent})` : "";
    const on = document.createElement("input");
    on.type = "checkbox";
    on.checked = r.enabled;
    on.title = labels.enabled;
    on.addEventListener("change", async () => {
      const answer = await send("PATCH", `/api/cameras/${cam}/rules/${r.id}`,
                                {enabled: on.checked});
      if (!answer.ok) say(await refusal(answer), true);
      await loadRules();
    });
    item.append(on, ` ${labels[r.kind] || r.kind}${r.name ? ` «${r.name}»` : ""}${extra} `);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = labels.remove;
    remove.addEventListener("click", async () => {
      const answer = await send("DELETE", `/api/cameras/${cam}/rules/${r.id}`);
      if (!answer.ok) say(await refusal(answer), true);
      await loadRules();
    });
    item.append(remove);
    return item;
  }));
  draw();
}

function schedule(data) {
  const from = data.get("from");
  const to = data.get("to");
  const days = data.getAll("days");
  const windows = from && to ? [{days, start: from, end: to}]
    : days.length < 7 ? [{days, start: "00:00", end: "24:00"}] : [];
  return {windows, holidays_all_day: Boolean(data.get("holidays"))};
}

ruleForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(ruleForm);
  const kind = data.get("kind");
  const body = {kind, name: data.get("name").trim(), schedule: schedule(data),
                labels: data.get("labels").split(",").map((s) => s.trim()).filter(Boolean)};
  if (kind === "line") {
    body.line = points;
    body.direction = data.get("direction");
  } else if (kind !== "tamper") {
    body.zone = points;
  }
  if (kind === "loitering") body.seconds = Number(data.get("seconds"));
  if (kind === "crowding") body.count = Number(data.get("count"));
  const response = await send("POST", `/api/cameras/${cam}/rules`, body);
  if (!response.ok) {
    say(await refusal(response), true);
    return;
  }
  points = [];
  say(labels.saved);
  await loadRules();
});

async function loadMotion() {
  const response = await fetch(`/api/cameras/${cam}/motion`);
  if (!response.ok) return;
  const settings = await response.json();
  motionForm.sensitivity.value = String(settings.sensitivity);
  motionForm.activity.checked = settings.activity;
  masks = settings.masks;
  document.getElementById("masks").textContent = String(masks.length);
  draw();
}

document.getElementById("add-mask").addEventListener("click", () => {
  if (points.length < 3) return;
  masks.push(points);
  points = [];
  document.getElementById("masks").textContent = String(masks.length);
  draw();
});
document.getElementById("clear-masks").addEventListener("click", () => {
  masks = [];
  document.getElementById("masks").textContent = "0";
  draw();
});

motionForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await send("PUT", `/api/cameras/${cam}/motion`, {
    activity: motionForm.activity.checked, sensitivity: Number(motionForm.sensitivity.value),
    masks});
  if (!response.ok) {
    say(await refusal(response), true);
    return;
  }
  say(labels.saved);
  await loadMotion();
});

const picture = document.getElementById("picture");
picture.addEventListener("error", () => say(labels.nopicture, true));
picture.addEventListener("load", () => { picture.dataset.loaded = "true"; });
picture.src = `/api/cameras/${cam}/still`;
showFields();
await loadRules();
await loadMotion();
