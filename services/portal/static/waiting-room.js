/* The waiting page (services/portal/web/waiting_room.py), progressive enhancement: the page works without it.
   Asks the portal for the family's place when the server says (Retry-After, jittered by the server: pages
   opened together drift apart, no reload storm), updates the numbers in place (not a live region), and tells
   screen readers of a change of position at most every 30 s (the #annonce status region). Admitted: on to
   the form. */
(function () {
  "use strict";
  var ANNOUNCE_EVERY_MS = 30000;

  function start(root) {
    var live = document.getElementById("annonce");
    var lastAnnounced = Date.now(), announcedPosition = root.dataset.position;

    function show(place) {
      root.querySelectorAll("[data-field]").forEach(function (el) {
        var value = place[el.dataset.field];
        if (value !== undefined && value !== null) { el.textContent = value; }
      });
      var position = String(place.position);
      if (position !== announcedPosition && Date.now() - lastAnnounced >= ANNOUNCE_EVERY_MS) {
        live.textContent = place.announcement;
        announcedPosition = position;
        lastAnnounced = Date.now();
      }
    }

    /* The room's Poll-Backoff, sent back with the next poll: refused, that poll comes back no sooner than the
       room would have said (docs/registrations.md, "Refused polls"). */
    var backoff = root.dataset.pollBackoff || "";

    function poll() {
      var headers = { Accept: "application/json" };
      if (backoff) { headers["Poll-Backoff"] = backoff; }
      fetch(root.dataset.status, { credentials: "same-origin", headers: headers })
        .then(function (response) {
          var retry = Number(response.headers.get("Retry-After")) || 15;
          backoff = response.headers.get("Poll-Backoff") || backoff;
          return response.json().then(function (place) { return { place: place, retry: retry, ok: response.ok }; });
        })
        .then(function (answer) {
          if (answer.ok && answer.place.next) {
            live.textContent = answer.place.announcement;
            window.location.assign(answer.place.next);
            return;
          }
          if (answer.ok && root.dataset.busy) {
            window.location.reload(); /* the room answered again: the page shows the family's place */
            return;
          }
          if (answer.ok && root.dataset.position === "" &&
              answer.place.position !== null) {
            window.location.reload(); /* the draw at the opening: the page now shows numbers */
            return;
          }
          if (answer.ok) { show(answer.place); }
          window.setTimeout(poll, answer.retry * 1000);
        })
        .catch(function () { window.setTimeout(poll, (15 + Math.random() * 15) * 1000); });
    }

    window.setTimeout(poll, (Number(root.dataset.pollAfter) || 10) * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-waiting-room]").forEach(start);
  });
})();
