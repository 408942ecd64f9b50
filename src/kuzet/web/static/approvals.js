// The rector's inbox: every request waiting for a decision that the signed-in person may
// take (transfers, holds, privileged roles, access by instruction, the regulation's
// editions, centres that receive live video), in one list. Nothing
// one asked for oneself offers a decision; the server refuses it anyway.
import {button, refusal, send} from "/static/api.js";
import {clockFormat, dayStartMs, isoInZone, shownIso} from "/static/zone.js";

const labels = document.getElementById("labels").dataset;
const message = document.getElementById("message");
const when = (ns) => clockFormat.format(new Date(ns / 1e6));
const yearAhead = () => isoInZone(Date.now() + 365 * 86400e3).slice(0, 10);
// The last second of a day (YYYY-MM-DD) of the display zone, as the API takes an instant.
const endOfDay = (date) => new Date(dayStartMs(date) + 86399e3).toISOString();

function item(section, text, actions) {
  const li = document.createElement("li");
  const what = document.createElement("span");
  what.textContent = text;
  li.append(what, ...actions);
  section.querySelector("ul").append(li);
  section.hidden = false;
  return li;
}

async function decide(path, body) {
  const response = await send("POST", path, body);
  message.textContent = response.ok ? "" : `${message.dataset.rejected} ` +
    await refusal(response);
  if (response.ok) load();
}

function decisions(mine, approve, rejectPath, extra = []) {
  if (mine) return [];
  const note = document.createElement("input");
  note.placeholder = labels.reason;
  note.setAttribute("aria-label", labels.reason); // a placeholder is no label (issue 21)
  note.maxLength = 500;
  return [...extra, button(labels.approve, approve), note,
          button(labels.reject, () => decide(rejectPath, {note: note.value}))];
}

function orderFields(assignment) {
  const no = document.createElement("input");
  no.name = "order_no";
  no.placeholder = labels.orderNo;
  no.setAttribute("aria-label", labels.orderNo);
  no.maxLength = 64;
  no.value = assignment.order_no || "";
  const date = document.createElement("input");
  date.name = "order_date";
  date.type = "date";
  date.title = labels.orderDate;
  date.setAttribute("aria-label", labels.orderDate);
  date.value = assignment.order_date || "";
  return [no, date];
}

async function list(path) {
  const response = await fetch(path);
  if (response.status === 401) location.assign("/login?next=/approvals");
  // A refusal says why (and who may) instead of leaving its section empty.
  if (!response.ok) document.getElementById("message").textContent = await refusal(response);
  return response.ok ? response.json() : [];
}

