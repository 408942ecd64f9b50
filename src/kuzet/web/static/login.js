// Log in through the API; the session cookie is HttpOnly, the CSRF token is kept for
// later changes. Messages come from the page (server-side catalogs).
const form = document.getElementById("login");
const message = document.getElementById("message");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form));
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
  if (answer.must_change_password) {
    message.textContent = message.dataset.change;
    return;
  }
  if (answer.second_factor_missing) {
    message.textContent = message.dataset.enrol;
    return;
  }
  const next = new URLSearchParams(location.search).get("next");
  location.assign(next && next.startsWith("/") ? next : "/");
});
