import {fileStamp} from "/static/zone.js";

// Changes through the API: JSON with the CSRF token the login left in a readable cookie
// (the session cookie itself is HttpOnly).
export async function send(method, path, body) {
  const csrf = (document.cookie.match(/(?:^|; )kuzet_csrf=([^;]*)/) || [])[1] || "";
  return fetch(path, {
    method,
    headers: {"content-type": "application/json", "x-csrf-token": decodeURIComponent(csrf)},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

// A file as the raw body of a PUT (or `method`), its type as the browser knows it; the
// server reads the real type from the bytes.
export async function upload(path, file, method = "PUT") {
  const csrf = (document.cookie.match(/(?:^|; )kuzet_csrf=([^;]*)/) || [])[1] || "";
  return fetch(path, {
    method,
    headers: {"content-type": file.type || "application/octet-stream",
              "x-csrf-token": decodeURIComponent(csrf)},
    body: file,
  });
}

// The API's refusal as one line of text in the console's language: the server says it in
// the language of the `kuzet_lang` cookie, naming the clause that refused it where one did
// (its English detail where the server's catalogs do not hold it) and, for want of a
// permission, the roles given it and the caller's own.
export async function refusal(response) {
  if (response.status === 403) lockedElsewhere?.();
  const body = await response.json().catch(() => ({}));
  const said = typeof body.message === "string" ? body.message : body.detail;
  const text = typeof said === "string" ? said : `${response.status}`;
  return typeof body.who === "string" ? `${text} ${body.who}` : text;
}

// A button that does `handler` when pressed (type "button": it never sends a form).
export function button(label, handler) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", handler);
  return b;
}

// A table row of plain text cells (and nodes, such as links).
export function row(values) {
  const tr = document.createElement("tr");
  tr.append(...values.map((value) => {
    const cell = document.createElement("td");
    cell.append(value ?? "");
    return cell;
  }));
  return tr;
}

// The session's controls on every page of a logged-in person (templates/base.html loads
// this module): log out; switch user (log out, then the login brings the next person back
// to this page); and the screen lock, by hand or after `data-idle-lock-s` seconds without
// a key, a pointer or a touch in any window of this console. The lock covers the page
// (the header and the page turn inert) except on the video wall, whose live tiles keep
// playing under a bar; the server keeps the lock too (PUT /api/auth/lock, in the
// session's row): until the password unlocks it, footage, documents and changes are
// refused, so a covered page that is uncovered by hand shows nothing more.
//
// The lock is the session's, so every window of it shares one: a BroadcastChannel tells
// the others at once; localStorage holds the last input's time (input in any window
// keeps them all awake) and whose screen is locked (a window brought back from the
// background, or loaded while a lock request is on its way, covers itself; a lock the
// server has not confirmed is asked again until it is). A refusal (403) or a stream
// closed because the screen is locked (mse.js, the "kuzet-locked" event) asks the
// server, and covers the page if the session is locked.
const LAST_INPUT = "kuzet-last-input";
const LOCKED_BY = "kuzet-locked"; // the account whose screen is locked, until unlocked
const RETRY_LOCK_MS = 5000;
let lockedElsewhere = null; // set by sessionControls: ask the server whether it is locked

function sessionControls(account) {
  const body = document.body;
  const cover = document.getElementById("screen-lock");
  const form = document.getElementById("unlock");
  const said = document.getElementById("unlock-message");
  const idleMs = Number(body.dataset.idleLockS) * 1000;
  const channel = new BroadcastChannel("kuzet-screen-lock");
  let timer = 0;
  let noted = 0;

  async function leave(next) {
    localStorage.removeItem(LOCKED_BY);
    await send("POST", "/api/auth/logout");
    location.assign(next ? `/login?next=${encodeURIComponent(next)}` : "/login");
  }
  const here = () => location.pathname + location.search;

  function covered(on) {
    cover.hidden = !on;
    body.dataset.locked = on ? "yes" : "no";
    for (const part of document.querySelectorAll("body > header, body > main")) part.inert = on;
    if (on) form.elements.password.focus();
  }

  // Cover this window; `told`: the server (or another window, which asks it) knows.
  function showLock(told) {
    if (!cover.hidden) return;
    clearTimeout(timer);
    localStorage.setItem(LOCKED_BY, body.dataset.user);
    covered(true);
    if (!told) channel.postMessage("lock");
  }

  async function lock(reason) {
    if (!cover.hidden) return;
    showLock(false);
    // Until the server has it, the lock is only this browser's: ask again.
    while (localStorage.getItem(LOCKED_BY) === body.dataset.user) {
      const response = await send("PUT", "/api/auth/lock", {reason}).catch(() => null);
      if (response?.status === 401) return leave(here()); // the session ended meanwhile
      if (response && response.status < 500) return; // answered: no use asking again
      await new Promise((wake) => { setTimeout(wake, RETRY_LOCK_MS); });
    }
  }

  function awake() {
    clearTimeout(timer);
    if (!cover.hidden || idleMs <= 0) return;
    const last = Number(localStorage.getItem(LAST_INPUT)) || Date.now();
    const left = last + idleMs - Date.now();
    if (left <= 0) lock("idle");
    else timer = setTimeout(awake, left);
  }

  function input() {
    const now = Date.now();
    if (now - noted < 1000) return; // pointermove fires often; a second is plenty
    noted = now;
    localStorage.setItem(LAST_INPUT, String(now));
    awake();
  }

  function unlocked() {
    said.textContent = "";
    if (body.dataset.page === "/wall") {
      covered(false);
      awake();
      // an edition that came into force while locked is read first (UE-10-22 3.4.7)
      fetch("/status-bar").then((r) => { if (r.status === 401) location.reload(); });
    } else {
      location.reload(); // what the lock refused loads again
    }
  }

  lockedElsewhere = async () => {
    const me = await fetch("/api/auth/me").then((r) => r.json()).catch(() => ({}));
    if (me.locked) showLock(true);
  };

  channel.onmessage = (event) => {
    if (event.data === "lock") showLock(true);
    else if (event.data === "unlock" && !cover.hidden) unlocked();
  };
  addEventListener("kuzet-locked", () => lockedElsewhere());
  document.addEventListener("visibilitychange", () => {
    if (localStorage.getItem(LOCKED_BY) === body.dataset.user) showLock(true);
    else awake();
  });
  document.getElementById("logout").addEventListener("click", () => leave(""));
  document.getElementById("switch-user").addEventListener("click", () => leave(here()));
  document.getElementById("unlock-switch").addEventListener("click", () => leave(here()));
  document.getElementById("lock-now").addEventListener("click", () => lock("by hand"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = {username: body.dataset.user, password: form.elements.password.value};
    if (form.elements.totp.value) answer.totp = form.elements.totp.value;
    const response = await send("POST", "/api/auth/unlock", answer);
    form.reset();
    if (response.status === 401 && !(await fetch("/api/auth/me")).ok) {
      return leave(here()); // too many wrong unlocks ended the session
    }
    if (!response.ok) {
      said.textContent = `${account.dataset.failed} ${await refusal(response)}`;
      return;
    }
    localStorage.removeItem(LOCKED_BY);
    localStorage.setItem(LAST_INPUT, String(Date.now()));
    channel.postMessage("unlock");
    unlocked();
  });
  for (const kind of ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"]) {
    addEventListener(kind, input, {passive: true});
  }
  if (body.dataset.locked === "yes") showLock(true);
  else if (localStorage.getItem(LOCKED_BY) === body.dataset.user) lock("idle");
  else input();
}

const account = document.getElementById("account");
if (account) sessionControls(account);

/** Save a camera's still at `at` (ISO 8601), stamped and audited by the server for
 * `purpose`: null once saved, or the refused response, for the caller to say why. */
export async function saveSnapshot(camera, at, purpose) {
  const query = new URLSearchParams({at, purpose});
  const response = await fetch(`/api/cameras/${encodeURIComponent(camera)}/snapshot?${query}`);
  if (!response.ok) return response;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  // named in the display zone with its offset, as the stamp on the picture says it
  link.download = `${camera}-${fileStamp(Date.parse(at))}.png`;
  link.click();
  return null;
}
