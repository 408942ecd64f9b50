// One incident protocol: its author writes and registers it; a reviewer marks it
// reviewed; a member of the Management Board acknowledges it once registered. The server
// decides who may do what; the page only hides what cannot apply.
import {refusal, send} from "/static/api.js";
import {acknowledgements} from "/static/board.js";
import {holdForm} from "/static/hold.js";
import {clockFormat, isoInZone} from "/static/zone.js";

const id = document.getElementById("protocol").dataset.id;
const fields = document.getElementById("fields");
const review = document.getElementById("review");
const message = document.getElementById("message");
const state = document.getElementById("state");
const board = document.getElementById("board");
const acknowledge = document.getElementById("acknowledge");

function say(ok, detail = "") {
  message.textContent = ok ? message.dataset.saved : `${message.dataset.rejected} ${detail}`;
  message.dataset.state = ok ? "ok" : "rejected";
}

function show(p, me) {
  document.getElementById("number").textContent = p.number || "";
  document.getElementById("camera").textContent = p.camera;
  document.getElementById("at").textContent = clockFormat.format(new Date(p.at_ns / 1e6));
  state.textContent = state.dataset[p.state];
  state.dataset.state = p.state;
  for (const name of ["location", "circumstances", "measures"]) {
    fields.elements[name].value = p[name];
  }
  fields.elements.informed.value = p.informed_ns ? isoInZone(p.informed_ns / 1e6)
    : isoInZone(Date.now());
  const mine = p.author === me.name && p.state === "draft";
  for (const element of fields.elements) element.disabled = !mine;
  review.hidden = !(p.state === "submitted" && p.author !== me.name &&
                    me.perms.includes("protocol.review"));
  for (const lang of ["kk", "ru", "en"]) {
    document.getElementById(`pdf-${lang}`).href = `/api/protocols/${id}/pdf?lang=${lang}`;
  }
  holdForm(`/api/protocols/${id}/hold`, p.state !== "draft", me.perms || [], say);
  board.hidden = !p.number;
  document.getElementById("acknowledgements").replaceChildren(...p.acknowledgements.map((a) => {
    const item = document.createElement("li");
    item.textContent = acknowledgements([a]);
    item.dataset.member = a.member;
    return item;
  }));
  acknowledge.hidden = !(p.number && (me.perms || []).includes("protocol.read") &&
                         !p.acknowledgements.some((a) => a.member === me.name));
}

async function answer(response) {
  if (!response.ok) {
    say(false, await refusal(response));
    return null;
  }
  return response.json();
}

async function save() {
  const body = Object.fromEntries(new FormData(fields));
  return answer(await send("PUT", `/api/protocols/${id}`, body));
}

const meResponse = await fetch("/api/auth/me");
if (meResponse.status === 401) location.assign(`/login?next=/protocols/${id}`);
const me = await meResponse.json();
const first = await answer(await fetch(`/api/protocols/${id}`));
if (first) show(first, me);

fields.addEventListener("submit", async (event) => {
  event.preventDefault();
  const p = await save();
  if (p) {
    show(p, me);
    say(true);
  }
});
// Registering cannot be undone (the number is given for good, 3.5.7): asked once more
// in the page, and then said with the number.
const confirmRegister = document.getElementById("confirm-register");
document.getElementById("submit").addEventListener("click", () => {
  confirmRegister.hidden = false;
  document.getElementById("register-yes").focus();
});
document.getElementById("register-no").addEventListener("click", () => {
  confirmRegister.hidden = true;
});
document.getElementById("register-yes").addEventListener("click", async () => {
  confirmRegister.hidden = true;
  if (!await save()) return;
  const p = await answer(await send("POST", `/api/protocols/${id}/submit`));
  if (p) {
    show(p, me);
    message.textContent = message.dataset.registered.replace("{number}", p.number);
    message.dataset.state = "ok";
  }
});
acknowledge.addEventListener("click", async () => {
  const p = await answer(await send("POST", `/api/protocols/${id}/acknowledge`));
  if (p) {
    show(p, me);
    say(true);
  }
});
review.addEventListener("submit", async (event) => {
  event.preventDefault();
  const p = await answer(await send("POST", `/api/protocols/${id}/review`,
                                    {note: review.elements.note.value}));
  if (p) {
    show(p, me);
    say(true);
  }
});
