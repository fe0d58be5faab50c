/* hub.js — one websocket to the hub, speaking protocol v1 (docs/protocol.md).
 *
 * Shared by the operator panel and the kiosk. Plain ES2017, no modules, so it
 * runs on old tablet browsers too. Exposes window.Signage:
 *   HubLink     the connection: hello/welcome, reconnect with backoff, one
 *               command in flight, re-sent with the same id after a reconnect
 *   newId       a unique command id (crypto.randomUUID needs https; halls use http)
 *   applyEvent  the hall's live state after one event (mirrors signage.core.hall)
 *   loadPublicConfig  /config.json, with the last good copy as a fallback
 */
"use strict";

(function (global) {
  // 4400 bad hello, 4401 unknown token, 4403 wrong role: retrying cannot help.
  var FINAL_CLOSE_CODES = [4400, 4401, 4403];
  var REPLY_TIMEOUT_MS = 8000;
  var BACKOFF_FIRST_MS = 500;
  var BACKOFF_MAX_MS = 10000;

  function hubUrl() {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/";
  }

  function newId(prefix) {
    var bytes = new Uint8Array(6);
    global.crypto.getRandomValues(bytes);
    var hex = Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
    return prefix + "-" + Date.now().toString(36) + "-" + hex;
  }

  // Exponential with jitter, so twenty panels don't reconnect in step after a hub restart.
  function backoffDelay(attempt) {
    var ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, attempt));
    return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
  }

  /* options: role, token, client, subscribe,
   *          onWelcome(welcome), onEvent(event), onError(error without a pending id),
   *          onStatus({state: "connecting"|"connected"|"reconnecting"|"refused"|"stopped",
   *                    delayMs, error}) */
  function HubLink(options) {
    this.options = options;
    this.ws = null;
    this.attempt = 0;
    this.welcomed = false;
    this.stopped = true;
    this.refusal = null;
    this.pending = null; // {command, resolve, timer}
    this.retryTimer = null;
  }

  HubLink.prototype.start = function () {
    this.stopped = false;
    this.refusal = null;
    this.attempt = 0;
    this._connect();
  };

  HubLink.prototype.stop = function () {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this._settle({type: "error", id: this.pending && this.pending.command.id, code: "cancelled",
                  message: "disconnected before the hub answered"});
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
    this._status({state: "stopped"});
  };

  Object.defineProperty(HubLink.prototype, "connected", {
    get: function () { return this.welcomed && this.ws && this.ws.readyState === WebSocket.OPEN; }
  });

  /* Send one command; resolves with the hub's ack or error frame. While the
   * hub is unreachable the command waits and is sent again, with the same id,
   * after each reconnect: the hub answers a repeated id with the first result. */
  HubLink.prototype.send = function (command) {
    var link = this;
    if (this.pending) {
      return Promise.reject(new Error("a command is already in flight: " + this.pending.command.id));
    }
    return new Promise(function (resolve) {
      link.pending = {command: command, resolve: resolve, timer: null};
      if (link.connected) link._transmit();
    });
  };

  // Give up waiting for a reply (e.g. a kiosk visitor can't wait forever).
  // The hub may still have carried the command out; live events will show it.
  HubLink.prototype.abandon = function () {
    this._settle({type: "error", id: this.pending && this.pending.command.id, code: "cancelled",
                  message: "stopped waiting for the hub"});
  };

  // Drop the connection and start over from a fresh welcome snapshot.
  HubLink.prototype.resync = function () {
    if (this.ws) this.ws.close(4000, "resync");
  };

  HubLink.prototype._transmit = function () {
    var link = this, pending = this.pending;
    this.ws.send(JSON.stringify(pending.command));
    clearTimeout(pending.timer);
    // A socket can look open while the network is gone; closing it makes us
    // reconnect and re-send instead of waiting forever.
    pending.timer = setTimeout(function () {
      if (link.pending === pending && link.ws) link.ws.close(4000, "reply timeout");
    }, REPLY_TIMEOUT_MS);
  };

  HubLink.prototype._settle = function (reply) {
    var pending = this.pending;
    if (!pending) return;
    this.pending = null;
    clearTimeout(pending.timer);
    pending.resolve(reply);
  };

  HubLink.prototype._connect = function () {
    var link = this, o = this.options;
    this.welcomed = false;
    this._status({state: this.attempt === 0 ? "connecting" : "reconnecting"});
    var ws;
    try {
      ws = new WebSocket(hubUrl());
    } catch (err) {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = function () {
      var hello = {type: "hello", role: o.role, token: o.token, client: o.client, since: null};
      if (o.subscribe !== undefined) hello.subscribe = o.subscribe;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (msg) {
      if (link.ws !== ws) return;
      var frame;
      try {
        frame = JSON.parse(msg.data);
      } catch (err) {
        return; // the hub only sends JSON; ignore anything else
      }
      link._receive(frame);
    };
    ws.onclose = function (ev) {
      if (link.ws !== ws) return;
      link.ws = null;
      link.welcomed = false;
      if (link.stopped) return;
      if (FINAL_CLOSE_CODES.indexOf(ev.code) >= 0) {
        var error = link.refusal || {type: "error", id: null, code: "unauthorized",
                                     message: ev.reason || "the hub refused this token"};
        link.stopped = true;
        link._settle(error);
        link._status({state: "refused", error: error});
        return;
      }
      link._scheduleReconnect();
    };
  };

  HubLink.prototype._scheduleReconnect = function () {
    var link = this, delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this._status({state: "reconnecting", delayMs: delay, attempt: this.attempt});
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(function () {
      if (!link.stopped) link._connect();
    }, delay);
  };

  HubLink.prototype._receive = function (frame) {
    var o = this.options;
    if (!this.welcomed) {
      if (frame.type === "welcome") {
        this.welcomed = true;
        this.attempt = 0;
        this._status({state: "connected"});
        if (o.onWelcome) o.onWelcome(frame);
        if (this.pending) this._transmit();
      } else if (frame.type === "error") {
        this.refusal = frame; // the close frame (44xx) follows
      }
      return;
    }
    if ((frame.type === "ack" || frame.type === "error") && this.pending && frame.id === this.pending.command.id) {
      this._settle(frame);
    } else if (frame.type === "error") {
      if (o.onError) o.onError(frame);
    } else if (frame.type !== "ack") {
      if (o.onEvent) o.onEvent(frame);
    }
  };

  HubLink.prototype._status = function (status) {
    if (this.options.onStatus) this.options.onStatus(status);
  };

  // ------------------------------------------------------------ hall state

  function emptyState(seq, day) {
    return {seq: seq || 0, day: day || null, counters: {}, waiting: {}};
  }

  function stateFromWelcome(welcome) {
    var s = welcome.state, state = emptyState(welcome.seq, s.day);
    s.counters.forEach(function (c) {
      state.counters[c.counter] = {ticket: c.ticket, service: c.service, since: c.since};
    });
    Object.keys(s.waiting || {}).forEach(function (k) { state.waiting[k] = s.waiting[k]; });
    return state;
  }

  /* The state after one event, as signage.core.hall.apply computes it.
   * Returns null when the event does not follow on (a gap): resync then. */
  function applyEvent(state, event) {
    if (event.seq <= state.seq) return state; // already applied
    if (event.seq !== state.seq + 1) return null;
    var day = event.at.slice(0, 10);
    var next = state.day === day ? {seq: state.seq, day: day, counters: Object.assign({}, state.counters),
                                     waiting: Object.assign({}, state.waiting)}
                                  : emptyState(state.seq, day);
    if (event.type === "called" || event.type === "recalled") {
      var before = next.counters[event.counter];
      next.counters[event.counter] = {
        ticket: event.ticket,
        service: event.service || (event.type === "recalled" && before ? before.service : null),
        since: event.at
      };
    } else if (event.type === "cleared") {
      next.counters[event.counter] = {ticket: null, service: null, since: event.at};
    }
    if (event.waiting) Object.assign(next.waiting, event.waiting);
    next.seq = event.seq;
    return next;
  }

  // ------------------------------------------------------------ public config

  var CONFIG_CACHE_KEY = "signage.publicConfig";

  /* The hall's counters, agencies and services. A copy is kept so a page
   * reloaded while the hub restarts still knows the hall. */
  function loadPublicConfig() {
    return fetch("/config.json", {cache: "no-store"}).then(function (response) {
      if (!response.ok) throw new Error("/config.json: HTTP " + response.status);
      return response.json();
    }).then(function (conf) {
      try { localStorage.setItem(CONFIG_CACHE_KEY, JSON.stringify(conf)); } catch (err) { /* full */ }
      return conf;
    }).catch(function (err) {
      var cached = localStorage.getItem(CONFIG_CACHE_KEY);
      if (cached) return JSON.parse(cached);
      throw err;
    });
  }

  function indexBy(items, key) {
    var out = {};
    items.forEach(function (item) { out[item[key]] = item; });
    return out;
  }

  // Indonesian halls write times with a period: "09.41".
  function clockText(iso) {
    if (!iso) return "";
    var t = iso.slice(11, 16);
    return t.replace(":", ".");
  }

  // What each hub error code means for the person at the screen (Indonesian).
  var ERROR_TEXT = {
    queue_empty: "Tidak ada pengunjung yang menunggu untuk layanan loket ini.",
    no_current_ticket: "Loket ini belum memanggil tiket. Tekan Berikutnya dulu.",
    unknown_ticket: "Nomor tiket tidak ada di antrean atau daftar terlewat hari ini.",
    unknown_counter: "Nomor loket tidak ada di konfigurasi.",
    unknown_service: "Layanan tidak ada di konfigurasi.",
    unauthorized: "Token tidak dikenal. Periksa token Anda.",
    forbidden: "Token ini tidak berhak melakukan tindakan ini.",
    rate_limited: "Terlalu banyak perintah sekaligus. Tunggu sebentar lalu coba lagi.",
    storage_failed: "Hub gagal menyimpan; perintah TIDAK dijalankan. Coba lagi, atau hubungi teknisi.",
    conflict: "ID perintah sudah dipakai untuk perintah lain (kesalahan panel). Muat ulang halaman.",
    bad_message: "Hub menolak pesan dari halaman ini (kesalahan panel). Muat ulang halaman.",
    too_large: "Pesan terlalu besar untuk hub.",
    cancelled: "Dibatalkan: hub tidak menjawab. Periksa layar papan sebelum mencoba lagi."
  };

  function errorText(code) {
    return ERROR_TEXT[code] || "Hub menolak perintah.";
  }

  global.Signage = {
    errorText: errorText,
    HubLink: HubLink,
    newId: newId,
    backoffDelay: backoffDelay,
    stateFromWelcome: stateFromWelcome,
    applyEvent: applyEvent,
    loadPublicConfig: loadPublicConfig,
    indexBy: indexBy,
    clockText: clockText
  };
})(window);
