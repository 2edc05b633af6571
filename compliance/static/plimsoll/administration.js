/* Administration pages: copy buttons (agent token, command line, set-password link) and the progress of a re-judging.
   Loaded as a file (no inline script), so a Content-Security-Policy of script-src 'self' allows it. */
(function () {
  "use strict";

  function say(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) { status.textContent = text; }
  }

  function copyFallback(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    return ok;
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var id = button.getAttribute("data-copy");
      var element = document.getElementById(id);
      if (!element) { return; }
      var text = element.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () { say(id, "Copied."); },
          function () { say(id, copyFallback(element) ? "Copied." : "Selected: press Ctrl+C to copy."); }
        );
      } else {
        say(id, copyFallback(element) ? "Copied." : "Selected: press Ctrl+C to copy.");
      }
    });
  });

  var box = document.querySelector("[data-rejudge-status]");
  if (!box) { return; }
  var url = box.getAttribute("data-rejudge-status");
  var field = function (name) { return box.querySelector('[data-field="' + name + '"]'); };
  var progress = box.querySelector("progress");

  function show(run) {
    var status = field("status");
    status.textContent = run.status_display;
    status.className = "badge " + run.status;
    var counts = run.done + " of " + run.total + " snapshot" + (run.total === 1 ? "" : "s") + " judged";
    if (run.failed) { counts += ", " + run.failed + " failed (their previous results stand)"; }
    field("counts").textContent = counts;
    progress.value = run.percent;
    progress.textContent = run.percent + "%";
    field("percent").textContent = run.percent + "%";
    var error = field("error");
    error.textContent = run.error || "";
    error.hidden = !run.error;
    if (run.status === "done" || run.status === "failed") {
      field("note").textContent = run.status === "done"
        ? "Finished: pages and results now follow the policy."
        : "Stopped: the snapshots not reached keep their previous results.";
      return true;
    }
    return false;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (run) { if (!show(run)) { window.setTimeout(poll, 1500); } })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  poll();
}());
