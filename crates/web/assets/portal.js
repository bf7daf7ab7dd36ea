// Provider Portal page script. No inline scripts are allowed (CSP), so behaviour lives here.
//
// Idle logoff (HIPAA automatic logoff): the server ends a session after 15 minutes without a
// request. Signed-in pages carry data-idle-seconds and data-warn-seconds on <body>; this warns
// before the end, offers "Stay signed in" (a POST that refreshes the session), and goes to the
// sign-in page when the time is up, so no member data stays on an unattended screen.
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.dataset.idleSeconds || "0", 10);
  var warn = parseInt(body.dataset.warnSeconds || "0", 10);
  var csrf = body.dataset.csrf || "";

  // Forms that ask for confirmation before a consequential action.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  });

  // At phone width the navigation folds behind a menu button (CSS shows the button there);
  // without this script the list simply wraps.
  var nav = document.querySelector(".main-nav");
  var toggle = nav && nav.querySelector(".nav-toggle");
  var list = nav && nav.querySelector("ul");
  if (toggle && list && list.children.length > 1) {
    nav.classList.add("js-nav");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      list.classList.toggle("open", open);
    });
  }

  // A form sent back with field errors: its summary lists each field's message as a link to the
  // field, and gets the focus, so keyboard and screen reader users start where the problem is.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    var links = document.createElement("ul");
    document.querySelectorAll(".field-error[id]").forEach(function (err) {
      var field = document.querySelector('[aria-describedby~="' + err.id + '"]') ||
        document.getElementById(err.id.replace(/-error$/, ""));
      if (!field || !field.id) return;
      var label = document.querySelector('label[for="' + field.id + '"]');
      var a = document.createElement("a");
      a.href = "#" + field.id;
      a.textContent = (label ? label.textContent.trim() + ": " : "") + err.textContent.trim();
      a.addEventListener("click", function (e) {
        e.preventDefault();
        field.focus();
      });
      var li = document.createElement("li");
      li.appendChild(a);
      links.appendChild(li);
    });
    if (links.children.length) summary.appendChild(links);
    summary.focus();
  }

  if (!idle) return;

  var box = document.getElementById("idle-warning");
  var left = document.getElementById("idle-left");
  var stay = document.getElementById("idle-stay");
  // Tabs of one browser share the time of the last request any of them made, so working in one
  // tab keeps the others from signing the user out.
  var KEY = "portal-last-activity";
  function touch() {
    try { localStorage.setItem(KEY, String(Date.now())); } catch (e) { /* storage disabled */ }
  }
  function lastActivity() {
    var mine = loadedAt;
    try { mine = Math.max(mine, parseInt(localStorage.getItem(KEY) || "0", 10)); } catch (e) { /* ignore */ }
    return mine;
  }
  var loadedAt = Date.now();
  touch();
  var ended = false;

  function fmt(s) {
    var m = Math.floor(s / 60), r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }

  // Time is up: end the session on the server too, then show the sign-in page.
  function logoff() {
    if (ended) return;
    ended = true;
    var done = function () { window.location.assign("/login?expired=1"); };
    fetch("/logout", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf }
    }).then(done, done);
  }

  function tick() {
    var deadline = lastActivity() + idle * 1000;
    var remaining = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    if (remaining <= 0) {
      logoff();
      return;
    }
    if (box) {
      if (remaining <= warn) {
        box.hidden = false;
        if (left) left.textContent = fmt(remaining);
      } else {
        box.hidden = true;
      }
    }
  }

  if (stay) {
    stay.addEventListener("click", function () {
      fetch("/session/keepalive", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf }
      }).then(function (r) {
        if (r.ok) {
          loadedAt = Date.now();
          touch();
          tick();
        } else {
          window.location.assign("/login?expired=1");
        }
      });
    });
  }

  tick();
  setInterval(tick, 1000);
})();
