/* hub.js — one websocket to the hub, speaking protocol v1 (docs/protocol.md).
 *
 * Shared by the operator panel and the kiosk. Plain ES2017, no modules, so it
 * runs on old tablet browsers too. Exposes window.Signage:
 *   ClientSession  the session rules (core/session.py), sans I/O
 *   HubLink     the connection: a ClientSession per attempt, reconnect with
 *               backoff, one command in flight, re-sent with the same id after a reconnect
 *   newId       a unique command id (crypto.randomUUID needs https; halls use http)
 *   applyEvent  the hall's live state after one event (mirrors signage.core.hall)
 *   loadPublicConfig  /config.json, with the last good copy as a fallback
 */
"use strict";

(function (global) {
  // The session rules of signage/core/session.py, for the browser. Checked against
  // the same vectors (tests/vectors/session.json) by tests/unit/test_session_js.py.
  var CLOSE = {NORMAL: 1000, RESYNC: 4000, BAD_HELLO: 4400, UNAUTHORIZED: 4401, FORBIDDEN: 4403};
  var FINAL_CLOSE_CODES = [4400, 4401, 4403];
  var FINAL_ERROR_CODES = ["unauthorized", "forbidden"];
  var FINAL_HTTP_STATUSES = [401, 403];
  var WELCOME_TIMEOUT_S = 10;
  var REPLY_TIMEOUT_MS = 8000;
  var BACKOFF_FIRST_MS = 500;
  var BACKOFF_MAX_MS = 10000;

  /* One connection attempt, sans I/O: frames in, outputs out.
   * Outputs: {type: "send", frame}, {type: "close", code, reason}, {type: "welcomed", welcome, resumed},
   * {type: "event", event}, {type: "notice", notice}, {type: "replied", id, reply},
   * {type: "action_requested", request}, {type: "hub_error", error},
   * {type: "refused", error, final}, {type: "closed", code, reason, final, immediate, unanswered}. */
  function ClientSession(options) {
    this.role = options.role;
    this.token = options.token;
    this.client = options.client;
    this.subscribe = options.subscribe;
    this.seq = options.seq === undefined ? null : options.seq;
    this.phase = "idle";
    this.deadline = 0;
    this.since = null;
    this.refused = null;
    this.pending = {};
  }

  // Notices outside the seq stream, handed over as {type: "notice", notice}: about this client's own
  // tickets, and the voice lease, receipts, voice queue and speaking state (docs/voice.md). A receipt
  // carries its call's seq, so notices are told apart before events.
  var NOTICE_TYPES = ["print", "print_status", "ticket_status", "estimates", "voice", "receipt", "voice_queue",
                      "speaking"];

  var CLIENT_TRANSITIONS = {
    start: ["idle"],
    receive: ["await_welcome", "live", "closing"],
    request: ["live"],
    timeout: ["await_welcome"],
    closed: ["idle", "await_welcome", "live", "closing", "closed"]
  };

  ClientSession.prototype._check = function (action) {
    if (CLIENT_TRANSITIONS[action].indexOf(this.phase) < 0) {
      throw new Error("client session: " + action + " is not allowed in phase " + this.phase);
    }
  };

  ClientSession.prototype.start = function (now, timeout) {
    this._check("start");
    this.phase = "await_welcome";
    this.deadline = now + (timeout === undefined ? WELCOME_TIMEOUT_S : timeout);
    this.since = this.seq;
    var hello = {type: "hello", role: this.role, token: this.token, client: this.client, since: this.since};
    if (this.subscribe !== undefined && this.subscribe !== null) hello.subscribe = this.subscribe;
    return [{type: "send", frame: JSON.stringify(hello)}];
  };

  ClientSession.prototype.receive = function (data) {
    this._check("receive");
    if (this.phase === "closing") return [];
    var frame;
    try {
      frame = JSON.parse(data);
      if (frame === null || typeof frame !== "object" || Array.isArray(frame)) throw new Error("not an object");
    } catch (err) {
      var error = {type: "error", id: null, code: "bad_message", message: "unreadable frame from hub"};
      return this.phase === "await_welcome" ? this._refused(error, false) : [{type: "hub_error", error: error}];
    }
    if (this.phase === "await_welcome") return this._welcome(frame);
    if (frame.type === "ack" || frame.type === "error") {
      if (frame.id !== null && frame.id !== undefined && this.pending.hasOwnProperty(frame.id)) {
        delete this.pending[frame.id];
        return [{type: "replied", id: frame.id, reply: frame}];
      }
      return frame.type === "error" ? [{type: "hub_error", error: frame}] : [];
    }
    if (NOTICE_TYPES.indexOf(frame.type) >= 0) return [{type: "notice", notice: frame}];
    if (typeof frame.seq === "number") return this._event(frame);
    // Fleet (docs/protocol.md, section 6): an action asked of this client; an admin's answer, by id.
    if (frame.type === "action") return [{type: "action_requested", request: frame}];
    if (frame.type === "action_result") {
      if (this.pending.hasOwnProperty(frame.id)) {
        delete this.pending[frame.id];
        return [{type: "replied", id: frame.id, reply: frame}];
      }
      return [];
    }
    return [{type: "hub_error", error: {type: "error", id: null, code: "bad_message",
                                        message: "unexpected " + frame.type + " on a live connection"}}];
  };

  ClientSession.prototype._welcome = function (frame) {
    if (frame.type === "error") return this._refused(frame, FINAL_ERROR_CODES.indexOf(frame.code) >= 0);
    if (frame.type !== "welcome") {
      return this._refused({type: "error", id: null, code: "bad_message",
                            message: "expected welcome, got " + frame.type}, false);
    }
    var since = this.since;
    var resumed = since !== null && (frame.replaying > 0 || since === frame.seq);
    this.seq = resumed ? since : frame.seq;
    this.phase = "live";
    return [{type: "welcomed", welcome: frame, resumed: resumed}];
  };

  ClientSession.prototype._refused = function (error, final) {
    this.phase = "closing";
    this.refused = error;
    return [{type: "refused", error: error, final: final},
            {type: "close", code: final ? CLOSE.NORMAL : CLOSE.RESYNC, reason: error.code}];
  };

  ClientSession.prototype._event = function (event) {
    var expected = (this.seq || 0) + 1;
    if (event.seq < expected) return [];
    if (event.seq > expected) {
      this.phase = "closing";
      return [{type: "close", code: CLOSE.RESYNC, reason: "resync: got seq " + event.seq + " after " + (expected - 1)}];
    }
    this.seq = event.seq;
    return [{type: "event", event: event}];
  };

  ClientSession.prototype.request = function (command) {
    this._check("request");
    this.pending[command.id] = command;
    return [{type: "send", frame: JSON.stringify(command)}];
  };

  ClientSession.prototype.checkTimeout = function (now) {
    if (this.phase !== "await_welcome" || now < this.deadline) return [];
    this.phase = "closing";
    return [{type: "close", code: CLOSE.RESYNC, reason: "no welcome from hub"}];
  };

  ClientSession.prototype.connectionClosed = function (code, reason, httpStatus) {
    this._check("closed");
    var was = this.phase;
    this.phase = "closed";
    var unanswered = Object.keys(this.pending);
    this.pending = {};
    if (was === "closed") return [];
    var final = FINAL_CLOSE_CODES.indexOf(code) >= 0 || FINAL_HTTP_STATUSES.indexOf(httpStatus) >= 0 ||
                (this.refused !== null && FINAL_ERROR_CODES.indexOf(this.refused.code) >= 0);
    if (this.refused !== null && !reason) reason = this.refused.code + ": " + this.refused.message;
    var immediate = code === CLOSE.RESYNC && was === "closing" && this.refused === null;
    return [{type: "closed", code: code, reason: reason || "", final: final, immediate: immediate,
             unanswered: unanswered}];
  };

  ClientSession.prototype.nextAttempt = function () {
    return new ClientSession({role: this.role, token: this.token, client: this.client,
                              subscribe: this.subscribe, seq: this.seq});
  };

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

  function nowSeconds() {
    return Date.now() / 1000;
  }

  /* The connection: a ClientSession per attempt, reconnect with backoff, one command
   * in flight, re-sent with the same id after a reconnect.
   * options: role, token, client, subscribe,
   *          onWelcome(welcome), onEvent(event), onNotice(notice), onError(error without a pending id),
   *          onStatus({state: "connecting"|"connected"|"reconnecting"|"refused"|"stopped",
   *                    delayMs, error}) */
  function HubLink(options) {
    this.options = options;
    this.ws = null;
    this.session = null;
    this.attempt = 0;
    this.stopped = true;
    this.pending = null; // {command, resolve, timer}
    this.retryTimer = null;
    this.welcomeTimer = null;
  }

  HubLink.prototype.start = function () {
    this.stopped = false;
    this.attempt = 0;
    this._connect();
  };

  HubLink.prototype.stop = function () {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.welcomeTimer);
    this._settle({type: "error", id: this.pending && this.pending.command.id, code: "cancelled",
                  message: "disconnected before the hub answered"});
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
    this._status({state: "stopped"});
  };

  Object.defineProperty(HubLink.prototype, "connected", {
    get: function () {
      return this.session !== null && this.session.phase === "live" && this.ws &&
             this.ws.readyState === WebSocket.OPEN;
    }
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
    if (this.ws) this.ws.close(CLOSE.RESYNC, "resync");
  };

  HubLink.prototype._transmit = function () {
    var link = this, pending = this.pending;
    this._carryOut(this.session.request(pending.command));
    clearTimeout(pending.timer);
    // A socket can look open while the network is gone; closing it makes us
    // reconnect and re-send instead of waiting forever.
    pending.timer = setTimeout(function () {
      if (link.pending === pending && link.ws) link.ws.close(CLOSE.RESYNC, "reply timeout");
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
    // The panels adopt a fresh snapshot on every connection (seq null): they keep no state across.
    this.session = new ClientSession({role: o.role, token: o.token, client: o.client, subscribe: o.subscribe,
                                      seq: null});
    this._status({state: this.attempt === 0 ? "connecting" : "reconnecting"});
    var ws;
    try {
      ws = new WebSocket(hubUrl());
    } catch (err) {
      this._scheduleReconnect(false);
      return;
    }
    this.ws = ws;
    var session = this.session;
    ws.onopen = function () {
      if (link.ws !== ws) return;
      link._carryOut(session.start(nowSeconds()));
      clearTimeout(link.welcomeTimer);
      link.welcomeTimer = setTimeout(function () {
        if (link.ws === ws) link._carryOut(session.checkTimeout(nowSeconds()));
      }, WELCOME_TIMEOUT_S * 1000 + 50);
    };
    ws.onmessage = function (msg) {
      if (link.ws !== ws) return;
      link._carryOut(session.receive(msg.data));
    };
    ws.onclose = function (ev) {
      if (link.ws !== ws) return;
      link.ws = null;
      clearTimeout(link.welcomeTimer);
      var outputs = session.connectionClosed(ev.code, ev.reason);
      if (link.stopped) return;
      var closed = outputs[0] || {final: false, immediate: false};
      if (closed.final) {
        var error = session.refused || {type: "error", id: null, code: "unauthorized",
                                        message: ev.reason || "the hub refused this token"};
        link.stopped = true;
        link._settle(error);
        link._status({state: "refused", error: error});
        return;
      }
      link._scheduleReconnect(closed.immediate);
    };
  };

  HubLink.prototype._carryOut = function (outputs) {
    var o = this.options;
    for (var i = 0; i < outputs.length; i++) {
      var out = outputs[i];
      if (out.type === "send") {
        if (this.ws) this.ws.send(out.frame);
      } else if (out.type === "close") {
        if (this.ws) this.ws.close(out.code, out.reason);
      } else if (out.type === "welcomed") {
        clearTimeout(this.welcomeTimer);
        this.attempt = 0;
        this._status({state: "connected"});
        if (o.onWelcome) o.onWelcome(out.welcome);
        if (this.pending) this._transmit();
      } else if (out.type === "event") {
        if (o.onEvent) o.onEvent(out.event);
      } else if (out.type === "notice") {
        if (o.onNotice) o.onNotice(out.notice);
      } else if (out.type === "replied") {
        if (this.pending && out.id === this.pending.command.id) this._settle(out.reply);
      } else if (out.type === "hub_error") {
        if (o.onError) o.onError(out.error);
      }
    }
  };

  HubLink.prototype._scheduleReconnect = function (immediate) {
    var link = this, delay = immediate ? 0 : backoffDelay(this.attempt);
    this.attempt += 1;
    this._status({state: "reconnecting", delayMs: delay, attempt: this.attempt});
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(function () {
      if (!link.stopped) link._connect();
    }, delay);
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
      state.counters[c.counter] = {ticket: c.ticket, service: c.service, since: c.since, seq: c.seq};
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
        since: event.at,
        seq: event.seq  // the call's seq: its voice receipt is keyed by it
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
    internal_error: "Hub gagal memproses perintah ini; perintah TIDAK dijalankan. Hubungi teknisi.",
    cancelled: "Dibatalkan: hub tidak menjawab. Periksa layar papan sebelum mencoba lagi."
  };

  function errorText(code) {
    return ERROR_TEXT[code] || "Hub menolak perintah.";
  }

  global.Signage = {
    errorText: errorText,
    ClientSession: ClientSession,
    HubLink: HubLink,
    newId: newId,
    backoffDelay: backoffDelay,
    stateFromWelcome: stateFromWelcome,
    applyEvent: applyEvent,
    loadPublicConfig: loadPublicConfig,
    indexBy: indexBy,
    clockText: clockText
  };
})(typeof window !== "undefined" ? window : globalThis);
