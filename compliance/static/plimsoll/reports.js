// Reports page: while a report is queued or rendering, poll its API record and move its progress bar; once it is
// done or failed, reload so the sha256 and the download link appear. No inline script (Content-Security-Policy).
(function () {
  "use strict";
  var POLL_MS = 2000;
  var ACTIVE = { queued: true, running: true };

  function rows() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-report-url]"), function (row) {
      return ACTIVE[row.getAttribute("data-status")];
    });
  }

  function update(row, report) {
    var bar = row.querySelector("[data-role=progress]");
    var stage = row.querySelector("[data-role=stage]");
    var status = row.querySelector("[data-role=status]");
    if (bar) { bar.value = report.progress; bar.textContent = report.progress + "%"; }
    if (stage) { stage.textContent = report.stage; }
    if (status) { status.textContent = report.status; status.className = "badge " + report.status; }
    if (!ACTIVE[report.status]) { window.location.reload(); }
    row.setAttribute("data-status", report.status);
  }

  function poll() {
    var active = rows();
    if (!active.length) { return; }
    Promise.all(active.map(function (row) {
      return fetch(row.getAttribute("data-report-url"), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (report) { update(row, report); });
    })).then(function () {
      window.setTimeout(poll, POLL_MS);
    }, function () {
      // A failed poll (network, session expired) slows down rather than hammering the server.
      window.setTimeout(poll, POLL_MS * 5);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { window.setTimeout(poll, POLL_MS); });
}());