async function load() {
  for (const id of ["transfers", "holds", "roles", "rectors", "grants", "editions", "centres",
                    "resets"]) {
    const section = document.getElementById(id);
    section.hidden = true;
    section.querySelector("ul").replaceChildren();
  }
  const me = await (await fetch("/api/auth/me")).json();
  const perms = me.perms || [];
  let waiting = 0;
  if (perms.includes("transfer.decide")) {
    for (const t of await list("/api/transfers?state=pending")) {
      const link = document.createElement("a");
      link.href = `/transfers/${t.id}`;
      link.textContent = labels.open;
      item(document.getElementById("transfers"), `${t.number} — ${t.requester}: ` +
           `${t.cameras.join(", ")}, ${when(t.start_ns)} — ${when(t.end_ns)}`, [link]);
      waiting += 1;
    }
  }
  if (perms.includes("hold.approve")) {
    // A transfer's hold is decided with its transfer, listed above (clause 3.5.6).
    for (const h of [...await list("/api/holds?state=pending"),
                     ...await list("/api/holds?state=lapsed")].filter((x) => !x.transfer)) {
      const until = document.createElement("input");
      until.type = "date";
      until.value = yearAhead();
      until.title = labels.keep;
      until.setAttribute("aria-label", labels.keep);
      const ranges = h.ranges.map((r) => `${r.camera} ${shownIso(r.start)} — ` +
                                  shownIso(r.end)).join("; ");
      item(document.getElementById("holds"), `#${h.id} ${h.incident}: ${h.reason} (${ranges}; ` +
           `${h.requested_by})`, decisions(h.requested_by === me.name,
        // no date: the server's refusal says what is missing
        () => decide(`/api/holds/${h.id}/approve`,
                     {expires: until.value ? endOfDay(until.value) : ""}),
        `/api/holds/${h.id}/reject`, [until]));
      waiting += 1;
    }
  }
  if (perms.includes("role.approve")) {
    for (const a of await list("/api/role-assignments?state=pending")) {
      // The administrator is appointed by the rector's order (clause 3.4.2): its number
      // and date go with the approval when the request did not carry them.
      const order = a.role === "administrator" ? orderFields(a) : [];
      const body = () => order.length && order[0].value ?
        {order_no: order[0].value, order_date: order[1].value} : {};
      item(document.getElementById("roles"), `${a.user}: ${a.role}` +
           (a.order_no ? ` (№ ${a.order_no}, ${a.order_date})` : "") + ` — ${a.requested_by}`,
           decisions(a.requested_by === me.name || a.user === me.name,
             () => decide(`/api/role-assignments/${a.id}/approve`, body()),
             `/api/role-assignments/${a.id}/reject`, order));
      waiting += 1;
    }
  }
  if (perms.includes("role.approve")) {
    // Several active rectors, left by an older Kuzet (clauses 3.5.4, 4.1): each of them
    // revokes the others' role; one's own ends only by a hand-over.
    const rectors = (await list("/api/role-assignments?state=active"))
      .filter((a) => a.role === "rector");
    if (rectors.length > 1) {
      for (const a of rectors) {
        item(document.getElementById("rectors"), `${a.user}: ${a.role} — ${a.decided_by}`,
             a.user === me.name ? [] :
               [button(labels.revoke, () => decide(`/api/role-assignments/${a.id}/revoke`))]);
        waiting += 1;
      }
    }
  }
  if (perms.includes("grant.approve")) {
    for (const g of (await list("/api/grants")).filter((x) => x.state === "pending")) {
      item(document.getElementById("grants"), `${g.user}: ${g.perms.join(", ")} — ` +
           `${g.cameras.join(", ")}, ${g.footage_from} — ${g.footage_to} (${g.instruction})`,
           decisions(g.requested_by === me.name,
             () => decide(`/api/grants/${g.id}/approve`, {}), `/api/grants/${g.id}/reject`));
      waiting += 1;
    }
  }
  if (perms.includes("edition.approve")) {
    // An edition of the regulation is read whole before it is approved (4.1, 4.3): its
    // page holds the text and the order's fields.
    for (const e of (await list("/api/editions")).filter((x) => x.state === "pending")) {
      const link = document.createElement("a");
      link.href = `/editions/${e.id}`;
      link.textContent = labels.open;
      item(document.getElementById("editions"), `${labels[e.kind].replace("{number}", e.number)}` +
           ` — ${e.title} (${e.prepared_by})`, [link]);
      waiting += 1;
    }
  }
  if (perms.includes("centre.approve")) {
    // A centre, or a change of its cameras: the whole set asked for (3.2.11).
    const register = await list("/api/centres");
    for (const c of register.centres || []) {
      for (const r of c.requests.filter((x) => x.state === "pending")) {
        const cameras = Object.entries(r.cameras).map(([k, v]) => `${k}/${v}`).join(", ");
        item(document.getElementById("centres"), `${c.name} (${c.addresses.join(", ")}): ` +
             `${cameras || "—"} — ${r.reason || ""} (${r.requested_by})`,
             decisions(r.requested_by === me.name,
               () => decide(`/api/centres/requests/${r.id}/approve`),
               `/api/centres/requests/${r.id}/reject`));
        waiting += 1;
      }
    }
    for (const p of await list("/api/centres/pushes?unreviewed=true")) {
      const cameras = Object.keys(p.cameras).join(", ");
      item(document.getElementById("centres"), `${labels.push}: ${cameras}, ${p.incident} — ` +
           `${p.reason} (${p.requested_by}, ${shownIso(p.requested)} — ${shownIso(p.expires)})`,
           [button(labels.seen, () => decide(`/api/centres/requests/${p.id}/review`))]);
      waiting += 1;
    }
  }
  if (perms.includes("second_factor.reset")) {
    for (const r of await list("/api/second-factor-resets")) {
      const mine = r.asked_by === me.name || r.name === me.name;
      item(document.getElementById("resets"), `${r.name} (${r.display_name}) — ${r.asked_by}, ` +
           when(Date.parse(r.asked) * 1e6),
           mine ? [] : [button(labels.confirm,
                               () => decide(`/api/users/${r.name}/totp-reset/confirm`))]);
      waiting += 1;
    }
  }
  document.getElementById("empty").hidden = waiting > 0;
  document.querySelector("main").dataset.loaded = "true";
}

load();
