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

// A file as the raw body of a PUT, its type as the browser knows it; the server reads
// the real type from the bytes.
export async function upload(path, file) {
  const csrf = (document.cookie.match(/(?:^|; )kuzet_csrf=([^;]*)/) || [])[1] || "";
  return fetch(path, {
    method: "PUT",
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
  const body = await response.json().catch(() => ({}));
  const said = typeof body.message === "string" ? body.message : body.detail;
  const text = typeof said === "string" ? said : `${response.status}`;
  return typeof body.who === "string" ? `${text} ${body.who}` : text;
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
// a key, a pointer or a touch. The lock covers the page (the header and the page turn
// inert) except on the video wall, whose live tiles keep playing under a bar; the server
// keeps the lock too (PUT /api/auth/lock): until the password unlocks it, footage,
// documents and changes are refused, so a covered page that is uncovered by hand shows
// nothing more.
function sessionControls(account) {
  const body = document.body;
  const cover = document.getElementById("screen-lock");
  const form = document.getElementById("unlock");
  const said = document.getElementById("unlock-message");
  const idleMs = Number(body.dataset.idleLockS) * 1000;
  let timer = 0;

  async function leave(next) {
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

  async function lock(reason) {
    if (!cover.hidden) return;
    clearTimeout(timer);
    covered(true);
    await send("PUT", "/api/auth/lock", {reason});
  }

  function awake() {
    clearTimeout(timer);
    if (cover.hidden && idleMs > 0) timer = setTimeout(() => lock("idle"), idleMs);
  }

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
    if (!response.ok) {
      said.textContent = `${account.dataset.failed} ${await refusal(response)}`;
      return;
    }
    said.textContent = "";
    if (body.dataset.page === "/wall") {
      covered(false);
      awake();
    } else {
      location.reload(); // what the lock refused loads again
    }
  });
  for (const kind of ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"]) {
    addEventListener(kind, awake, {passive: true});
  }
  if (body.dataset.locked === "yes") covered(true);
  else awake();
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
  link.download = `${camera}-${at.replace(/[:.]/g, "-")}.png`;
  link.click();
  return null;
}
