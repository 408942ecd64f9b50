// Instants in the display time zone (the server's `display_timezone`, on <html data-zone>).
export const zone = document.documentElement.dataset.zone || "Asia/Almaty";

function parts(ms) {
  return Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "longOffset"})
    .formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
}

// "2026-11-27T14:03:05+05:00": what the start field shows and the API reads.
export function isoInZone(ms) {
  const p = parts(ms);
  const offset = p.timeZoneName.replace("GMT", "") || "+00:00";
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}`;
}

// The instant a calendar day ("2026-11-27") begins in the zone.
export function dayStartMs(date) {
  const guess = Date.parse(`${date}T00:00:00Z`);
  const p = parts(guess);
  const shown = Date.parse(`${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}Z`);
  return guess - (shown - guess);
}

export const clockFormat = new Intl.DateTimeFormat(document.documentElement.lang, {
  timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"});
