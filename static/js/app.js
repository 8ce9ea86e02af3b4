// AWS Developer Lab: small progressive enhancements. No inline scripts, no eval; works after htmx swaps
// because every handler is delegated from the document or re-scans the page.
(function () {
  "use strict";

  // --- Copy buttons: <button data-copy="element-id" hidden> (hidden until JavaScript can copy) ---
  function revealCopyButtons(root) {
    (root || document).querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
      button.setAttribute("aria-label", "Copy " + (button.dataset.copyLabel || "to clipboard"));
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Fallback for plain-http pages (e.g. a lab on a LAN address).
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      try {
        document.execCommand("copy") ? resolve() : reject(new Error("copy failed"));
      } catch (err) {
        reject(err);
      } finally {
        document.body.removeChild(area);
      }
    });
  }

  // The button's aria-label stays "Copy …", so "Copied" is said by a polite status region of its own
  // (made when the page loads: a region created at the moment of speaking is often not announced).
  function copyAnnouncer() {
    var region = document.getElementById("copy-status");
    if (!region) {
      region = document.createElement("div");
      region.id = "copy-status";
      region.className = "offscreen";
      region.setAttribute("role", "status");
      document.body.appendChild(region);
    }
    return region;
  }

  function announceCopy(text) {
    var region = copyAnnouncer();
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 60);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    var label = button.textContent;
    var what = button.dataset.copyLabel || "";
    copyText(source.textContent.trim()).then(
      function () { button.textContent = "Copied"; announceCopy("Copied" + (what ? " " + what : "")); },
      function () { button.textContent = "Press Ctrl+C"; announceCopy("Could not copy: select the text and press Ctrl+C"); }
    ).finally(function () {
      window.setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // --- Confirmation for destructive forms: <form data-confirm="..."> ---
  // Capture phase, so it runs before htmx's boosted-form handler.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // --- Session timer: <p data-expires-at="ISO"><strong data-timer-text>…</strong></p> ---
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tickTimers() {
    document.querySelectorAll("[data-expires-at]").forEach(function (timer) {
      var out = timer.querySelector("[data-timer-text]");
      var end = Date.parse(timer.dataset.expiresAt);
      if (!out || isNaN(end)) return;
      var left = Math.max(0, Math.floor((end - Date.now()) / 1000));
      var text = left === 0 ? "time is up" :
        Math.floor(left / 3600) + ":" + pad(Math.floor((left % 3600) / 60)) + ":" + pad(left % 60);
      if (out.textContent !== text) out.textContent = text;
      timer.classList.toggle("timer-low", left < 600);
      // An exam timer reloads the page once at the deadline; the server then finishes the exam.
      if (left === 0 && timer.dataset.timerEnd === "reload" && !timer.dataset.reloaded) {
        timer.dataset.reloaded = "yes";
        window.location.reload();
      }
    });
  }

  // --- Journal: newest rows are at the bottom; keep them in view unless the learner scrolled up ---
  function followJournal(force) {
    document.querySelectorAll(".journal-wrap").forEach(function (wrap) {
      var nearBottom = wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight < 80;
      if (force || nearBottom || wrap.dataset.follow !== "no") wrap.scrollTop = wrap.scrollHeight;
    });
  }

  document.addEventListener("scroll", function (event) {
    var wrap = event.target;
    if (wrap.classList && wrap.classList.contains("journal-wrap")) {
      wrap.dataset.follow = wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight < 80 ? "yes" : "no";
    }
  }, true);

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.closest && event.target.closest("#journal-body")) followJournal(false);
  });

  function init(root) {
    revealCopyButtons(root);
    if (document.querySelector("button[data-copy]")) copyAnnouncer();
    tickTimers();
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); followJournal(true); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
  window.setInterval(tickTimers, 1000);
})();
