/* survey.js — the SKM tablet at a counter (PermenPANRB 14/2017), tied to the served ticket.
 *
 * The tablet holds a `survey` token scoped to its counter(s). When the counter
 * marks a ticket done (a `cleared` event, reason "done"), the tablet asks the
 * visitor to rate that ticket: nine elements (full form) or one overall
 * question (short form, `survey.form: short`), each with four faces, then an
 * optional comment. It sends `rate` (docs/protocol.md) and thanks the visitor.
 * The question is withdrawn when the counter calls its next ticket: the visitor
 * has gone. After a reload, /survey/state says what is still to be rated.
 *
 * The token comes from ?token=… (kept in localStorage, removed from the address
 * bar) or from the setup form; ?setup=1 shows the form again.
 */
"use strict";

(function () {
  var S = window.Signage;
  var TOKEN_KEY = "signage.survey.token";
  var THANKS_S = 6;          // the thank-you screen, then back to the welcome
  var ABANDON_S = 120;       // a half-answered form starts over after this long untouched
  var SEND_GIVE_UP_MS = 15000;

  // The nine elements, in the order of the wire's `scores`; labels for scores 1..4.
  var QUESTIONS = [
    {element: "Persyaratan", text: "Bagaimana pendapat Anda tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya?",
     labels: ["Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"]},
    {element: "Prosedur", text: "Bagaimana pemahaman Anda tentang kemudahan prosedur pelayanan di unit ini?",
     labels: ["Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"]},
    {element: "Waktu", text: "Bagaimana pendapat Anda tentang kecepatan waktu dalam memberikan pelayanan?",
     labels: ["Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"]},
    {element: "Biaya", text: "Bagaimana pendapat Anda tentang kewajaran biaya/tarif dalam pelayanan?",
     labels: ["Sangat mahal", "Cukup mahal", "Murah", "Gratis"]},
    {element: "Produk", text: "Bagaimana pendapat Anda tentang kesesuaian hasil pelayanan yang diberikan dengan yang tercantum dalam standar pelayanan?",
     labels: ["Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"]},
    {element: "Kompetensi pelaksana", text: "Bagaimana pendapat Anda tentang kompetensi/kemampuan petugas dalam pelayanan?",
     labels: ["Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten"]},
    {element: "Perilaku pelaksana", text: "Bagaimana pendapat Anda tentang perilaku petugas dalam pelayanan terkait kesopanan dan keramahan?",
     labels: ["Tidak sopan dan ramah", "Kurang sopan dan ramah", "Sopan dan ramah", "Sangat sopan dan ramah"]},
    {element: "Sarana dan prasarana", text: "Bagaimana pendapat Anda tentang kualitas sarana dan prasarana?",
     labels: ["Buruk", "Cukup", "Baik", "Sangat baik"]},
    {element: "Penanganan pengaduan", text: "Bagaimana pendapat Anda tentang penanganan pengaduan, saran dan masukan pengguna layanan?",
     labels: ["Tidak ada", "Ada tetapi tidak berfungsi", "Berfungsi kurang maksimal", "Dikelola dengan baik"]}
  ];
  var SHORT_QUESTION = {element: "Kepuasan", text: "Secara keseluruhan, bagaimana kepuasan Anda terhadap pelayanan kami?",
                        labels: ["Tidak puas", "Kurang puas", "Puas", "Sangat puas"]};
  var FACE_COLOURS = ["#d93025", "#f29900", "#7cb342", "#188038"];
  // Mouth curves from a frown (1) to a broad smile (4).
  var MOUTHS = ["M30 72 Q50 56 70 72", "M32 68 Q50 62 68 68", "M30 62 Q50 76 70 62", "M26 58 Q50 86 74 58 Z"];

  var ERRORS = {
    already_rated: "Tiket ini sudah dinilai. Terima kasih!",
    not_served: "Tiket ini tidak dapat dinilai dari tablet ini (bukan dilayani loket ini hari ini).",
    forbidden: "Token tablet ini tidak berhak menilai loket ini."
  };

  var $ = function (id) { return document.getElementById(id); };

  var token = null, link = null, conf = null, services = {}, counters = {};
  var form = "full", scope = [];
  var pending = null;       // {counter, ticket, service, day}: the ticket being rated
  var answers = [], step = 0, sending = false;
  var thanksTimer = null, lastTouch = Date.now();

  function questions() { return form === "short" ? [SHORT_QUESTION] : QUESTIONS; }

  function boot() {
    var params = new URLSearchParams(location.search);
    if (params.get("token")) {
      localStorage.setItem(TOKEN_KEY, params.get("token"));
      params.delete("token");
      history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
    }
    wireControls();
    setInterval(tick, 1000);
    S.loadPublicConfig().then(function (c) {
      conf = c;
      services = S.indexBy(c.services, "code");
      counters = S.indexBy(c.counters, "number");
      $("hall-name").textContent = c.hall.name;
      token = localStorage.getItem(TOKEN_KEY);
      if (token && params.get("setup") !== "1") connect(token);
      else show("setup");
    }).catch(function (err) {
      setupError("unavailable: " + err);
      setTimeout(function () { location.reload(); }, 10000);
    });
  }

  function connect(secret) {
    if (link) link.stop();
    token = secret;
    link = new S.HubLink({
      role: "survey", token: secret, client: "web-survey", subscribe: true,
      onWelcome: function (welcome) {
        localStorage.setItem(TOKEN_KEY, secret);
        scope = welcome.counters || [];
        loadState();
      },
      onEvent: onEvent,
      onStatus: function (s) {
        var el = $("status");
        el.dataset.state = s.state;
        el.hidden = s.state === "connected";  // visitors need no status; staff see a problem at once
        el.textContent = s.state === "refused" ? "Ditolak" : "Menghubungkan ulang…";
        if (s.state === "refused") {
          localStorage.removeItem(TOKEN_KEY);
          show("setup");
          setupError(s.error.code + ": " + s.error.message);
        }
      }
    });
    link.start();
  }

  // What is still to be rated after a (re)connect: the hub knows, the page may have missed events.
  function loadState() {
    fetch("/survey/state", {headers: {Authorization: "Bearer " + token}, cache: "no-store"}).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error + ": " + body.message);
        return body;
      });
    }).then(function (state) {
      form = state.form;
      var open = state.counters.filter(function (c) { return c.pending; });
      open.sort(function (a, b) { return a.pending.served_at < b.pending.served_at ? 1 : -1; });
      if (open.length) {
        var p = open[0].pending;
        if (!pending || pending.ticket !== p.ticket) begin({counter: open[0].counter, ticket: p.ticket, service: p.service,
                                                           day: state.day});
      } else if (!pending) {
        goIdle(state.counters.length ? state.counters[0] : null);
      }
    }).catch(function (err) {
      goIdle(null);
      $("idle-counter").textContent = String(err.message || err);
    });
  }

  function onEvent(event) {
    if (scope.indexOf(event.counter) < 0) return;
    if (event.type === "cleared" && event.reason === "done" && event.ticket) {
      begin({counter: event.counter, ticket: event.ticket, service: event.service || null, day: event.at.slice(0, 10)});
    } else if ((event.type === "called" || event.type === "recalled") && pending && pending.counter === event.counter
               && !sending) {
      pending = null;  // the next visitor is being called: the previous one has left
      goIdle({counter: event.counter, serving: event.ticket});
    } else if (event.type === "rated" && pending && pending.ticket === event.ticket && !sending) {
      thank("Penilaian untuk tiket ini sudah diterima. Terima kasih!");
    }
  }

  function begin(ticket) {
    clearTimeout(thanksTimer);
    pending = ticket;
    answers = [];
    step = 0;
    $("rate-ticket").textContent = ticket.ticket;
    var service = services[ticket.service], counter = counters[ticket.counter];
    $("rate-where").textContent = [service ? service.name : null, counter ? counter.name : "Loket " + ticket.counter]
      .filter(Boolean).join(" · ");
    $("comment-text").value = "";
    updateCount();
    touch();
    renderQuestion();
    show("rate");
  }

  function renderQuestion() {
    var list = questions(), q = list[step];
    $("question-number").textContent = list.length > 1 ? (step + 1) + "/" + list.length : "";
    $("question-element").textContent = q.element;
    $("question-text").textContent = q.text;
    var faces = $("faces");
    faces.innerHTML = "";
    q.labels.forEach(function (label, i) {
      var score = i + 1;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "face" + (answers[step] === score ? " chosen" : "");
      button.dataset.score = String(score);
      button.setAttribute("aria-label", score + ": " + label);
      button.innerHTML = faceSvg(score) + '<span class="face-label"></span>';
      button.querySelector(".face-label").textContent = label;
      button.addEventListener("click", function () { choose(score); });
      faces.appendChild(button);
    });
    var dots = $("progress");
    dots.innerHTML = "";
    if (list.length > 1) {
      list.forEach(function (_, i) {
        var dot = document.createElement("span");
        dot.className = "dot" + (i < step ? " done" : i === step ? " now" : "");
        dots.appendChild(dot);
      });
    }
    $("back-question").hidden = step === 0;
  }

  function faceSvg(score) {
    var colour = FACE_COLOURS[score - 1];
    var mouth = MOUTHS[score - 1];
    var fill = score === 4 ? ' fill="#ffffff"' : ' fill="none"';
    return '<svg viewBox="0 0 100 100" aria-hidden="true"><circle cx="50" cy="50" r="46" fill="' + colour + '"/>' +
      '<circle cx="35" cy="40" r="6" fill="#1f1f1f"/><circle cx="65" cy="40" r="6" fill="#1f1f1f"/>' +
      '<path d="' + mouth + '" stroke="#1f1f1f" stroke-width="6" stroke-linecap="round"' + fill + '/></svg>';
  }

  function choose(score) {
    touch();
    answers[step] = score;
    if (step + 1 < questions().length) {
      step += 1;
      renderQuestion();
    } else {
      show("comment");
      $("comment-text").focus();
    }
  }

  function send() {
    if (!pending || sending) return;
    touch();
    sending = true;
    $("send").disabled = true;
    $("send-error").hidden = true;
    var command = {type: "rate", id: S.newId("survey"), counter: pending.counter, ticket: pending.ticket,
                   scores: answers.slice(0, questions().length), comment: $("comment-text").value.trim(),
                   day: pending.day};
    var giveUp = setTimeout(function () { link.abandon(); }, SEND_GIVE_UP_MS);
    link.send(command).then(function (reply) {
      clearTimeout(giveUp);
      sending = false;
      $("send").disabled = false;
      if (reply.type === "ack") {
        thank(null);
      } else if (reply.code === "already_rated") {
        thank(ERRORS.already_rated);
      } else {
        var box = $("send-error");
        box.hidden = false;
        box.textContent = (ERRORS[reply.code] || S.errorText(reply.code)) + " (" + reply.code + ": " + reply.message + ")";
      }
    });
  }

  function thank(text) {
    pending = null;
    $("thanks-text").textContent = text || "Penilaian Anda membantu kami memperbaiki pelayanan.";
    show("thanks");
    clearTimeout(thanksTimer);
    thanksTimer = setTimeout(function () { goIdle(null); }, THANKS_S * 1000);
  }

  function goIdle(counter) {
    var where = counter && counters[counter.counter] ? counters[counter.counter].name : "";
    $("idle-counter").textContent = counter && counter.serving ? where + " sedang melayani " + counter.serving : where;
    show("idle");
  }

  function show(id) {
    ["setup", "idle", "rate", "comment", "thanks"].forEach(function (name) { $(name).hidden = name !== id; });
  }

  function setupError(text) {
    var box = $("setup-error");
    box.hidden = false;
    box.textContent = text;
  }

  function touch() { lastTouch = Date.now(); }

  function tick() {
    // A visitor who walked away mid-form: start the form over for the same ticket.
    if (pending && ($("rate").hidden === false || $("comment").hidden === false) && !sending
        && Date.now() - lastTouch > ABANDON_S * 1000 && (step > 0 || answers.length)) {
      begin(pending);
    }
  }

  function updateCount() {
    $("comment-count").textContent = $("comment-text").value.length + " / 500";
  }

  function wireControls() {
    $("setup-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      $("setup-error").hidden = true;
      connect($("survey-token").value.trim());
    });
    $("back-question").addEventListener("click", function () {
      touch();
      if (step > 0) { step -= 1; renderQuestion(); }
    });
    $("back-comment").addEventListener("click", function () {
      touch();
      step = questions().length - 1;
      renderQuestion();
      show("rate");
    });
    $("send").addEventListener("click", send);
    $("comment-text").addEventListener("input", function () { touch(); updateCount(); });
  }

  boot();
})();
