// The Management Board's acknowledgements of a protocol (clause 3.5.7) as text: each
// member with the instant they acknowledged it, in the display time zone.
import {clockFormat} from "/static/zone.js";

export function acknowledgements(list) {
  return list.map((a) => `${a.member} (${clockFormat.format(new Date(a.at_ns / 1e6))})`)
    .join(", ");
}
