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
