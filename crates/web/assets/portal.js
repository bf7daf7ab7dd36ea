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

  if (!idle) return;

  var box = document.getElementById("idle-warning");
  var left = document.getElementById("idle-left");
  var stay = document.getElementById("idle-stay");
  var deadline = Date.now() + idle * 1000;

  function fmt(s) {
    var m = Math.floor(s / 60), r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }

  function tick() {
    var remaining = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    if (remaining <= 0) {
      window.location.assign("/login?expired=1");
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
          deadline = Date.now() + idle * 1000;
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
