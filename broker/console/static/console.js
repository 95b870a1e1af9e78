// The console's only script: live refresh of the #live region (paused while the tab is hidden), details read on
// demand (<details data-src>: fetched when opened, and refreshed with the page only while open), action forms
// posted with fetch, the account selector. No dependencies.
(function () {
  "use strict";
  var REFRESH_MS = 2000;
  var live = document.getElementById("live");
  var status = document.getElementById("live-status");
  var scope = new URLSearchParams(location.search);

  function scoped(url) {
    var params = new URLSearchParams();
    if (scope.get("account")) params.set("account", scope.get("account"));
    if (scope.get("region")) params.set("region", scope.get("region"));
    var q = params.toString();
    return q ? url + (url.indexOf("?") < 0 ? "?" : "&") + q : url;
  }

  // <details> the user opened stay open across refreshes.
  function openKeys() {
    var keys = {};
    live.querySelectorAll("details[open][data-key]").forEach(function (d) { keys[d.dataset.key] = true; });
    return keys;
  }

  function hidden() { return document.visibilityState === "hidden"; }

  // The last content of each on-demand detail, put back at once when a refresh replaces the region (no flicker).
  var details = {};
  function loadDetail(d) {
    var key = d.dataset.key;
    return fetch(d.dataset.src, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.redirected || r.status === 401 || r.status === 403) { location.reload(); return; }
        return r.text().then(function (html) {
          details[key] = r.ok ? html : '<p class="error">' + r.status + " " + r.statusText + "</p>";
          fillDetails();
        });
      })
      .catch(function () {});
  }
  function fillDetails() {
    if (!live) return;
    live.querySelectorAll("details[data-src][data-key]").forEach(function (d) {
      var target = d.querySelector("[data-detail]");
      if (target && details[d.dataset.key] !== undefined) target.innerHTML = details[d.dataset.key];
    });
  }
  // "toggle" does not bubble: listened to in the capture phase. Fires too when a refresh reopens a detail.
  document.addEventListener("toggle", function (ev) {
    var d = ev.target;
    if (d instanceof HTMLDetailsElement && d.open && d.dataset.src && !hidden()) loadDetail(d);
  }, true);

  var refreshing = false;
  function refresh() {
    if (!live || refreshing || hidden()) return Promise.resolve();
    refreshing = true;
    return fetch(live.dataset.src, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.redirected || r.status === 401 || r.status === 403) {
          location.reload();  // logged out: the page itself goes to the login
          return;
        }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text().then(function (html) {
          var keys = openKeys();
          live.innerHTML = html;
          fillDetails();
          live.querySelectorAll("details[data-key]").forEach(function (d) { if (keys[d.dataset.key]) d.open = true; });
          if (status) { status.textContent = "live"; status.classList.remove("stale"); }
        });
      })
      .catch(function () {
        if (status) { status.textContent = "offline"; status.classList.add("stale"); }
      })
      .finally(function () { refreshing = false; });
  }
  if (live) {
    setInterval(refresh, REFRESH_MS);
    // Back in view: up to date at once rather than at the next tick.
    document.addEventListener("visibilitychange", function () { if (!hidden()) refresh(); });
  }

  var result = document.getElementById("result");
  function show(answer) {
    if (!result) return;
    var error = document.getElementById("result-error");
    var body = document.getElementById("result-body");
    result.hidden = false;
    result.dataset.ok = answer.ok ? "true" : "false";
    if (answer.ok) {
      error.hidden = true;
      error.textContent = "";
      body.textContent = JSON.stringify(answer.result, null, 2);
    } else {
      error.hidden = false;
      error.textContent = answer.code + ": " + answer.message;
      body.textContent = "";
    }
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.action) return;
    ev.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    if (result) result.dataset.busy = "true";
    fetch(scoped(location.pathname.replace(/\/[^/]*$/, "") + "/actions/" + form.dataset.action), {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
    })
      .then(function (r) {
        return r.json().catch(function () { return { ok: false, code: "HTTP" + r.status, message: r.statusText }; });
      })
      .then(function (answer) {
        if (answer.detail !== undefined) answer = { ok: false, code: "Forbidden", message: String(answer.detail) };
        show(answer);
        return refresh();
      })
      .catch(function (e) { show({ ok: false, code: "NetworkError", message: String(e) }); })
      .finally(function () {
        if (button) button.disabled = false;
        if (result) delete result.dataset.busy;
      });
  });

  var close = document.getElementById("result-close");
  if (close) close.addEventListener("click", function () { result.hidden = true; });

  var selector = document.querySelector("select[data-scope]");
  if (selector) {
    selector.addEventListener("change", function () {
      var parts = selector.value.split("|");
      var params = new URLSearchParams({ account: parts[0], region: parts[1] });
      location.search = params.toString();
    });
  }
})();
