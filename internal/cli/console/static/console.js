// slasa console: live countdowns of the running ticket targets, the live
// event table, the notice that a shown ticket changed, and the SLA and
// wallet pages brought up to date when an event changes them (Server-Sent
// Events). Everything is written with textContent or imported from the
// console's own server-rendered page: no markup from the ledger reaches
// the page's HTML.
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

// refreshSections fetches the page again and replaces each section of ids
// with the server's new rendering of it: the console's own HTML, parsed by
// DOMParser (its scripts never run) and imported node by node, so no
// navigation happens and nothing is written with innerHTML. A page that
// cannot be fetched (an ended session redirects) rejects.
function refreshSections(ids) {
  return fetch(location.href, {credentials: "same-origin", redirect: "error", headers: {"Accept": "text/html"}})
    .then((r) => { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
    .then((html) => {
      const doc = new DOMParser().parseFromString(html, "text/html");
      for (const id of ids) {
        const fresh = doc.getElementById(id), old = document.getElementById(id);
        if (!fresh || !old) { throw new Error("the new page has no " + id); }
        old.replaceWith(document.importNode(fresh, true));
      }
    });
}

// liveSections refreshes the page's sections ids when an event changed
// them (one refresh at a time, one more for the events that arrive
// meanwhile) and then shows the events' notices in #live-notice.
function liveSections(ids) {
  const notice = document.getElementById("live-notice");
  let running = false, again = false, texts = [];
  const show = (err) => {
    notice.replaceChildren();
    notice.appendChild(document.createTextNode(texts.join(" ")));
    if (err) {
      notice.appendChild(document.createTextNode(" The page could not be updated (" + err.message + "): "));
      const a = document.createElement("a");
      a.href = "";
      a.textContent = "Reload";
      notice.appendChild(a);
    }
    notice.classList.remove("hidden");
  };
  const run = () => {
    running = true;
    again = false;
    refreshSections(ids).then(() => show(null), (err) => show(err)).finally(() => {
      running = false;
      if (again) { run(); }
    });
  };
  return (text) => {
    texts = texts.concat([text]).slice(-3);
    if (running) { again = true; } else { run(); }
  };
}

function startEvents() {
  const table = document.getElementById("events");
  const ticket = document.getElementById("ticket");
  const list = document.getElementById("ticketlist");
  const sla = document.getElementById("sla-live");
  const wallet = document.getElementById("wallet-live");
  if (!table && !ticket && !list && !sla && !wallet) { return; }
  const slaChanged = sla ? liveSections(["sla-fields", "periods-section"]) : null;
  const walletChanged = wallet ? liveSections(["wallet-fields", "wallet-history"]) : null;
  const state = document.getElementById("stream-state");
  const src = new EventSource("/events/stream");
  // The page's root element says whether the stream is connected (what
  // the browser tests wait for before another party acts).
  src.onopen = () => {
    document.documentElement.dataset.stream = "connected";
    if (state) { state.textContent = "connected"; }
  };
  src.onerror = () => {
    document.documentElement.dataset.stream = "retrying";
    if (state) { state.textContent = "disconnected, retrying…"; }
  };
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
    if (slaChanged && ev.notice && ev.sla_id === sla.dataset.sla) {
      slaChanged(ev.notice);
    }
    if (walletChanged && ev.notice && (!ev.wallets || ev.wallets.includes(wallet.dataset.wallet))) {
      walletChanged(ev.notice);
    }
  });
}

// The propose form: the document is checked on the server as you type
// (/propose/check answers every problem with its JSON path), and a chosen
// file is read into the text area.
function startSLACheck() {
  const text = document.getElementById("sla-text");
  const out = document.getElementById("sla-check");
  if (!text || !out) { return; }
  const form = text.form;
  const csrf = form.querySelector("input[name=csrf]").value;
  let timer = null, seq = 0;
  const show = (c) => {
    out.replaceChildren();
    const head = document.createElement("p");
    if (c.valid) {
      head.className = "notice";
      head.textContent = "Valid SLA " + c.id + (c.digest ? ", digest " + c.digest : " (a nonce is added when you check it, then its digest is shown)");
    } else {
      head.className = "error";
      head.textContent = c.error ? c.error : c.problems.length + " problem(s):";
    }
    out.appendChild(head);
    if (c.problems && c.problems.length) {
      const ul = document.createElement("ul");
      ul.className = "problems";
      for (const p of c.problems) {
        const li = document.createElement("li");
        const code = document.createElement("code");
        code.textContent = p.Path;
        li.appendChild(code);
        li.appendChild(document.createTextNode(": " + p.Reason));
        ul.appendChild(li);
      }
      out.appendChild(ul);
    }
  };
  const check = () => {
    if (text.value.trim() === "") { out.replaceChildren(); return; }
    const mine = ++seq;
    fetch(text.dataset.check, {method: "POST", credentials: "same-origin",
      body: new URLSearchParams({csrf: csrf, sla: text.value})})
      .then((r) => r.json())
      .then((c) => { if (mine === seq) { show(c); } })
      .catch(() => { out.textContent = "The check could not reach the console."; });
  };
  text.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 400); });
  const file = document.getElementById("sla-file");
  if (file) {
    file.addEventListener("change", () => {
      if (!file.files.length) { return; }
      file.files[0].text().then((t) => { text.value = t; check(); });
    });
  }
  check();
}

document.addEventListener("DOMContentLoaded", () => { startCountdowns(); startEvents(); startSLACheck(); });
