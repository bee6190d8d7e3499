// slasa console: live countdowns of the running ticket targets, the live
// event table and the notice that a shown ticket changed (Server-Sent
// Events). Everything is written with textContent: no markup from the
// ledger reaches the page's HTML.
"use strict";

function durText(ms) {
  if (ms < 0) { return "-" + durText(-ms); }
  const s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return (h ? h + "h" : "") + (m ? m + "m" : "") + ((r || (!h && !m)) ? r + "s" : "");
}

function startCountdowns() {
  const loaded = Date.now();
  const cells = Array.from(document.querySelectorAll(".countdown[data-remaining-ms]"));
  if (cells.length === 0) { return; }
  const tick = () => {
    const gone = Date.now() - loaded;
    for (const c of cells) {
      const left = Number(c.dataset.remainingMs) - gone;
      c.textContent = left < 0 ? "overdue " + durText(-left) : durText(left) + " left";
      c.classList.toggle("overdue", left < 0);
    }
  };
  tick();
  setInterval(tick, 1000);
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) { td.className = cls; }
  row.appendChild(td);
}

function startEvents() {
  const table = document.getElementById("events");
  const ticket = document.getElementById("ticket");
  const list = document.getElementById("ticketlist");
  if (!table && !ticket && !list) { return; }
  const state = document.getElementById("stream-state");
  const src = new EventSource("/events/stream");
  src.onopen = () => { if (state) { state.textContent = "connected"; } };
  src.onerror = () => { if (state) { state.textContent = "disconnected, retrying…"; } };
  src.addEventListener("chaincode", (msg) => {
    const ev = JSON.parse(msg.data);
    if (table) {
      const row = document.createElement("tr");
      cell(row, String(ev.block));
      cell(row, ev.chaincode);
      cell(row, ev.event);
      cell(row, ev.line);
      cell(row, ev.tx_id, "mono");
      table.tBodies[0].prepend(row);
    }
    if ((ticket && ev.sla_id === ticket.dataset.sla && ev.ticket_id === ticket.dataset.ticket) ||
        (list && ev.chaincode === "ticket" && ev.sla_id === list.dataset.sla)) {
      document.getElementById("changed").classList.remove("hidden");
    }
  });
}

document.addEventListener("DOMContentLoaded", () => { startCountdowns(); startEvents(); });
