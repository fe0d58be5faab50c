/* kiosk.js — the touch-screen ticket kiosk: agency → service → ticket.
 *
 * The token comes from ?token=… (then is kept in localStorage and removed from
 * the address bar) or from a one-time setup form; ?setup=1 shows the form again.
 * The kiosk only issues tickets, so it does not subscribe to events.
 */
"use strict";

(function () {
  var S = window.Signage;
  var TOKEN_KEY = "signage.kiosk.token";
  var RETURN_AFTER_S = 15;   // the ticket screen goes back to the start by itself
  var IDLE_RETURN_S = 60;    // a half-finished choice is abandoned
  var ISSUE_GIVE_UP_MS = 20000;
  var DAYS = ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"];
  var MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
                "Oktober", "November", "Desember"];

  var $ = function (id) { return document.getElementById(id); };

  var conf = null, services = {}, agencies = {}, counters = {};
  var link = null;
  var agency = null;        // the agency being browsed
  var priority = false;
  var issuing = false;
  var returnTimer = null, returnAt = 0, lastTouch = Date.now();
  var clockOffsetMs = 0;    // hub time minus this device's time
  var PRINT_GIVE_UP_MS = 20000; // no word from the printer agent: tell the visitor to note the number
  var REPRINT_S = 60;
  var browserPrint = false, shown = null, printTimer = null, reprintTimer = null;
  var askPhone = false;     // the hall has a WhatsApp/SMS gateway (notify.webhook): offer the optional number
  var phoneDigits = "", pendingService = null;
  var PHONE_MIN = 8, PHONE_MAX = 15;  // the hub's rule (protocol.py): 8-15 digits

  function boot() {
    var params = new URLSearchParams(location.search);
    browserPrint = params.get("print") === "browser";
    if (params.get("token")) {
      localStorage.setItem(TOKEN_KEY, params.get("token"));
      params.delete("token");
      // Keep the secret out of the address bar, history and screenshots.
      history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
    }
    wireControls();
    setInterval(tick, 1000);
    S.loadPublicConfig().then(function (c) {
      conf = c;
      services = S.indexBy(c.services, "code");
      agencies = S.indexBy(c.agencies, "code");
      counters = S.indexBy(c.counters, "number");
      $("hall-name").textContent = c.hall.name;
      $("hours").textContent = c.hall.opening_hours;
      $("priority").hidden = !c.queue.priority;
      askPhone = !!(c.notify && c.notify.phone);
      renderAgencies();
      tick();
      var token = localStorage.getItem(TOKEN_KEY);
      if (token && params.get("setup") !== "1") {
        goHome();
        connect(token);
      } else {
        show("setup");
      }
    }).catch(function (err) {
      fail({code: "unavailable", message: String(err)});
      setTimeout(function () { location.reload(); }, 10000); // the hub may be restarting
    });
  }

  function connect(token) {
    if (link) link.stop();
    link = new S.HubLink({
      role: "kiosk", token: token, client: "web-kiosk", subscribe: false,
      onNotice: function (n) { if (n.type === "print_status") printStatus(n); },
      onWelcome: function (welcome) {
        localStorage.setItem(TOKEN_KEY, token);
        if (welcome.server_time) clockOffsetMs = Date.parse(welcome.server_time) - Date.now();
        $("offline").hidden = true;
        if (!$("setup").hidden) goHome();
        renderTiles();
      },
      onStatus: function (s) {
        if (s.state === "refused") {
          localStorage.removeItem(TOKEN_KEY);
          show("setup");
          var box = $("setup-error");
          box.hidden = false;
          box.textContent = s.error.code + ": " + s.error.message;
        }
        $("offline").hidden = s.state !== "reconnecting";
        renderTiles();
      }
    });
    link.start();
  }

  // ------------------------------------------------------------ screens

  function show(section) {
    ["setup", "agencies", "services", "phone", "ticket", "failed", "busy"].forEach(function (id) {
      $(id).hidden = id !== section;
    });
  }

  function goHome() {
    clearReturn();
    agency = null;
    setPriority(false);
    show("agencies");
    window.scrollTo(0, 0);
  }

  function renderAgencies() {
    var list = $("agency-list");
    list.innerHTML = "";
    conf.agencies.forEach(function (a) {
      var offered = conf.services.filter(function (s) { return s.agency === a.code; });
      if (!offered.length) return;
      var desks = conf.counters.filter(function (c) { return c.agency === a.code; })
        .map(function (c) { return c.name; });
      list.appendChild(tile(a.short_name, a.name + (desks.length ? " · " + desks.join(", ") : ""),
        {agency: a.code}, function () { openAgency(a.code); }));
    });
  }

  function openAgency(code) {
    agency = agencies[code];
    $("agency-title").textContent = agency.short_name;
    var list = $("service-list");
    list.innerHTML = "";
    conf.services.filter(function (s) { return s.agency === code; }).forEach(function (s) {
      list.appendChild(tile(s.name, "", {service: s.code}, function () { choose(s.code); }));
    });
    renderTiles();
    show("services");
    window.scrollTo(0, 0);
  }

  function tile(title, detail, data, onTap) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "tile";
    Object.keys(data).forEach(function (k) { b.dataset[k] = data[k]; });
    b.appendChild(document.createTextNode(title));
    if (detail) {
      var small = document.createElement("small");
      small.textContent = detail;
      b.appendChild(small);
    }
    b.addEventListener("click", onTap);
    return b;
  }

  // A kiosk that can't reach the hub says so instead of taking taps it can't serve.
  function renderTiles() {
    var ready = !!(link && link.connected) && !issuing;
    Array.prototype.forEach.call(document.querySelectorAll("#service-list .tile"), function (b) {
      b.disabled = !ready;
    });
    $("phone-skip").disabled = !ready;
    if (askPhone) renderPhone();
  }

  function setPriority(on) {
    priority = on;
    $("priority").setAttribute("aria-pressed", on ? "true" : "false");
  }

  // ------------------------------------------------------------ the optional phone number

  function choose(code) {
    if (!askPhone) { issue(code, null); return; }
    pendingService = code;
    phoneDigits = "";
    renderPhone();
    show("phone");
    window.scrollTo(0, 0);
  }

  function phoneValid() {
    return phoneDigits.length >= PHONE_MIN && phoneDigits.length <= PHONE_MAX;
  }

  // "081234567890" → "0812 3456 7890": easier to check at a glance
  function grouped(digits) {
    return digits.replace(/(\d{4})(?=\d)/g, "$1 ");
  }

  function renderPhone() {
    $("phone-number").textContent = phoneDigits ? grouped(phoneDigits) : "08…";
    $("phone-number").classList.toggle("empty", !phoneDigits);
    $("phone-ok").disabled = !phoneValid() || !(link && link.connected) || issuing;
  }

  function key(k) {
    if (k === "back") phoneDigits = phoneDigits.slice(0, -1);
    else if (k === "clear") phoneDigits = "";
    else if (/^[0-9]$/.test(k) && phoneDigits.length < PHONE_MAX) phoneDigits += k;
    renderPhone();
  }

  function takeWithPhone() {
    if (phoneValid()) issue(pendingService, phoneDigits);
  }

  // "081234567890" → "0812•••••890": shown back to the visitor, not to whoever stands behind them
  function masked(digits) {
    return digits.slice(0, 4) + digits.slice(4, -3).replace(/./g, "•") + digits.slice(-3);
  }

  // ------------------------------------------------------------ issuing

  function issue(code, phone) {
    if (issuing || !link) return;
    issuing = true;
    renderTiles();
    show("busy");
    var command = {type: "issue", id: S.newId("kiosk"), service: code, priority: priority};
    if (phone) command.phone = phone;
    var giveUp = setTimeout(function () { link.abandon(); }, ISSUE_GIVE_UP_MS);
    link.send(command).then(function (reply) {
      clearTimeout(giveUp);
      issuing = false;
      renderTiles();
      if (reply.type === "ack" && reply.event) showTicket(reply.event, reply, phone); else fail(reply);
    });
  }

  function showTicket(e, reply, phone) {
    var service = services[e.service] || {name: e.service, counters: []};
    var desks = service.counters.map(function (n) { return counters[n] ? counters[n].name : "Loket " + n; });
    var owner = agencies[service.agency];
    var ahead = e.position - 1;
    $("ticket-number").textContent = e.ticket;
    $("ticket-priority").hidden = !e.priority;
    $("ticket-service").textContent = service.name;
    $("ticket-where").textContent = [owner ? owner.short_name : "", desks.join(", ")].filter(Boolean).join(" · ");
    $("ticket-ahead").textContent = ahead > 0 ? "Ada " + ahead + " orang di depan Anda" : "Anda berikutnya";
    $("ticket-ahead").dataset.ahead = ahead;
    $("ticket-time").textContent = longDate(e.at) + " · " + S.clockText(e.at) + " " + timezoneLabel();
    var wait = reply && reply.wait ? reply.wait.low + "–" + reply.wait.high + " menit" : "belum dapat diperkirakan";
    $("ticket-wait").textContent = "Perkiraan waktu tunggu: " + wait;
    $("ticket-phone").hidden = !phone;
    $("ticket-phone").textContent = phone ? "Pemberitahuan akan dikirim ke " + masked(phone) : "";
    shown = e.ticket;
    clearTimeout(printTimer);
    clearTimeout(reprintTimer);
    $("reprint").hidden = true;
    var printing = reply && reply.printing;
    if (browserPrint) {
      printInBrowser(e, ahead, wait, reply && reply.track);
      setPrint("Silakan ambil tiket Anda", false);
    } else if (printing === "printing") {
      setPrint("Mencetak…", false);
      printTimer = setTimeout(function () { printFailed(e.ticket); }, PRINT_GIVE_UP_MS);
    } else if (printing === "offline") {
      printFailed(e.ticket);
    } else {
      $("print-state").hidden = true;
    }
    show("ticket");
    startReturn(RETURN_AFTER_S);
  }

  function setPrint(message, failed) {
    var box = $("print-state");
    box.hidden = false;
    box.textContent = message;
    box.className = "print-state" + (failed ? " failed" : "");
    box.dataset.state = failed ? "failed" : message === "Mencetak…" ? "printing" : "printed";
  }

  // A failed print is still a valid ticket: the visitor only has to note the number.
  function printFailed(ticket) {
    setPrint("Printer bermasalah — catat nomor Anda: " + ticket, true);
  }

  function printStatus(n) {
    if (n.ticket !== shown) return;
    clearTimeout(printTimer);
    if (n.status === "printed") {
      setPrint("Silakan ambil tiket Anda", false);
      $("reprint").hidden = false;
      clearTimeout(reprintTimer);
      reprintTimer = setTimeout(function () { $("reprint").hidden = true; }, REPRINT_S * 1000);
    } else if (n.status === "failed") {
      printFailed(n.ticket);
    }
  }

  function reprint() {
    if (!shown || !link || issuing) return;
    $("reprint").hidden = true;
    setPrint("Mencetak…", false);
    link.send({type: "reprint", id: S.newId("kiosk"), ticket: shown}).then(function (r) {
      if (r.type !== "ack") printFailed(shown);
      else printTimer = setTimeout(function () { printFailed(shown); }, PRINT_GIVE_UP_MS);
    });
  }

  // ?print=browser: Chromium with --kiosk-printing prints this roll-paper ticket (@page in style.css).
  function printInBrowser(e, ahead, wait, track) {
    var service = services[e.service] || {name: e.service};
    $("pt-hall").textContent = conf.hall.name;
    $("pt-number").textContent = e.ticket;
    $("pt-service").textContent = service.name;
    $("pt-ahead").textContent = ahead > 0 ? "Ada " + ahead + " orang di depan Anda" : "Anda berikutnya";
    $("pt-wait").textContent = "Perkiraan tunggu: " + wait;
    $("pt-time").textContent = longDate(e.at) + " · " + S.clockText(e.at) + " " + timezoneLabel();
    var img = $("pt-qr");
    img.hidden = !track;
    var go = function () { window.print(); };
    if (track) { img.onload = go; img.onerror = go; img.src = "/qr/" + track + ".svg"; } else go();
  }

  function fail(error) {
    var box = $("failed-reason");
    box.innerHTML = "";
    var strong = document.createElement("strong");
    strong.textContent = S.errorText(error.code);
    var code = document.createElement("code");
    code.className = "error-code";
    code.textContent = error.code + ": " + error.message;
    box.appendChild(strong);
    box.appendChild(code);
    show("failed");
    startReturn(RETURN_AFTER_S);
  }

  // ------------------------------------------------------------ timers

  function startReturn(seconds) {
    clearReturn();
    returnAt = Date.now() + seconds * 1000;
    returnTimer = setTimeout(goHome, seconds * 1000);
    tick();
  }

  function clearReturn() {
    clearTimeout(returnTimer);
    returnTimer = null;
    $("countdown").textContent = "";
  }

  function tick() {
    if (returnTimer) {
      var left = Math.max(0, Math.ceil((returnAt - Date.now()) / 1000));
      $("countdown").textContent = "Kembali ke awal dalam " + left + " dtk";
    }
    var choosing = !$("services").hidden || !$("phone").hidden;
    if (choosing && !issuing && Date.now() - lastTouch > IDLE_RETURN_S * 1000) goHome();
    $("clock").textContent = hallClock();
  }

  function hallClock() {
    var now = new Date(Date.now() + clockOffsetMs);
    var options = {hour: "2-digit", minute: "2-digit", hour12: false};
    if (conf && conf.hall.timezone) options.timeZone = conf.hall.timezone;
    try {
      return now.toLocaleTimeString("id-ID", options).replace(":", ".") + " " + timezoneLabel();
    } catch (err) { // an old browser without that time zone
      return ("0" + now.getHours()).slice(-2) + "." + ("0" + now.getMinutes()).slice(-2);
    }
  }

  function timezoneLabel() {
    return conf ? conf.hall.timezone_label : "";
  }

  // "2026-11-28T09:41:03.000+07:00" → "Sabtu, 28 November 2026" (the hall's own date, not the device's).
  function longDate(iso) {
    var y = Number(iso.slice(0, 4)), m = Number(iso.slice(5, 7)), d = Number(iso.slice(8, 10));
    var weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
    return DAYS[weekday] + ", " + d + " " + MONTHS[m - 1] + " " + y;
  }

  // ------------------------------------------------------------ input

  function wireControls() {
    $("setup-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var token = $("kiosk-token").value.trim();
      if (!token) return;
      $("setup-error").hidden = true;
      connect(token);
    });
    $("back").addEventListener("click", goHome);
    $("priority").addEventListener("click", function () { setPriority(!priority); });
    $("ticket-done").addEventListener("click", goHome);
    $("reprint").addEventListener("click", reprint);
    $("failed-back").addEventListener("click", goHome);
    $("keypad").addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-key]");
      if (b) key(b.dataset.key);
    });
    document.addEventListener("keydown", function (ev) {  // a USB keypad or keyboard works too
      if ($("phone").hidden) return;
      if (/^[0-9]$/.test(ev.key)) key(ev.key);
      else if (ev.key === "Backspace") key("back");
      else if (ev.key === "Enter") { ev.preventDefault(); takeWithPhone(); }
    });
    $("phone-ok").addEventListener("click", takeWithPhone);
    $("phone-skip").addEventListener("click", function () { issue(pendingService, null); });
    $("phone-back").addEventListener("click", function () { show("services"); });
    ["pointerdown", "keydown"].forEach(function (type) {
      document.addEventListener(type, function () { lastTouch = Date.now(); }, true);
    });
  }

  boot();
})();
