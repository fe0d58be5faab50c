/* operator.js — the counter operator's panel: log in, pick a counter, serve the line.
 *
 * State comes from the hub only: the welcome snapshot, then events folded in
 * with Signage.applyEvent. A command's ack is used for the feedback line; the
 * broadcast event that follows updates the screen, so the panel never shows
 * something the boards don't.
 */
"use strict";

(function () {
  var S = window.Signage;
  var TOKEN_KEY = "signage.operator.token";
  var FLEET_POLL_MS = 5000;
  var COUNTER_KEY = "signage.operator.counter";
  var NO_SHOW_KEY = "signage.operator.noShows";
  var KEYS = {n: "next", " ": "next", r: "recall", s: "skip", d: "done", c: "call", t: "transfer"};
  var NEEDS_TICKET = ["recall", "skip", "done", "transfer"];

  var $ = function (id) { return document.getElementById(id); };

  var conf = null;       // /config.json
  var counters = {};     // number → {number, name, agency}
  var services = {};     // code → {code, name, agency, counters}
  var agencies = {};     // code → {code, name, short_name}
  var link = null;
  var scope = null;      // welcome.counters: the token's counters, null = all
  var hall = null;       // live state: {seq, day, counters, waiting}
  var counter = null;    // the counter this panel works for
  var inFlight = null;   // the command waiting for its reply
  var status = {state: "stopped"};
  var noShows = loadNoShows();

  // ------------------------------------------------------------ start

  function boot() {
    S.loadPublicConfig().then(function (c) {
      conf = c;
      counters = S.indexBy(c.counters, "number");
      services = S.indexBy(c.services, "code");
      agencies = S.indexBy(c.agencies, "code");
      $("hall-name").textContent = c.hall.short_name + " · Panel Operator";
    }).catch(function (err) {
      // Still usable without names: counters and services show as numbers and codes.
      showFeedback("error", "Daftar loket dan layanan tidak bisa dimuat.", String(err));
    }).then(function () {
      var token = localStorage.getItem(TOKEN_KEY);
      if (token) connect(token); else show("login");
    });
    wireControls();
    setInterval(renderStatus, 1000); // the reconnect countdown
  }

  function connect(token) {
    if (link) link.stop();
    link = new S.HubLink({
      role: "operator", token: token, client: "web-operator", subscribe: true,
      onWelcome: function (welcome) { onWelcome(welcome, token); },
      onEvent: onEvent,
      onNotice: onNotice,
      onError: function (error) { showError(error); },
      onStatus: function (s) {
        status = s;
        if (s.delayMs) status.retryAt = Date.now() + s.delayMs;
        if (s.state === "refused") onRefused(s.error);
        else if (inFlight) showFeedback("pending", "Mengirim… ", "");
        renderStatus();
        renderButtons();
      }
    });
    link.start();
  }

  function onWelcome(welcome, token) {
    localStorage.setItem(TOKEN_KEY, token); // only a token the hub accepted is remembered
    scope = welcome.counters;
    hall = S.stateFromWelcome(welcome);
    voice = {receipts: {}, waiting: {}};
    if (welcome.voice) {
      welcome.voice.receipts.forEach(function (r) { voice.receipts[r.seq] = r; });
      welcome.voice.zones.forEach(function (z) { voice.waiting[z.zone] = z.waiting; });
    }
    var allowed = allowedCounters();
    var saved = Number(localStorage.getItem(COUNTER_KEY));
    if (allowed.indexOf(saved) >= 0) counter = saved;
    else if (allowed.length === 1) counter = allowed[0];
    else if (allowed.indexOf(counter) < 0) counter = null;
    $("logout").hidden = false;
    $("change-counter").hidden = allowed.length < 2;
    if (counter === null) showPicker();
    else if ($("desk").hidden) showDesk();
    else renderDesk(); // a reconnect: keep the feedback line as it is
    if (scope === null) watchFleet(); // all-counter tokens see the screens' alerts (/healthz)
  }

  /* The fleet banner: what /healthz says is wrong with the hall's screens, for supervisors. */
  var fleetTimer = null;
  function watchFleet() {
    clearTimeout(fleetTimer);
    fetch("/healthz", {cache: "no-store"}).then(function (resp) { return resp.json(); }).then(function (health) {
      var alerts = health.alerts || [];
      var banner = $("fleet-banner");
      banner.textContent = alerts.map(function (a) { return a.message; }).join(" · ");
      banner.hidden = alerts.length === 0 || scope !== null;
    }).catch(function () { /* the hub's link status already says it is unreachable */ }).then(function () {
      if (link && scope === null) fleetTimer = setTimeout(watchFleet, FLEET_POLL_MS);
    });
  }

  function onEvent(event) {
    if (!hall) return;
    var next = S.applyEvent(hall, event);
    if (next === null) {
      link.resync(); // a gap: reconnect for a fresh snapshot
      return;
    }
    hall = next;
    trackNoShows(event);
    renderDesk();
  }

  // ------------------------------------------------------------ voice (docs/voice.md)

  var voice = {receipts: {}, waiting: {}};
  var SKIP_REASONS = {
    stale: "terlalu lama menunggu", superseded: "digantikan panggilan berikutnya",
    merged: "digabung dengan panggilan sebelumnya", dropped: "antrean suara penuh",
    silent: "pengeras suara tidak tersedia"
  };

  function onNotice(notice) {
    if (notice.type === "receipt") voice.receipts[notice.seq] = notice;
    else if (notice.type === "voice_queue") voice.waiting[notice.zone] = notice.waiting;
    else return;
    renderDesk();
  }

  /* "dalam antrean suara (2)", "diumumkan ✓", "tidak diumumkan: <alasan>" for the current call. */
  function voiceText(c) {
    if (!c || !c.seq) return "";
    var receipt = voice.receipts[c.seq];
    if (receipt && receipt.status === "spoken") return "diumumkan ✓";
    if (receipt) return "tidak diumumkan: " + (SKIP_REASONS[receipt.reason] || receipt.reason);
    var zones = Object.keys(voice.waiting);
    for (var i = 0; i < zones.length; i++) {
      var at = voice.waiting[zones[i]].indexOf(c.seq);
      if (at >= 0) return "dalam antrean suara (" + (at + 1) + ")";
    }
    return "";
  }

  function onRefused(error) {
    localStorage.removeItem(TOKEN_KEY);
    hall = null;
    counter = null;
    $("logout").hidden = true;
    $("change-counter").hidden = true;
    show("login");
    var box = $("login-error");
    box.hidden = false;
    box.innerHTML = "";
    box.appendChild(errorNode(error));
  }

  function logout() {
    if (link) link.stop();
    link = null;
    clearTimeout(fleetTimer);
    $("fleet-banner").hidden = true;
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(COUNTER_KEY);
    hall = null;
    counter = null;
    $("logout").hidden = true;
    $("change-counter").hidden = true;
    $("login-error").hidden = true;
    $("token").value = "";
    document.title = "Panel Operator · Signage";
    show("login");
  }

  // ------------------------------------------------------------ counters and services

  function allowedCounters() {
    if (scope) return scope.slice();
    if (conf) return conf.counters.map(function (c) { return c.number; });
    return Object.keys(hall.counters).map(Number).sort(function (a, b) { return a - b; });
  }

  function counterName(number) {
    return counters[number] ? counters[number].name : "Loket " + number;
  }

  function counterAgency(number) {
    var c = counters[number], a = c && agencies[c.agency];
    return a ? a.short_name : "";
  }

  function serviceName(code) {
    return services[code] ? services[code].name : (code || "");
  }

  function servicesOf(number) {
    if (!conf) return Object.keys(hall.waiting);
    return conf.services.filter(function (s) { return s.counters.indexOf(number) >= 0; })
      .map(function (s) { return s.code; });
  }

  function current() {
    var c = hall && counter !== null ? hall.counters[counter] : null;
    return c && c.ticket ? c : null;
  }

  // ------------------------------------------------------------ commands

  function trigger(action) {
    var button = document.querySelector('[data-action="' + action + '"]');
    if (!button || button.disabled) return;
    if (action === "call") openCallDialog();
    else if (action === "transfer") openTransferDialog();
    else send({type: action});
  }

  function send(fields) {
    if (inFlight || counter === null || !link) return;
    var command = Object.assign({id: S.newId("web" + counter), counter: counter}, fields);
    inFlight = command;
    renderButtons();
    showFeedback("pending", "Mengirim… ", "");
    link.send(command).then(function (reply) {
      inFlight = null;
      if (reply.type === "ack") showAck(reply); else showError(reply);
      renderButtons();
    });
  }

  // "a23" → "A-023": issued tickets carry three digits, so a typed number matches them.
  function normalizeTicket(text) {
    var t = text.replace(/\s+/g, "").toUpperCase();
    var m = /^([A-Z]{1,3})-?(\d{1,5})$/.exec(t);
    if (!m) return /^\d{1,5}$/.test(t) ? t : null;
    var digits = m[2].length < 3 ? ("00" + m[2]).slice(-3) : m[2];
    return m[1] + "-" + digits;
  }

  // ------------------------------------------------------------ no-shows (for calling back)

  function loadNoShows() {
    try { return JSON.parse(localStorage.getItem(NO_SHOW_KEY)) || []; } catch (err) { return []; }
  }

  function trackNoShows(event) {
    var before = noShows.length;
    if (event.type === "cleared" && event.reason === "no_show" && event.ticket) {
      noShows = noShows.filter(function (n) { return n.ticket !== event.ticket; });
      noShows.unshift({ticket: event.ticket, service: event.service || null, counter: event.counter, at: event.at});
    } else if (event.type === "called" || event.type === "recalled") {
      noShows = noShows.filter(function (n) { return n.ticket !== event.ticket; });
    }
    if (noShows.length !== before || event.type === "cleared") {
      localStorage.setItem(NO_SHOW_KEY, JSON.stringify(noShows.slice(0, 50)));
    }
  }

  // Skipped at this counter, today, still inside the hub's call-back window.
  function recentNoShows() {
    var windowMs = (conf ? conf.queue.no_show_window_minutes : 30) * 60000;
    return noShows.filter(function (n) {
      return n.counter === counter && hall && n.at.slice(0, 10) === hall.day &&
        Date.now() - Date.parse(n.at) < windowMs;
    });
  }

  // ------------------------------------------------------------ dialogs

  function openCallDialog() {
    $("call-ticket").value = "";
    $("call-dialog").showModal();
    $("call-ticket").focus();
  }

  function submitCall(ev) {
    ev.preventDefault();
    var ticket = normalizeTicket($("call-ticket").value);
    if (!ticket) {
      $("call-ticket").setCustomValidity("Contoh: A-023");
      $("call-ticket").reportValidity();
      return;
    }
    $("call-dialog").close();
    var skipped = recentNoShows().some(function (n) { return n.ticket === ticket; });
    send(skipped ? {type: "recall", ticket: ticket} : {type: "call", ticket: ticket});
  }

  function openTransferDialog() {
    var c = current();
    $("transfer-ticket").textContent = c ? c.ticket : "";
    $("transfer-filter").value = "";
    fillTransferList("");
    $("transfer-dialog").showModal();
    $("transfer-filter").focus();
  }

  function fillTransferList(filter) {
    var select = $("transfer-service"), words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    var mine = current() ? current().service : null;
    select.innerHTML = "";
    if (!conf) return;
    var groups = {};
    conf.services.forEach(function (s) {
      if (s.code === mine) return;
      var agency = agencies[s.agency] ? agencies[s.agency].short_name : s.agency;
      var text = (s.name + " " + s.code + " " + agency).toLowerCase();
      if (!words.every(function (w) { return text.indexOf(w) >= 0; })) return;
      if (!groups[agency]) {
        groups[agency] = document.createElement("optgroup");
        groups[agency].label = agency;
        select.appendChild(groups[agency]);
      }
      var option = document.createElement("option");
      option.value = s.code;
      option.textContent = s.name + " (" + s.code + ")";
      groups[agency].appendChild(option);
    });
    if (select.options.length) select.selectedIndex = 0;
  }

  function submitTransfer(ev) {
    ev.preventDefault();
    var code = $("transfer-service").value;
    if (!code) return;
    $("transfer-dialog").close();
    send({type: "transfer", service: code});
  }

  // ------------------------------------------------------------ feedback

  function showAck(ack) {
    var e = ack.event, what;
    if (!e) what = "Selesai.";
    else if (e.type === "called") what = e.ticket + " dipanggil ke " + counterName(e.counter) + ".";
    else if (e.type === "recalled") what = e.ticket + " dipanggil ulang ke " + counterName(e.counter) + ".";
    else if (e.type === "cleared" && e.reason === "done") what = e.ticket + " selesai dilayani.";
    else if (e.type === "cleared" && e.reason === "no_show") what = e.ticket + " dilewati (tidak hadir).";
    else if (e.type === "cleared" && e.reason === "transfer") {
      what = e.ticket + " dialihkan ke " + serviceName(e.to_service) + ".";
    } else what = "Berhasil.";
    showFeedback("ok", "✓ " + what, ack.duplicate ? "sudah diproses sebelumnya (seq " + ack.seq + ")" : "seq " + ack.seq);
    if (e && e.type === "cleared" && e.reason === "no_show") {
      // A mistaken Skip is undone by calling the ticket back.
      var undo = document.createElement("button");
      undo.type = "button";
      undo.className = "small";
      undo.textContent = "Batalkan: panggil ulang " + e.ticket;
      undo.addEventListener("click", function () { send({type: "recall", ticket: e.ticket}); });
      $("feedback").appendChild(undo);
    }
  }

  function showError(error) {
    var box = $("feedback");
    box.hidden = false;
    box.className = "message error";
    box.innerHTML = "";
    box.appendChild(errorNode(error));
  }

  function errorNode(error) {
    var wrap = document.createElement("div");
    var strong = document.createElement("strong");
    strong.textContent = S.errorText(error.code);
    var code = document.createElement("code");
    code.className = "error-code";
    code.textContent = error.code + ": " + error.message;
    wrap.appendChild(strong);
    wrap.appendChild(code);
    return wrap;
  }

  function showFeedback(kind, text, detail) {
    var box = $("feedback");
    box.hidden = false;
    box.className = "message " + kind;
    box.innerHTML = "";
    var strong = document.createElement("strong");
    strong.textContent = text;
    box.appendChild(strong);
    if (detail) {
      var small = document.createElement("small");
      small.textContent = detail;
      box.appendChild(small);
    }
    if (kind === "pending" && link && !link.connected) {
      strong.textContent = "Menunggu hub… perintah dikirim ulang otomatis saat terhubung.";
      var cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "small";
      cancel.textContent = "Berhenti menunggu";
      cancel.addEventListener("click", function () { if (link) link.abandon(); });
      box.appendChild(cancel);
    }
  }

  // ------------------------------------------------------------ rendering

  function show(section) {
    ["login", "pick", "desk"].forEach(function (id) { $(id).hidden = id !== section; });
    if (section === "login") $("token").focus();
  }

  function showPicker() {
    var list = $("counter-list");
    list.innerHTML = "";
    allowedCounters().forEach(function (number) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "pick";
      b.dataset.counter = number;
      b.innerHTML = "";
      b.appendChild(document.createTextNode(counterName(number)));
      var small = document.createElement("small");
      small.textContent = counterAgency(number);
      b.appendChild(small);
      b.addEventListener("click", function () {
        counter = number;
        localStorage.setItem(COUNTER_KEY, String(number));
        showDesk();
      });
      list.appendChild(b);
    });
    $("desk-title").textContent = "";
    show("pick");
  }

  function showDesk() {
    show("desk");
    $("feedback").hidden = true;
    renderDesk();
  }

  function renderDesk() {
    if (!hall || counter === null || $("desk").hidden) return;
    var agency = counterAgency(counter);
    $("desk-title").textContent = counterName(counter) + (agency ? " · " + agency : "");
    var c = current();
    $("current-ticket").textContent = c ? c.ticket : "—";
    $("current-service").textContent = c ? serviceName(c.service) : "Belum ada tiket dipanggil";
    $("current-since").textContent = c && c.since ? "dipanggil " + S.clockText(c.since) : "";
    $("current-voice").textContent = voiceText(c);
    document.title = counterName(counter) + (c ? " · " + c.ticket : "") + " · Panel Operator";

    var codes = servicesOf(counter), total = 0, list = $("waiting-list");
    list.innerHTML = "";
    codes.map(function (code) { return {code: code, count: hall.waiting[code] || 0}; })
      .filter(function (w) { return w.count > 0; })
      .sort(function (a, b) { return b.count - a.count || serviceName(a.code).localeCompare(serviceName(b.code)); })
      .forEach(function (w) {
        total += w.count;
        var li = document.createElement("li");
        var name = document.createElement("span");
        name.textContent = serviceName(w.code);
        var count = document.createElement("b");
        count.textContent = w.count;
        li.appendChild(name);
        li.appendChild(count);
        li.dataset.service = w.code;
        list.appendChild(li);
      });
    if (!total) {
      var empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = "Tidak ada yang menunggu";
      list.appendChild(empty);
    }
    $("waiting-total").textContent = total;

    var skipped = recentNoShows(), chips = $("no-show-list");
    $("no-shows").hidden = skipped.length === 0;
    chips.innerHTML = "";
    skipped.forEach(function (n) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "chip";
      b.textContent = n.ticket + " · " + S.clockText(n.at);
      b.title = "Panggil ulang " + n.ticket;
      b.addEventListener("click", function () { send({type: "recall", ticket: n.ticket}); });
      chips.appendChild(b);
    });
    renderButtons();
  }

  function renderButtons() {
    var ready = !!(link && link.connected && !inFlight && hall && counter !== null);
    var hasTicket = !!current();
    var buttons = document.querySelectorAll("#actions button, #no-show-list button");
    Array.prototype.forEach.call(buttons, function (b) {
      var action = b.dataset.action;
      b.disabled = !ready || (NEEDS_TICKET.indexOf(action) >= 0 && !hasTicket) ||
        (action === "transfer" && !conf);
    });
    $("actions").setAttribute("aria-busy", inFlight ? "true" : "false");
  }

  function renderStatus() {
    var el = $("status"), s = status;
    el.dataset.state = s.state;
    if (s.state === "connected") el.textContent = "● Terhubung · connected";
    else if (s.state === "connecting") el.textContent = "Menghubungkan… · connecting";
    else if (s.state === "reconnecting") {
      var left = Math.max(0, Math.ceil(((s.retryAt || 0) - Date.now()) / 1000));
      el.textContent = "Terputus — coba lagi " + (left ? "dalam " + left + " dtk" : "sekarang") + " · reconnecting";
    } else if (s.state === "refused") el.textContent = "Ditolak · refused (" + s.error.code + ")";
    else el.textContent = "Belum terhubung · offline";
  }

  // ------------------------------------------------------------ input

  function wireControls() {
    $("login-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var token = $("token").value.trim();
      if (!token) return;
      $("login-error").hidden = true;
      connect(token);
    });
    $("logout").addEventListener("click", logout);
    $("change-counter").addEventListener("click", showPicker);
    Array.prototype.forEach.call(document.querySelectorAll("#actions button"), function (b) {
      b.insertAdjacentHTML("beforeend", '<kbd aria-hidden="true">' + b.dataset.key + "</kbd>");
      b.addEventListener("click", function () {
        b.blur(); // a focused button would also be "clicked" by the Space shortcut
        trigger(b.dataset.action);
      });
    });
    $("call-form").addEventListener("submit", submitCall);
    $("call-ticket").addEventListener("input", function () { $("call-ticket").setCustomValidity(""); });
    $("transfer-form").addEventListener("submit", submitTransfer);
    $("transfer-filter").addEventListener("input", function () { fillTransferList($("transfer-filter").value); });
    $("transfer-filter").addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown") { ev.preventDefault(); $("transfer-service").focus(); }
    });
    $("transfer-service").addEventListener("dblclick", submitTransfer);
    Array.prototype.forEach.call(document.querySelectorAll("dialog .cancel"), function (b) {
      b.addEventListener("click", function () { b.closest("dialog").close(); });
    });

    document.addEventListener("keydown", function (ev) {
      if ($("desk").hidden || ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
      if (document.querySelector("dialog[open]")) return;
      var tag = ev.target.tagName;
      if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
      var action = KEYS[ev.key.toLowerCase()];
      if (!action) return;
      ev.preventDefault(); // Space would also "click" a focused button
      trigger(action);
    });
  }

  boot();
})();
