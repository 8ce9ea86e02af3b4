// Dates of the instructor pages are written in UTC. This adds, beside each, the same moment in the
// viewer's own time zone: after <time datetime data-local-time> elements, and under datetime inputs
// that take UTC (input[data-utc-input]), updated as the value changes. Without JavaScript: UTC only.
(function () {
  "use strict";

  var zone = (Intl.DateTimeFormat().resolvedOptions().timeZone) || "";
  var format = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"
  });

  function sameAsUtc(date) {
    return date.getTimezoneOffset() === 0;
  }

  function describe(date, withZone) {
    return format.format(date) + " your time" + (withZone && zone ? " (" + zone + ")" : "");
  }

  function annotateTimes(root) {
    root.querySelectorAll("time[data-local-time]:not([data-local-done])").forEach(function (el) {
      el.setAttribute("data-local-done", "");
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime()) || sameAsUtc(date)) return;
      var span = document.createElement("span");
      span.className = "local-time";
      span.textContent = " · " + describe(date);
      el.after(span);
    });
  }

  function annotateInputs(root) {
    root.querySelectorAll("input[data-utc-input]:not([data-local-done])").forEach(function (input) {
      input.setAttribute("data-local-done", "");
      var hint = document.createElement("p");
      hint.className = "help local-time";
      hint.id = input.id + "-local";
      // After the field's own help ("In UTC ..."), so the two read in order.
      var field = input.closest(".field");
      if (field) field.appendChild(hint); else input.after(hint);
      var described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", (described ? described + " " : "") + hint.id);
      function update() {
        // A datetime-local value has no zone; these inputs take UTC, so read it as UTC.
        var date = input.value ? new Date(input.value + "Z") : null;
        if (!date || isNaN(date.getTime())) {
          hint.textContent = "";
        } else if (sameAsUtc(date)) {
          hint.textContent = "Your time zone is UTC at that date: the same time.";
        } else {
          hint.textContent = "That is " + describe(date, true) + ".";
        }
      }
      input.addEventListener("input", update);
      input.addEventListener("change", update);
      update();
    });
  }

  function run(root) {
    annotateTimes(root);
    annotateInputs(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { run(document); });
  } else {
    run(document);
  }
  // Fragments swapped in by htmx (the regrade progress) get the same treatment.
  document.addEventListener("htmx:afterSwap", function () { run(document); });
})();
