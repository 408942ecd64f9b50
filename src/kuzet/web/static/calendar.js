// The archive's calendar: a month of days, those with footage of the camera marked
// (days of the display time zone, from /api/cameras/<camera>/days). Picking a day shows
// it on the timeline.
export class Calendar {
  constructor(root, camera, onPick) {
    this.root = root;
    this.camera = camera;
    this.onPick = onPick;
    this.title = document.createElement("output");
    this.grid = document.createElement("div");
    this.grid.className = "days";
    const back = document.createElement("button");
    back.textContent = "‹";
    back.type = "button";
    back.addEventListener("click", () => this.move(-1));
    const forward = document.createElement("button");
    forward.textContent = "›";
    forward.type = "button";
    forward.addEventListener("click", () => this.move(1));
    const bar = document.createElement("div");
    bar.append(back, this.title, forward);
    root.replaceChildren(bar, this.grid);
    const today = new Date();
    this.year = today.getFullYear();
    this.month = today.getMonth() + 1;
    this.monthName = new Intl.DateTimeFormat(document.documentElement.lang,
                                             {year: "numeric", month: "long", timeZone: "UTC"});
  }

  move(step) {
    this.month += step;
    if (this.month < 1) { this.month = 12; this.year -= 1; }
    if (this.month > 12) { this.month = 1; this.year += 1; }
    this.load();
  }

  async load() {
    const month = `${this.year}-${String(this.month).padStart(2, "0")}`;
    this.title.textContent = this.monthName.format(new Date(Date.UTC(this.year, this.month - 1)));
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
