// One edition of the regulation: the signed scan attached by those who prepare editions,
// the rector's decision with the order that brings it into force (4.1, 4.3), a draft's
// withdrawal, and who has acknowledged it. Each form shows only to whoever may use it;
// the server decides, and says why not.
import {refusal, row, send, upload} from "/static/api.js";
import {clockFormat} from "/static/zone.js";

const section = document.getElementById("edition");
const {id, state, preparedBy, scan} = section.dataset;
const message = document.getElementById("message");
const forms = {scan: document.getElementById("scan"), decide: document.getElementById("decide")};
const withdraw = document.getElementById("withdraw");

async function answered(response) {
  if (response.ok) {
    location.reload();
    return;
  }
  message.textContent = `${message.dataset.rejected} ${await refusal(response)}`;
}

async function prepare() {
  const me = await (await fetch("/api/auth/me")).json();
  const perms = me.perms || [];
  const keeper = perms.includes("edition.prepare");
  const rector = perms.includes("edition.approve");
  forms.scan.hidden = !(keeper && (state === "pending" || (state === "approved" && !scan)));
  forms.decide.hidden = !(rector && state === "pending");
  withdraw.hidden = !(state === "pending" && (me.name === preparedBy || rector));
  if (keeper || rector) {
    const response = await fetch(`/api/editions/${id}/acquaintances`);
    if (response.ok) {
      document.getElementById("acquainted-rows").replaceChildren(...(await response.json())
        .map((a) => row([a.account, clockFormat.format(new Date(a.at)), a.language, a.source])));
      document.getElementById("acquainted").hidden = false;
    }
  }
}

forms.scan.addEventListener("submit", async (event) => {
  event.preventDefault();
  await answered(await upload(`/api/editions/${id}/scan`, new FormData(forms.scan).get("scan")));
});

forms.decide.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(forms.decide);
  await answered(await send("POST", `/api/editions/${id}/approve`, {
    order_no: data.get("order_no"), order_date: data.get("order_date"),
    effective: data.get("effective")}));
});

document.getElementById("reject").addEventListener("click", async () => {
  const note = new FormData(forms.decide).get("note");
  await answered(await send("POST", `/api/editions/${id}/reject`, {note}));
});

withdraw.addEventListener("click", async () => {
  await answered(await send("POST", `/api/editions/${id}/withdraw`));
});

prepare();
