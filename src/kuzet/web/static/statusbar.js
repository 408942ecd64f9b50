// The status bar on every page (templates/base.html, issue 21): cameras recording and
// not, alarms waiting, days of recording the disks still hold, this server's clock offset
// ("—" while no time server answered; marked past the alarm's limit, issue 22). The
// server renders the figures with the page; this refreshes them, and the menu's counts,
// every 30 s while the page is in view, from GET /status-bar: the same figures for the
// same caller
// (routes/console.py), counts only, never a picture or a camera's name. A refused answer
// (the session ended, the screen locked) stops it until the page is opened again.
const bar = document.getElementById("status-bar");
const menu = document.getElementById("menu");
const EVERY_MS = 30000;
let timer = 0;

function badge(href, count) {
  const link = menu?.querySelector(`a[href="${href}"]`);
  if (!link) return;
  let shown = link.querySelector(".count");
  if (count > 0) {
    if (!shown) {
      shown = document.createElement("span");
      shown.className = "count";
      link.append(" ", shown);
    }
    shown.textContent = String(count);
  } else if (shown) {
    shown.remove();
  }
}

function show(figures) {
  for (const cell of bar.querySelectorAll("[data-v]")) {
    const value = figures[cell.dataset.v];
    cell.textContent = value == null ? "—" : String(value);
  }
  for (const [href, count] of Object.entries(figures.badges || {})) badge(href, count);
  document.getElementById("clock-offset")?.classList.toggle("over", Boolean(figures.clock_over));
}

async function refresh() {
  if (document.hidden || document.body.dataset.locked === "yes") return;
  let response;
  try {
    response = await fetch("/status-bar", {cache: "no-store"});
  } catch {
    return; // the server restarting: the next turn tries again
  }
  if (!response.ok) {
    clearInterval(timer);
    return;
  }
  show(await response.json());
}

if (bar) {
  timer = setInterval(refresh, EVERY_MS);
  document.addEventListener("visibilitychange", refresh);
}
