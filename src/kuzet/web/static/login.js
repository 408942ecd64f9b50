// Log in through the API, then, when the account owes them, change the one-time password
// and enrol a second factor. The session cookie is HttpOnly; the CSRF token from the
// login answer goes with every change.
import {refusal} from "/static/api.js";
import {nextPath} from "/static/next.js";
import {clockFormat} from "/static/zone.js";

const forms = {
  login: document.getElementById("login"),
  password: document.getElementById("password"),
  enrol: document.getElementById("enrol"),
  codes: document.getElementById("codes"),
  notices: document.getElementById("notices"),
};
const message = document.getElementById("message");
let csrf = "";
let oldPassword = "";
let owesSecondFactor = false;
let notices = [];
const noticeLabels = document.getElementById("notice-labels").dataset;

function only(name) {
  for (const [key, form] of Object.entries(forms)) form.hidden = key !== name;
  message.textContent = "";
}

async function call(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: {"content-type": "application/json", "x-csrf-token": csrf},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    message.textContent = `${message.dataset.rejected} ${await refusal(response)}`;
    return null;
  }
  return response.json().catch(() => ({}));
}

async function next() {
  if (owesSecondFactor) {
    const answer = await call("/api/auth/totp/enrol");
    if (!answer) return;
    const secret = new URL(answer.otpauth_uri).searchParams.get("secret");
    document.getElementById("secret").textContent = secret.replace(/(.{4})/g, "$1 ").trim();
    // The server's QR code of the same address, parsed as SVG (never as HTML) and shown
    // beside the key for the phone's camera.
    const qr = new DOMParser().parseFromString(answer.qr_svg, "image/svg+xml").documentElement;
    document.getElementById("qr").replaceChildren(document.importNode(qr, true));
    only("enrol");
    return;
  }
  if (notices.length) {
    // Changes made to the account by others, told once, before anything else.
    document.getElementById("notice-list").replaceChildren(...notices.map((n) => {
      const li = document.createElement("li");
      li.textContent = `${clockFormat.format(new Date(n.at))} — ${noticeLabels[n.action] || n.action}` +
        ` — ${n.by}` + (n.outcome === "refused" ? ` (${noticeLabels.refused})` : "");
      return li;
    }));
    notices = [];
    only("notices");
    return;
  }
  location.assign(nextPath(new URLSearchParams(location.search).get("next"), location.origin));
}

forms.login.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(forms.login));
  if (!data.totp) delete data.totp;
  const response = await fetch("/api/auth/login", {
    method: "POST",
    headers: {"content-type": "application/json"},
    body: JSON.stringify(data),
  });
  if (!response.ok) {
    message.textContent = message.dataset.failed;
    return;
  }
  const answer = await response.json();
  localStorage.removeItem("kuzet-locked"); // a new session: no earlier one's lock (api.js)
  csrf = answer.csrf;
  oldPassword = data.password;
  owesSecondFactor = answer.second_factor_missing;
  notices = answer.notices || [];
  if (answer.must_change_password) only("password");
  else await next();
});

forms.password.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(forms.password));
  if (data.new_password !== data.confirm_password) { // caught here, before anything is sent
    message.textContent = message.dataset.mismatch;
    forms.password.elements.confirm_password.focus();
    return;
  }
  if (await call("/api/auth/password", {old_password: oldPassword,
                                         new_password: data.new_password})) await next();
});

forms.enrol.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(forms.enrol));
  const answer = await call("/api/auth/totp/confirm", {code: data.code});
  if (answer) {
    owesSecondFactor = false;
    document.getElementById("code-list").replaceChildren(...answer.recovery_codes.map((c) => {
      const li = document.createElement("li");
      li.textContent = c;
      return li;
    }));
    only("codes");
  }
});
document.getElementById("codes-done").addEventListener("click", next);
// The login button waits for the listener above (login.html): a click before this module
// ran sent the form to the page itself, and a test's first login waited on it for ever.
forms.login.querySelector("button").disabled = false;
document.getElementById("notices-done").addEventListener("click", next);
