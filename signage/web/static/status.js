/* status.js — the technician's page: every screen's health, alerts, and remote actions.
 *
 * Data: GET /status/data with the admin token (Authorization: Bearer), every POLL_MS.
 * Actions (identify, screenshot, restart): one websocket as role admin, {"type":"act"},
 * answered by {"type":"action_result"} or an error (docs/protocol.md, "Fleet").
 * Plain ES2017, no modules, no CDN.
 */
"use strict";

(function () {
  var TOKEN_KEY = "signage.status.token";
  var POLL_MS = 2000;
  var ACTION_TIMEOUT_MS = 8000;
  var $ = function (id) { return document.getElementById(id); };
  var token = null;
  var timer = null;
  var thumbs = {}; // screenshot url → its <img>, kept across polls
  var seen = {};
  var PRINTER_STATES = {ok: "siap", unknown: "tidak dapat dibaca", paper_out: "kertas habis",
                        cover_open: "tutup terbuka", offline: "tidak terhubung", device_missing: "tidak ditemukan",
                        error: "galat"};

  function show(section) {
    $("login").hidden = section !== "login";
    $("fleet").hidden = section !== "fleet";
    $("logout").hidden = section !== "fleet";
  }

  function setHub(state, text) {
    var el = $("hub-status");
    el.dataset.state = state;
    el.textContent = text;
  }

  function login(candidate) {
    token = candidate;
    poll(true);
  }

  function poll(first) {
    clearTimeout(timer);
    fetch("/status/data", {headers: {"Authorization": "Bearer " + token}, cache: "no-store"})
      .then(function (resp) {
        if (resp.status === 401 || resp.status === 403) {
          return resp.text().then(function (body) { throw {final: true, message: body}; });
        }
        if (!resp.ok) throw {final: false, message: "HTTP " + resp.status};
        return resp.json();
      })
      .then(function (data) {
        localStorage.setItem(TOKEN_KEY, token); // only a token the hub accepted is remembered
        show("fleet");
        render(data);
        timer = setTimeout(poll, POLL_MS);
      })
      .catch(function (err) {
        if (err && err.final) {
          localStorage.removeItem(TOKEN_KEY);
          token = null;
          show("login");
          var box = $("login-error");
          box.textContent = (err.message || "").trim() || "Token ditolak";
          box.hidden = false;
          return;
        }
        setHub("offline", "Hub tidak terjangkau");
        timer = setTimeout(poll, POLL_MS);
      });
  }

  function text(tag, cls, value) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value;
    return el;
  }

  function mb(bytes) { return (bytes / 1e6).toFixed(0) + " MB"; }

  function ago(seconds) {
    if (seconds < 90) return seconds.toFixed(0) + " dtk lalu";
    if (seconds < 5400) return (seconds / 60).toFixed(0) + " mnt lalu";
    return (seconds / 3600).toFixed(1) + " jam lalu";
  }

  function render(data) {
    var hub = data.hub;
    setHub(hub.status === "ok" ? "online" : "offline",
           "Hub " + hub.status + " · seq " + hub.seq + " · " + data.clients.length + " layar");
    var alerts = $("alerts");
    alerts.textContent = "";
    data.alerts.forEach(function (a) {
      var row = text("div", "alert alert-" + a.kind, a.message);
      row.dataset.kind = a.kind;
      row.dataset.name = a.name;
      alerts.appendChild(row);
    });
    alerts.hidden = data.alerts.length === 0;
    var byName = {};
    data.alerts.forEach(function (a) { (byName[a.name] = byName[a.name] || []).push(a.kind); });

    var cards = $("cards");
    seen = {};
    var fresh = data.clients.map(function (c) { return card(c, byName[c.name] || []); });
    cards.textContent = "";
    fresh.forEach(function (node) { cards.appendChild(node); });
    thumbs = seen;
    $("empty").hidden = data.clients.length > 0;
  }

  function card(c, kinds) {
    var hb = c.heartbeat || {};
    var el = document.createElement("article");
    el.className = "card fleet-card" + (kinds.length ? " has-alert" : "");
    el.dataset.name = c.name;
    var head = document.createElement("div");
    head.className = "fleet-head";
    head.appendChild(text("h2", "fleet-name", c.name));
    var missing = kinds.indexOf("missing") >= 0;
    head.appendChild(text("span", "fleet-state " + (c.online && !missing ? "on" : "off"),
                          c.online && !missing ? "online" : "terakhir " + ago(c.last_seen_s)));
    el.appendChild(head);
    if (c.screenshot) {
      // The same screenshot keeps its <img>: cards are rebuilt every poll, the picture is fetched once.
      var img = thumbs[c.screenshot.url];
      if (!img) {
        img = document.createElement("img");
        img.className = "thumb";
        img.alt = "tangkapan layar " + c.name;
        img.src = c.screenshot.url;
      }
      seen[c.screenshot.url] = img;
      el.appendChild(img);
    }
    var facts = document.createElement("dl");
    facts.className = "facts";
    function fact(label, value) {
      facts.appendChild(text("dt", "", label));
      facts.appendChild(text("dd", "", value));
    }
    var printer = c.role === "printer";  // a kiosk's printer agent: no screen, no voice, no seq
    if (printer) {
      fact("Printer", (PRINTER_STATES[hb.printer] || hb.printer || "?") + " · " + (hb.printer_device || "?"));
      fact("Tiket dicetak", String(hb.printed || 0) + " · gagal " + String(hb.print_failures || 0));
    } else {
      fact("Zona", hb.zone || "—");
    }
    fact("Versi", (hb.version || "?") + " · aktif " + Math.round((hb.uptime_s || 0) / 60) + " mnt");
    if (!printer) {
      fact("Layar", (hb.resolution ? hb.resolution.join("×") : "?") + " · " + (hb.fps || 0).toFixed(1) + " fps");
      fact("Seq", String(hb.seq));
    }
    fact("Jaringan", (hb.rtt_ms == null ? "?" : hb.rtt_ms.toFixed(1) + " ms") + " · selisih jam " +
         (c.skew_s == null ? "?" : c.skew_s.toFixed(1) + " dtk"));
    if (!printer) fact("Suara", hb.audio + (hb.audio_reason ? " (" + hb.audio_reason + ")" : ""));
    fact("CPU / RAM", (hb.cpu_percent || 0).toFixed(1) + "% · " + mb(hb.rss_bytes || 0));
    fact("Disk bebas", mb(hb.disk_free_bytes || 0));
    fact("Peringatan", String(hb.warnings || 0));
    el.appendChild(facts);
    if (hb.last_warnings && hb.last_warnings.length) {
      var list = document.createElement("ul");
      list.className = "warnings";
      hb.last_warnings.forEach(function (w) { list.appendChild(text("li", "", w)); });
      el.appendChild(list);
    }
    if (printer) return el;  // nothing to identify, capture or restart remotely
    var buttons = document.createElement("div");
    buttons.className = "fleet-actions";
    [["identify", "Identifikasi"], ["screenshot", "Tangkap layar"], ["restart", "Mulai ulang"]].forEach(function (a) {
      var b = text("button", "small", a[1]);
      b.type = "button";
      b.dataset.action = a[0];
      b.disabled = !c.online;
      b.addEventListener("click", function () { act(a[0], c.name); });
      buttons.appendChild(b);
    });
    el.appendChild(buttons);
    return el;
  }

  function feedback(message, bad) {
    var box = $("feedback");
    box.textContent = message;
    box.className = "message" + (bad ? " error" : "");
    box.hidden = false;
  }

  /* One websocket per action: hello as admin, act, wait for the answer, close. */
  function act(action, name) {
    if (action === "restart" && !window.confirm("Mulai ulang " + name + "?")) return;
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/");
    var id = "web-" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    var done = false;
    var timeout = setTimeout(function () { finish("Tidak ada jawaban dari " + name, true); }, ACTION_TIMEOUT_MS);
    function finish(message, bad) {
      if (done) return;
      done = true;
      clearTimeout(timeout);
      feedback(message, bad);
      ws.close();
      poll();
    }
    feedback(action + " " + name + " …", false);
    ws.onopen = function () {
      ws.send(JSON.stringify({type: "hello", role: "admin", token: token, client: "web-status", subscribe: false}));
    };
    ws.onmessage = function (msg) {
      var frame;
      try { frame = JSON.parse(msg.data); } catch (err) { return; }
      if (frame.type === "welcome") {
        ws.send(JSON.stringify({type: "act", id: id, action: action, name: name}));
      } else if (frame.type === "action_result" && frame.id === id) {
        finish(name + ": " + action + " OK" + (frame.detail ? " — " + frame.detail : ""), false);
      } else if (frame.type === "error" && (frame.id === id || frame.id == null)) {
        finish(name + ": " + frame.code + ": " + frame.message, true);
      }
    };
    ws.onclose = function () { finish("Koneksi ke hub terputus", true); };
  }

  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("login-error").hidden = true;
    login($("token").value.trim());
  });
  $("logout").addEventListener("click", function () {
    localStorage.removeItem(TOKEN_KEY);
    clearTimeout(timer);
    token = null;
    $("token").value = "";
    show("login");
  });
  var saved = localStorage.getItem(TOKEN_KEY);
  if (saved) login(saved); else show("login");
})();
