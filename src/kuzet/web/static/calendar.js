// The archive's calendar: a month of days, those with footage of the camera marked
// (days of the display time zone, from /api/cameras/<camera>/days). Picking a day shows
// it on the timeline. By keyboard the days are buttons: Tab reaches the month, the arrows
// move a day (left, right) or a week (up, down), Enter picks.
import {isoInZone} from "/static/zone.js";

export class Calendar {
  constructor(root, camera, onPick) {
    this.root = root;
    this.camera = camera;
    this.onPick = onPick;
    this.title = document.createElement("output");
    this.grid = document.createElement("div");
    this.grid.className = "days";
    this.grid.addEventListener("keydown", (event) => {
      const step = {ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7}[event.key];
      const days = [...this.grid.querySelectorAll("button")];
      const at = days.indexOf(document.activeElement);
      if (!step || at < 0) return;
      event.preventDefault();
      days[Math.min(days.length - 1, Math.max(0, at + step))].focus();
    });
    const back = document.createElement("button");
    back.textContent = "‹";
    back.type = "button";
    back.setAttribute("aria-label", root.dataset.previous || "‹");
    back.addEventListener("click", () => this.move(-1));
    const forward = document.createElement("button");
    forward.textContent = "›";
    forward.type = "button";
    forward.setAttribute("aria-label", root.dataset.next || "›");
    forward.addEventListener("click", () => this.move(1));
    const bar = document.createElement("div");
    bar.append(back, this.title, forward);
    root.replaceChildren(bar, this.grid);
    const today = isoInZone(Date.now()); // this month of the display zone, not the browser's
    this.year = Number(today.slice(0, 4));
    this.month = Number(today.slice(5, 7));
    // the month's name from the page's catalog (data-months): Chromium's Intl has no
    // Kazakh month names ("2026 M12"), and every language is said alike: "Желтоқсан 2026"
    this.months = (root.dataset.months || "").split(",");
  }

  move(step) {
    this.month += step;
    if (this.month < 1) { this.month = 12; this.year -= 1; }
    if (this.month > 12) { this.month = 1; this.year += 1; }
    this.load();
  }

  async load() {
    const month = `${this.year}-${String(this.month).padStart(2, "0")}`;
    this.title.textContent = this.months.length === 12
      ? `${this.months[this.month - 1]} ${this.year}` : month;
    const response = await fetch(
      `/api/cameras/${encodeURIComponent(this.camera)}/days?month=${month}`);
    const found = new Set(response.ok ? (await response.json()).days : []);
    const first = new Date(Date.UTC(this.year, this.month - 1, 1)).getUTCDay(); // 0: Sunday
    const count = new Date(Date.UTC(this.year, this.month, 0)).getUTCDate();
    const cells = Array.from({length: (first + 6) % 7}, () => document.createElement("span"));
    for (let day = 1; day <= count; day++) {
      const date = `${month}-${String(day).padStart(2, "0")}`;
      const cell = document.createElement("button");
      cell.type = "button";
      cell.textContent = String(day);
      cell.dataset.date = date;
      cell.className = found.has(date) ? "has" : "none";
      cell.addEventListener("click", () => this.onPick(date));
      cells.push(cell);
    }
    this.grid.replaceChildren(...cells);
    this.root.dataset.month = month;
  }
}
