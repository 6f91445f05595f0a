/* Progressive enhancement only: every page works without it.
   - [data-countdown]: counts down to the opening by the SERVER's clock (offset = server now − browser
     now, measured when the page arrives), then reloads: the server decides when the form shows. The
     figure that changes every second is a role="timer" (not announced); a screen reader hears the
     [data-countdown-announce] live region instead, only at ANNOUNCED_STEPS (1 h, 30, 10, 5 and 1 min,
     30 and 10 s before) and at the opening (RGAA 7.5: status messages without noise).
   - forms [data-submit-once] and buttons [data-once]: disabled after the first press; a second press
     would be harmless anyway (same Idempotency-Key), this only spares a useless request.
   - [data-refresh]: the managers' live counters, fetched again every 5 s. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function two(n) { return (n < 10 ? "0" : "") + n; }

  var ANNOUNCED_STEPS = [3600, 1800, 600, 300, 60, 30, 10];

  function spoken(seconds) {
    if (seconds >= 3600) { return seconds / 3600 === 1 ? "1 heure" : seconds / 3600 + " heures"; }
    if (seconds >= 60) { return seconds / 60 === 1 ? "1 minute" : seconds / 60 + " minutes"; }
    return seconds + " secondes";
  }

  function startCountdown(el) {
    var offset = Number(el.dataset.serverNow) - Date.now();
    var opensAt = Number(el.dataset.opensAt);
    var announcer = el.parentNode.querySelector("[data-countdown-announce]");
    var reloading = false;
    var previous = null;  // seconds left at the previous tick: a step is announced when it is crossed
    function announce(text) {
      if (announcer) { announcer.textContent = text; }
    }
    function tick() {
      var left = opensAt - (Date.now() + offset);
      if (left <= 0) {
        if (!reloading) {
          reloading = true;
          el.textContent = "Ouverture : affichage du formulaire…";
          announce("Les inscriptions ouvrent : affichage du formulaire.");
          window.location.reload();
        }
        return;
      }
      var s = Math.ceil(left / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
          m = Math.floor(s % 3600 / 60);
      el.textContent = "Ouverture dans " + (d ? d + " j " : "") + two(h) + " h " + two(m) + " min " + two(s % 60) + " s";
      if (previous !== null) {
        ANNOUNCED_STEPS.forEach(function (step) {
          if (previous > step && s <= step) { announce("Ouverture des inscriptions dans " + spoken(step) + "."); }
        });
      }
      previous = s;
      window.setTimeout(tick, Math.min(1000, left));
    }
    tick();
  }

  function onceOnly(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var buttons = form.querySelectorAll("button[type=submit]");
      // Disabled after the submission has started, so the pressed button's value still goes with it.
      window.setTimeout(function () {
        buttons.forEach(function (b) { b.disabled = true; b.setAttribute("aria-busy", "true"); });
      }, 0);
    });
  }

  function refresh(el) {
    window.setInterval(function () {
      fetch(el.dataset.refresh, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { el.innerHTML = html; } })
        .catch(function () {});
    }, 5000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-countdown]").forEach(startCountdown);
    document.querySelectorAll("form").forEach(function (form) {
      if (form.matches("[data-submit-once]") || form.querySelector("[data-once]")) { onceOnly(form); }
    });
    document.querySelectorAll("[data-refresh]").forEach(refresh);
  });
})();
