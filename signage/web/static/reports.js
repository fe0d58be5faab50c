/* reports.js — the supervisor's page: the day's figures, live, a date picker and downloads.
 *
 * Data comes from /reports/data and /reports/download with the token in an
 * Authorization header (docs/reports.md); the full report (charts, tables) is
 * the hub's own html report, shown in a sandboxed frame. While the range
 * includes today, a HubLink subscription refreshes the figures a moment after
 * each event.
 */
"use strict";

(function () {
  var S = window.Signage;
  var TOKEN_KEY = "signage.reports.token";
  var REFRESH_DELAY_MS = 2000;  // events come in bursts: one refresh per burst

  var $ = function (id) { return document.getElementById(id); };
  var token = null, link = null, viewer = null, refreshTimer = null, loading = null;

  function boot() {
    wireControls();
    S.loadPublicConfig().then(function (c) { $("hall-name").textContent = "Laporan · " + c.hall.short_name; })
      .catch(function () { /* the name is a nicety */ });
    token = localStorage.getItem(TOKEN_KEY);
    if (token) start();
  }

  function start() {
    $("login").hidden = true;
    $("view").hidden = false;
    $("logout").hidden = false;
    load();
  }

  function range() {
    var first = $("date-from").value, last = $("date-to").value || first;
    return first ? {from: first, to: last} : {};
  }

  function query(extra) {
    var r = range(), params = new URLSearchParams();
    if (r.from) { params.set("from", r.from); params.set("to", r.to); }
    Object.keys(extra || {}).forEach(function (k) { params.set(k, extra[k]); });
    return params.toString();
  }

  function authed(path) {
    return fetch(path, {headers: {Authorization: "Bearer " + token}, cache: "no-store"});
  }

  function refusal(response) {
    return response.json().catch(function () { return {error: "http_" + response.status, message: response.statusText}; })
      .then(function (body) {
        var err = new Error(body.error + ": " + body.message);
        err.status = response.status;
        throw err;
      });
  }

  function load() {
    var q = query();
    var data = authed("/reports/data" + (q ? "?" + q : "")).then(function (r) { return r.ok ? r.json() : refusal(r); });
    loading = data;
    data.then(function (doc) {
      if (loading !== data) return;  // a newer request is on its way
      $("view-error").hidden = true;
      localStorage.setItem(TOKEN_KEY, token);
      viewer = doc.viewer;
      if (!$("date-from").value) $("date-from").value = doc.report.from;
      show(doc);
      follow(doc);
      return authed("/reports/download?" + query({format: "html"})).then(function (r) {
        return r.ok ? r.text() : refusal(r);
      }).then(function (html) {
        if (loading === data) $("report-frame").srcdoc = html;
      });
    }).catch(function (err) {
      if (err.status === 401 || err.status === 403) {
        logout();
        var box = $("login-error");
        box.hidden = false;
        box.textContent = "Token ini tidak berhak melihat laporan. " + err.message;
      } else {
        var view = $("view-error");
        view.hidden = false;
        view.textContent = "Laporan tidak dapat dibuat: " + err.message;
      }
    });
  }

  function number(value) {
    return value === null || value === undefined ? "–" : String(value).replace(".", ",");
  }

  function show(doc) {
    var h = doc.hall;
    $("stat-issued").textContent = h.issued;
    $("stat-served").textContent = h.served;
    $("stat-no-show").textContent = h.no_show;
    $("stat-transferred").textContent = h.transferred;
    $("stat-wait").textContent = number(h.wait_minutes.p50) + " / " + number(h.wait_minutes.p90);
    $("stat-peak").textContent = doc.peak_hour ? doc.peak_hour.label : "–";
    $("stat-ikm").textContent = h.ikm === null ? "–" : number(h.ikm) + " (" + h.grade + ")";
    $("stat-respondents").textContent = h.respondents;
    var r = doc.report, live = r.to >= doc.viewer.today;
    var when = r.from === r.to ? r.from : r.from + " s.d. " + r.to;
    // The hub's own clock, in the hall's time zone (this device's clock may be set to another).
    var made = r.generated_at ? r.generated_at.slice(11, 16).replace(":", ".") : "";
    $("view-info").textContent = when + " · " + r.events + " peristiwa" + (live ? " · diperbarui " + made : "");
    document.body.dataset.live = live ? "yes" : "no";
  }

  // Live while the range includes today: refresh after events, on the token's own role.
  function follow(doc) {
    var live = doc.report.to >= doc.viewer.today;
    if (!live) {
      if (link) { link.stop(); link = null; }
      $("status").textContent = "Arsip";
      $("status").dataset.state = "stopped";
      return;
    }
    if (link) return;
    link = new S.HubLink({
      role: viewer.role, token: token, client: "web-reports", subscribe: true,
      onWelcome: function () { scheduleRefresh(); },
      onEvent: function () { scheduleRefresh(); },
      onStatus: function (s) {
        var el = $("status");
        el.dataset.state = s.state;
        el.textContent = s.state === "connected" ? "Langsung" : s.state === "refused" ? "Ditolak" : "Terputus";
      }
    });
    link.start();
  }

  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () { refreshTimer = null; load(); }, REFRESH_DELAY_MS);
  }

  function download(format) {
    authed("/reports/download?" + query({format: format})).then(function (r) {
      if (!r.ok) return refusal(r);
      var disposition = r.headers.get("Content-Disposition") || "";
      var match = /filename="([^"]+)"/.exec(disposition);
      return r.blob().then(function (blob) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = match ? match[1] : "laporan." + format;
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
    }).catch(function (err) {
      var box = $("view-error");
      box.hidden = false;
      box.textContent = "Unduhan gagal: " + err.message;
    });
  }

  function logout() {
    if (link) { link.stop(); link = null; }
    localStorage.removeItem(TOKEN_KEY);
    token = null;
    $("view").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = false;
  }

  function wireControls() {
    $("login-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      $("login-error").hidden = true;
      token = $("token").value.trim();
      start();
    });
    $("range-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      load();
    });
    $("today").addEventListener("click", function () {
      $("date-from").value = viewer ? viewer.today : "";
      $("date-to").value = "";
      load();
    });
    $("logout").addEventListener("click", logout);
    Array.prototype.forEach.call(document.querySelectorAll("[data-format]"), function (button) {
      button.addEventListener("click", function () { download(button.dataset.format); });
    });
    // The frame grows with the report inside it, so the page scrolls as one.
    $("report-frame").addEventListener("load", function () {
      var frame = $("report-frame");
      try { frame.style.height = frame.contentDocument.documentElement.scrollHeight + 20 + "px"; } catch (e) { /* */ }
    });
  }

  boot();
})();
