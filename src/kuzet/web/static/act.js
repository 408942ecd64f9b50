// One act (clause 3.5.8): its author writes and registers it, then may ask for a hold of
// its footage. The server decides who may do what; the page hides what cannot apply.
import {refusal, send} from "/static/api.js";
import {holdForm} from "/static/hold.js";

const id = document.getElementById("act").dataset.id;
const fields = document.getElementById("fields");
const message = document.getElementById("message");
const state = document.getElementById("state");
const FIELDS = ["what", "persons", "witnesses", "consequences", "measures"];

function say(ok, detail = "") {
  message.textContent = ok ? message.dataset.saved : `${message.dataset.rejected} ${detail}`;
  message.dataset.state = ok ? "ok" : "rejected";
}

function show(a, me) {
  document.getElementById("number").textContent = a.number || "";
  document.getElementById("protocols").textContent = a.protocols.join(", ");
  state.textContent = state.dataset[a.state];
  state.dataset.state = a.state;
  for (const name of FIELDS) fields.elements[name].value = a[name];
  const mine = a.author === me.name && a.state === "draft";
  for (const element of fields.elements) element.disabled = !mine;
  for (const lang of ["kk", "ru", "en"]) {
    document.getElementById(`pdf-${lang}`).href = `/api/acts/${id}/pdf?lang=${lang}`;
  }
  holdForm(`/api/acts/${id}/hold`, a.state === "registered", me.perms || [], say);
}

async function call(me, method, path, body) {
  const response = await send(method, path, body);
  if (!response.ok) {
    say(false, await refusal(response));
    return false;
  }
  show(await response.json(), me);
  say(true);
  return true;
}

const meResponse = await fetch("/api/auth/me");
if (meResponse.status === 401) location.assign(`/login?next=/acts/${id}`);
const me = await meResponse.json();
const first = await fetch(`/api/acts/${id}`);
if (first.ok) show(await first.json(), me);
else say(false, await refusal(first));

const edited = () => Object.fromEntries(FIELDS.map((k) => [k, fields.elements[k].value]));
fields.addEventListener("submit", (event) => {
  event.preventDefault();
  call(me, "PUT", `/api/acts/${id}`, edited());
});
document.getElementById("register").addEventListener("click", async () => {
  if (await call(me, "PUT", `/api/acts/${id}`, edited())) {
    await call(me, "POST", `/api/acts/${id}/register`);
  }
});
