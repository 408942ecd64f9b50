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
// (its English detail where the server's catalogs do not hold it).
export async function refusal(response) {
  const body = await response.json().catch(() => ({}));
  const said = typeof body.message === "string" ? body.message : body.detail;
  return typeof said === "string" ? said : `${response.status}`;
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
