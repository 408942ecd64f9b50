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

// One way of writing an instant in every language (issue 21): the display zone's own,
// day.month.year and the 24-hour clock ("05.12.2026 18:19:41"), never the browser's locale
// (English would otherwise get US dates). Each has the `format(date)` of Intl's formatters.
export const clockFormat = {
  format(date) {
    const p = parts(date.getTime());
    return `${p.day}.${p.month}.${p.year} ${p.hour}:${p.minute}:${p.second}`;
  },
};

// An instant the API writes as ISO 8601 in UTC (to the nanosecond: "…T09:42:03.288152708Z")
// as clockFormat shows it; "" for none. Date.parse is only sure of milliseconds.
export function shownIso(iso) {
  return iso ? clockFormat.format(new Date(Date.parse(iso.replace(/(\.\d{3})\d+/, "$1")))) : "";
}

// "30.09.2026": a calendar day the API writes as "2026-09-30" (a day of the display zone),
// day.month.year as clockFormat writes it; "" for none.
export function shownDate(day) {
  const [year, month, date] = (day || "").split("-");
  return date ? `${date}.${month}.${year}` : "";
}

// "18:19:41": the time of day alone (the timeline's ticks).
export const timeFormat = {
  format(date) {
    const p = parts(date.getTime());
    return `${p.hour}:${p.minute}:${p.second}`;
  },
};

// "05.12 18:00": the hour an instant falls in (the Events page's bars).
export const hourFormat = {
  format(date) {
    const p = parts(date.getTime());
    return `${p.day}.${p.month} ${p.hour}:00`;
  },
};

// "2026-12-05_18-19-41+0500": an instant in a file name, in the zone with its offset,
// so that a saved file's name says the same time as the picture's stamp.
export function fileStamp(ms) {
  const p = parts(ms);
  const offset = (p.timeZoneName.replace("GMT", "") || "+00:00").replace(":", "");
  return `${p.year}-${p.month}-${p.day}_${p.hour}-${p.minute}-${p.second}${offset}`;
}
