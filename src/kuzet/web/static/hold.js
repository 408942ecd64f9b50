// The hold request under a registered document (clause 3.3): its footage, padded, kept
// past retention once the rector approves. Shown to those who may request holds.
import {refusal, send} from "/static/api.js";

export function holdForm(path, registered, perms, say) {
  const form = document.getElementById("hold");
  form.hidden = !(registered && perms.includes("hold.request"));
  form.onsubmit = async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const response = await send("POST", path, {
      before_s: Number(data.get("before_s")), after_s: Number(data.get("after_s")),
      reason: data.get("reason")});
    say(response.ok, response.ok ? "" : await refusal(response));
    if (!response.ok) return;
    form.hidden = true; // what happens next, not just "saved" (issue 21)
    const told = document.createElement("p");
    told.id = "hold-requested";
    told.setAttribute("role", "status");
    told.textContent = form.dataset.requested;
    form.after(told);
  };
}
