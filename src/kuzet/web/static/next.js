// Where a page that stood in the way (the login, the regulation to acknowledge) brings a
// person back to: `to` (the page they asked for) resolved the way the browser will resolve
// it, kept only if it stays on this server; a check on the text alone let "/\evil" and
// "/<tab>/evil" through, which browsers read as another host.
export function nextPath(to, origin) {
  if (!to) return "/";
  let url;
  try {
    url = new URL(to, origin);
  } catch {
    return "/";
  }
  return url.origin === origin ? url.pathname + url.search + url.hash : "/";
}
