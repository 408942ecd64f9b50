// The regulation in force, read to its end and acknowledged (UE-10-22 3.1.4, 3.4.7): the
// confirmation unlocks once the text has been scrolled to its end (or fits unscrolled),
// and names the text shown by its SHA-256, which the server checks against the edition
// in force; then on to the page the person asked for.
import {refusal, send} from "/static/api.js";
import {nextPath} from "/static/next.js";

const text = document.getElementById("text");
const form = document.getElementById("acknowledge");
const message = document.getElementById("message");

function atTheEnd() {
  return text.scrollTop + text.clientHeight >= text.scrollHeight - 4;
}

function unlock() {
  if (!atTheEnd()) return;
  form.elements.read.disabled = false;
  document.getElementById("scroll-hint").hidden = true;
}

if (text && form) {
  text.addEventListener("scroll", unlock);
  unlock();
  form.elements.read.addEventListener("change", () => {
    form.querySelector("button[type=submit]").disabled = !form.elements.read.checked;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await send("POST", `/api/editions/${text.dataset.edition}/acknowledge`, {
      language: text.dataset.language, text_sha256: text.dataset.sha256});
    if (!response.ok) {
      message.textContent = `${message.dataset.rejected} ${await refusal(response)}`;
      return;
    }
    location.assign(nextPath(new URLSearchParams(location.search).get("next"),
                             location.origin));
  });
}
