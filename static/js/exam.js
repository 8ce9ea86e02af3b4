// The practice exam, enhanced: one question at a time (or all of them), the question palette as a
// collapsible panel in the sticky bar, and spoken warnings at 10, 5 and 1 minutes left. Answers and
// flags are plain forms that htmx posts (templates/quizzes/exam.html); without this script the page is
// the full list with "Save answer" buttons. No inline scripts, no eval (the site's CSP).
(function () {
  "use strict";

  document.documentElement.classList.add("exam-js");
  var VIEW_KEY = "exam-view";  // "one" (the default) or "all", kept across exams in this browser
  var WARNINGS = [10, 5, 1];   // minutes left that are announced

  function all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  // Controls that only make sense with JavaScript are hidden in the markup; the no-JS fallbacks hide here.
  function enhance(root) {
    all("[data-js-only][hidden]", root).forEach(function (el) { el.hidden = false; });
    all("[data-nojs-only]", root).forEach(function (el) { el.hidden = true; });
  }

  // Storage may be blocked (privacy settings); then the defaults apply and nothing is remembered.
  function recall(storage, key) {
    try { return window[storage].getItem(key); } catch (err) { return null; }
  }

  function remember(storage, key, value) {
    try { window[storage].setItem(key, value); } catch (err) { /* not remembered */ }
  }

  // --- Timer warnings: the ticking timer is not a live region; these short messages are ---------------
  function watchTime() {
    var timer = document.querySelector(".exam [data-expires-at]");
    var out = document.getElementById("exam-announce");
    if (!timer || !out) return;
    var end = Date.parse(timer.dataset.expiresAt);
    if (isNaN(end)) return;
    var before = null;
    function check() {
      var left = (end - Date.now()) / 1000;
      if (before !== null) {
        WARNINGS.forEach(function (minutes) {
          if (before > minutes * 60 && left <= minutes * 60) {
            out.textContent = minutes + (minutes === 1 ? " minute" : " minutes") + " left in the exam.";
          }
        });
      }
      before = left;
    }
    check();
    window.setInterval(check, 1000);
  }

  // --- One question at a time ------------------------------------------------------------------------
  var exam = document.querySelector(".exam[data-review-url]");
  if (!exam) {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); watchTime(); });
    return;
  }
  var sections = all("section[data-question]", exam);
  var palette = document.getElementById("exam-palette");
  var toggle = document.querySelector("[data-palette-toggle]");
  var viewButton = document.querySelector("[data-exam-view]");
  var posKey = "exam-position-" + exam.dataset.exam;
  var mode = recall("localStorage", VIEW_KEY) === "all" ? "all" : "one";
  var current = 0;

  function indexOfHash(hash) {
    var match = /^#q-(\d+)$/.exec(hash || "");
    if (!match) return -1;
    for (var i = 0; i < sections.length; i++) if (sections[i].dataset.question === match[1]) return i;
    return -1;
  }

  function syncPalette() {
    var pk = sections[current] && sections[current].dataset.question;
    all("[data-palette]", palette).forEach(function (item) {
      if (item.dataset.palette === pk) item.setAttribute("aria-current", "true");
      else item.removeAttribute("aria-current");
    });
  }

  function render() {
    sections.forEach(function (section, i) {
      section.hidden = mode === "one" && i !== current;
      var step = section.querySelector(".exam-step");
      if (step) step.hidden = mode !== "one";
      var prev = section.querySelector("[data-exam-go=prev]");
      var next = section.querySelector("[data-exam-go=next]");
      if (prev) prev.disabled = i === 0;
      if (next) next.textContent = i === sections.length - 1 ? "Review and finish" : "Next";
    });
    if (viewButton) viewButton.textContent = mode === "one" ? "Show all questions" : "Show one question at a time";
    syncPalette();
  }

  function go(index, focus) {
    if (index < 0 || index >= sections.length) return;
    current = index;
    render();
    var section = sections[index];
    remember("sessionStorage", posKey, section.dataset.question);  // a reload returns here
    if (window.history.replaceState) window.history.replaceState(null, "", "#" + section.id);
    if (focus) {
      var heading = section.querySelector(".question-number");
      section.scrollIntoView({ block: "start" });
      if (heading) heading.focus({ preventScroll: true });
    }
  }

  function setPalette(open) {
    if (!palette || !toggle) return;
    palette.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }

  exam.addEventListener("click", function (event) {
    var step = event.target.closest("[data-exam-go]");
    if (step) {
      var index = sections.indexOf(step.closest("section[data-question]"));
      if (step.dataset.examGo === "next" && index === sections.length - 1) {
        window.location.href = exam.dataset.reviewUrl;
      } else {
        go(index + (step.dataset.examGo === "next" ? 1 : -1), true);
      }
      return;
    }
    var item = event.target.closest("a[data-palette]");
    if (item) {
      var target = indexOfHash("#q-" + item.dataset.palette);
      if (target < 0) return;
      event.preventDefault();
      setPalette(false);
      go(target, true);
      return;
    }
    if (event.target.closest("[data-palette-toggle]")) {
      setPalette(palette.hidden);
      if (!palette.hidden) {
        var here = palette.querySelector("[aria-current=true]") || palette.querySelector("a");
        if (here) here.focus();
      }
      return;
    }
    if (event.target.closest("[data-exam-view]")) {
      // Switching the view closes the palette to show the questions; focus goes back to its toggle.
      mode = mode === "one" ? "all" : "one";
      remember("localStorage", VIEW_KEY, mode);
      setPalette(false);
      if (toggle) toggle.focus();
      go(current, false);
    }
  });

  // Escape closes the open palette and returns to its toggle.
  exam.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && palette && !palette.hidden && palette.contains(document.activeElement)) {
      setPalette(false);
      toggle.focus();
    }
  });

  window.addEventListener("hashchange", function () {
    var index = indexOfHash(window.location.hash);
    if (index >= 0) go(index, true);
  });

  // A saved answer or flag replaces the question's palette button: mark the current one again.
  document.addEventListener("htmx:afterSettle", syncPalette);

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    setPalette(false);
    var start = indexOfHash(window.location.hash);
    if (start < 0) {
      start = Math.max(0, indexOfHash("#q-" + recall("sessionStorage", posKey)));
    }
    current = start;
    render();
    if (window.location.hash && mode === "all") sections[current].scrollIntoView({ block: "start" });
    watchTime();
  });
})();
