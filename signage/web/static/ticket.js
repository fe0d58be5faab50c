/* ticket.js — the visitor's phone page at /t/<code>: one ticket's place in line, live.
 * Connects with role "ticket" and the code as its token; the hub sends only this
 * ticket's ticket_status notices (docs/protocol.md). */
"use strict";

(function () {
  var S = window.Signage;
  var $ = function (id) { return document.getElementById(id); };
  var code = location.pathname.split("/").pop();
  var last = null, audio = null;

  function show(state) {
    ["waiting", "called", "skipped", "done"].forEach(function (id) { $(id).hidden = id !== state; });
  }

  function render(t) {
    var before = last;
    last = t;
    $("hall").textContent = t.hall || "Antrean";
    $("number").textContent = t.ticket;
    $("service").textContent = t.service_name || t.service;
    $("issued").textContent = S.clockText(t.issued) + " WIB";
    document.body.dataset.state = t.state;
    show(t.state);
    if (t.state === "waiting") {
      var ahead = t.position - 1;
      $("ahead").textContent = ahead > 0 ? "Ada " + ahead + " orang di depan Anda" : "Anda berikutnya";
      $("wait").textContent = t.wait ? t.wait.low + "–" + t.wait.high + " menit" : "belum dapat diperkirakan";
      $("near").hidden = !t.near;
      if (t.near && !(before && before.near)) alertVisitor([200, 100, 200]);
    } else if (t.state === "called") {
      $("counter").textContent = t.counter_name || "Loket " + t.counter;
      if (!before || before.state !== "called" || before.counter !== t.counter) alertVisitor([400, 150, 400, 150, 800]);
    }
    document.title = t.ticket + " · " + (t.state === "called" ? "Silakan menuju " + $("counter").textContent : "Antrean");
  }

  // A call must be noticed from a pocket: vibrate, and a short two-tone chime (no sound file needed).
  function alertVisitor(pattern) {
    if (navigator.vibrate) navigator.vibrate(pattern);
    document.body.dataset.alerted = String(Number(document.body.dataset.alerted || 0) + 1);
    if (!audio) return;
    [660, 880].forEach(function (freq, i) {
      var osc = audio.createOscillator(), gain = audio.createGain(), at = audio.currentTime + i * 0.35;
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.3, at);
      gain.gain.exponentialRampToValueAtTime(0.001, at + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(at);
      osc.stop(at + 0.32);
    });
  }

  $("sound").addEventListener("click", function () {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audio) audio = new Ctx();
    if (audio && audio.resume) audio.resume();
    $("sound").textContent = "Suara dan getar aktif";
    $("sound").disabled = true;
  });

  fetch("/survey", {method: "HEAD"}).then(function (r) { $("survey").hidden = !r.ok; }, function () {});

  var link = new S.HubLink({
    role: "ticket", token: code, client: "phone",
    onNotice: function (n) { if (n.type === "ticket_status") render(n); },
    onStatus: function (s) {
      $("link").textContent = s.state === "connected" ? "Terhubung" :
        s.state === "refused" ? "Tiket tidak berlaku lagi" : "Menghubungkan ulang…";
      if (s.state === "refused") { document.body.dataset.state = "expired"; }
    }
  });
  link.start();
})();
