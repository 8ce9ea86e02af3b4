// The lab page as a workspace (templates/labs/lab.html, static/css/lab.css): the resizable splitter, tabs on
// phones, one polite announcer (expiry warnings, "Checked: 4 of 8"), the expiry warning with "Extend", the
// "lab:session-ended" event for the console, the warning before submitting with failing tasks, and the
// Alt+Shift+C shortcut to "Check my progress". No inline scripts, no eval; handlers are delegated from the
// document, and init() runs again on a workspace that htmx swapped in (boosted Start, Reset and End).
(function () {
  "use strict";

  var NARROW = window.matchMedia("(max-width: 60rem)");
  var LEFT_KEY = "lab.workspace.left";
  var TAB_KEY = "lab.workspace.tab";
  var LEFT_MIN = 20, LEFT_MAX = 60, LEFT_DEFAULT = 32;
  var WARN_AT = [600, 300, 60]; // seconds before expiry: announced once each
  var LIVE = { provisioning: true, ready: true };

  var state = { status: null, expires: null, warned: {}, attempt: null, ended: false };

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function store(kind, key, value) {
    try { window[kind].setItem(key, value); } catch (err) { /* private mode: not remembered */ }
  }
  function recall(kind, key) {
    try { return window[kind].getItem(key); } catch (err) { return null; }
  }

  // --- Announcements: one persistent polite region (a region that is swapped in is not announced) ---
  var announceTimer = null;
  function announce(text) {
    var region = $("#lab-announcer");
    if (!region || !text) return;
    region.textContent = "";
    window.clearTimeout(announceTimer);
    // A short pause so that the same text twice is announced twice.
    announceTimer = window.setTimeout(function () { region.textContent = text; }, 120);
  }

  // --- Full height: the workspace fills the viewport from where it starts ---
  function fitHeight() {
    var workspace = $("[data-workspace]");
    if (!workspace) return;
    var top = workspace.getBoundingClientRect().top + window.scrollY;
    workspace.style.setProperty("--ws-top", Math.round(top) + "px");
  }

  // --- Splitter: arrow keys, Home/End and a pointer; the share is remembered ---
  function setLeft(workspace, splitter, value, remember) {
    var left = Math.max(LEFT_MIN, Math.min(LEFT_MAX, Math.round(value)));
    workspace.style.setProperty("--ws-left", left + "%");
    splitter.setAttribute("aria-valuenow", String(left));
    splitter.setAttribute("aria-valuetext", "Instructions take " + left + "% of the width");
    if (remember) store("localStorage", LEFT_KEY, String(left));
    return left;
  }

  function initSplitter(workspace) {
    var splitter = $("[data-ws-splitter]", workspace);
    if (!splitter || !workspace.classList.contains("workspace-live")) return;
    splitter.tabIndex = 0;
    var saved = parseInt(recall("localStorage", LEFT_KEY), 10);
    setLeft(workspace, splitter, isNaN(saved) ? LEFT_DEFAULT : saved, false);

    splitter.addEventListener("keydown", function (event) {
      var now = parseInt(splitter.getAttribute("aria-valuenow"), 10) || LEFT_DEFAULT;
      var step = event.shiftKey ? 10 : 2;
      var next = { ArrowLeft: now - step, ArrowRight: now + step, Home: LEFT_MIN, End: LEFT_MAX }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      setLeft(workspace, splitter, next, true);
    });

    splitter.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      event.preventDefault();
      splitter.setPointerCapture(event.pointerId);
      splitter.classList.add("is-dragging");
      var box = workspace.getBoundingClientRect();
      function move(e) { setLeft(workspace, splitter, ((e.clientX - box.left) / box.width) * 100, false); }
      function up(e) {
        splitter.classList.remove("is-dragging");
        splitter.removeEventListener("pointermove", move);
        splitter.removeEventListener("pointerup", up);
        splitter.removeEventListener("pointercancel", up);
        store("localStorage", LEFT_KEY, splitter.getAttribute("aria-valuenow"));
      }
      splitter.addEventListener("pointermove", move);
      splitter.addEventListener("pointerup", up);
      splitter.addEventListener("pointercancel", up);
    });
  }

  // --- Tabs on phones (the ARIA tabs pattern, automatic activation) ---
  function tabs(workspace) { return $all('[data-ws-tabs] [role="tab"]', workspace); }

  function selectTab(workspace, tab, focus) {
    tabs(workspace).forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      var pane = document.getElementById(other.getAttribute("aria-controls"));
      if (pane) pane.hidden = !selected;
    });
    store("sessionStorage", TAB_KEY, tab.id);
    if (focus) tab.focus();
  }

  function applyTabs(workspace) {
    var tablist = $("[data-ws-tabs]", workspace);
    if (!tablist) return;
    var panes = $all("[data-ws-pane]", workspace);
    if (NARROW.matches) {
      tablist.hidden = false;
      workspace.classList.add("ws-tabbed");
      tabs(workspace).forEach(function (tab) {
        var pane = document.getElementById(tab.getAttribute("aria-controls"));
        if (!pane) return;
        pane.setAttribute("role", "tabpanel");
        pane.setAttribute("aria-labelledby", tab.id);
      });
      var current = tabs(workspace).filter(function (tab) { return tab.getAttribute("aria-selected") === "true"; })[0];
      var saved = document.getElementById(recall("sessionStorage", TAB_KEY) || "");
      selectTab(workspace, saved && tablist.contains(saved) ? saved : current || tabs(workspace)[0], false);
    } else {
      tablist.hidden = true;
      workspace.classList.remove("ws-tabbed");
      panes.forEach(function (pane) {
        pane.hidden = false;
        if (pane.dataset.role) {
          pane.setAttribute("role", pane.dataset.role); // the instructions' scroll box is a named region
          pane.setAttribute("aria-labelledby", pane.dataset.labelledby);
        } else {
          pane.removeAttribute("role");
          pane.removeAttribute("aria-labelledby");
        }
      });
    }
  }

  // Show the pane holding an element (a skip link's target, Check) before moving focus there.
  function revealPaneOf(element) {
    var workspace = $("[data-workspace]");
    if (!workspace || !element || !workspace.classList.contains("ws-tabbed")) return;
    var pane = element.closest("[data-ws-pane]");
    if (!pane || !pane.hidden) return;
    var tab = $('[aria-controls="' + pane.id + '"]', workspace);
    if (tab) selectTab(workspace, tab, false);
  }

  function focusElement(element) {
    if (!element) return;
    revealPaneOf(element);
    if (element.tabIndex < 0 && !/^(INPUT|BUTTON|A|TEXTAREA|SELECT)$/.test(element.tagName)) element.tabIndex = -1;
    element.focus();
    if (element.scrollIntoView) element.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest('[data-ws-tabs] [role="tab"]');
    if (tab) {
      var all = tabs(tab.closest("[data-workspace]"));
      var index = all.indexOf(tab);
      var next = { ArrowLeft: index - 1, ArrowRight: index + 1, Home: 0, End: all.length - 1 }[event.key];
      if (next !== undefined) {
        event.preventDefault();
        selectTab(tab.closest("[data-workspace]"), all[(next + all.length) % all.length], true);
        return;
      }
    }
    // Alt+Shift+C: "Check my progress" from anywhere on the page.
    if (event.altKey && event.shiftKey && !event.ctrlKey && !event.metaKey && (event.code === "KeyC" || event.key === "C")) {
      var check = document.getElementById("check-button");
      if (check) {
        event.preventDefault();
        focusElement(check);
      }
    }
  });

  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest('[data-ws-tabs] [role="tab"]');
    if (tab) {
      selectTab(tab.closest("[data-workspace]"), tab, false);
      return;
    }
    var skip = event.target.closest && event.target.closest(".lab-skip a[href^='#']");
    if (skip) {
      var target = document.getElementById(skip.getAttribute("href").slice(1));
      if (target) {
        event.preventDefault();
        focusElement(target);
      }
    }
  });

  // --- Session: status, expiry warnings, "Extend", the end ---
  function minutesText(seconds) {
    var minutes = Math.max(1, Math.round(seconds / 60));
    return minutes + (minutes === 1 ? " minute" : " minutes");
  }

  function clockText(ms) {
    var d = new Date(ms);
    return (d.getUTCHours() < 10 ? "0" : "") + d.getUTCHours() + ":" + (d.getUTCMinutes() < 10 ? "0" : "") + d.getUTCMinutes() + " UTC";
  }

  function checkExpiry() {
    var warning = $("[data-expiry-warning]");
    if (!warning || state.ended || !state.expires) return;
    var left = Math.floor((state.expires - Date.now()) / 1000);
    var text = $("[data-expiry-text]", warning);
    if (left <= 0) {
      // The server ends the session within moments; the panel's poll then reports it (and the banner).
      if (text) text.textContent = "now";
      return;
    }
    if (left <= WARN_AT[0]) {
      if (warning.hidden) warning.hidden = false;
      if (text) text.textContent = "in " + minutesText(left) + " (at " + clockText(state.expires) + ")";
    } else if (!warning.hidden) {
      warning.hidden = true;
    }
    // Announce the smallest threshold crossed, once (a page opened with 7 minutes left says so once).
    var crossed = WARN_AT.filter(function (limit) { return left <= limit; });
    if (!crossed.length) return;
    var limit = crossed[crossed.length - 1];
    if (state.warned[limit]) return;
    crossed.forEach(function (l) { state.warned[l] = true; });
    var canExtend = !!$("[data-extend-form]", warning) && !$("[data-extend-form]", warning).hidden;
    announce("Your lab sandbox ends in " + minutesText(left) + ", at " + clockText(state.expires) + "." +
      (canExtend ? " You can extend it from the Tasks panel." : " Save anything you need."));
  }

  function syncSession(announceChanges) {
    var panel = document.getElementById("session-panel");
    if (!panel) return;
    var status = panel.dataset.sessionStatus || "none";
    var wasLive = LIVE[state.status];
    var expires = Date.parse(panel.dataset.expiresAtIso || "");

    // The mini status beside Check mirrors the sandbox panel.
    var mini = $("[data-ws-status]");
    if (mini) {
      mini.dataset.wsStatus = status;
      var label = $("[data-status]", panel);
      var miniText = $("[data-ws-status-text]", mini);
      if (miniText) miniText.textContent = label ? label.textContent : LIVE[status] ? status : "Ended";
    }
    $all("[data-needs-ready]").forEach(function (button) { button.disabled = status !== "ready"; });

    if (!isNaN(expires)) {
      $all("[data-ws-status] [data-expires-at], [data-check-bar] [data-expires-at]").forEach(function (timer) {
        timer.dataset.expiresAt = new Date(expires).toISOString();
      });
      if (state.expires && expires > state.expires + 1000) {
        state.warned = {};
        if (announceChanges) announce("Extended: your sandbox now runs until " + clockText(expires) + ".");
      }
      state.expires = expires;
    }
    var extend = $("[data-extend-form]");
    if (extend && panel.dataset.canExtend) extend.hidden = panel.dataset.canExtend !== "true";

    if (announceChanges && status === "ready" && state.status === "provisioning") {
      announce("Your sandbox is ready.");
    }
    if (wasLive && !LIVE[status] && !state.ended) {
      state.ended = true;
      var warning = $("[data-expiry-warning]");
      if (warning) warning.hidden = true;
      var ended = $("[data-session-ended]", panel);
      announce(ended ? ended.textContent.replace(/\s+/g, " ").trim() : "This lab session has ended.");
      document.dispatchEvent(new CustomEvent("lab:session-ended", { detail: { status: status } }));
    }
    state.status = status;
    checkExpiry();
  }

  // --- Tasks: one short line after a check instead of the whole panel ---
  function syncTasks(announceChanges) {
    var panel = document.getElementById("tasks-panel");
    if (!panel) return;
    var attempt = panel.dataset.attempt || "";
    var line = panel.dataset.checkLine || "";
    var graded = /\.graded$/.test(attempt);
    if (attempt !== state.attempt && graded) {
      var status = $("[data-check-status]");
      if (status) status.textContent = line.split(".")[0];
      if (announceChanges) announce(line);
    } else if (announceChanges && attempt !== state.attempt && /\.failed$/.test(attempt)) {
      announce("The check could not run. See the Tasks panel.");
    }
    state.attempt = attempt;
  }

  // Both syncs compare with what they saw last, so running them after every swap is cheap and safe
  // (an outerHTML swap settles on the new element, whichever htmx reports).
  document.addEventListener("htmx:afterSettle", function () {
    syncSession(true);
    syncTasks(true);
  });

  // --- "Submit for grading": warn when the last check has failing tasks ---
  // Capture phase on window, so it runs before app.js's data-confirm handler on the document.
  window.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("form[data-submit-form]");
    if (!form) return;
    // The tasks panel is live (a check made after the page loaded); the form knows the check before that.
    var tasks = document.getElementById("tasks-panel");
    var source = tasks && tasks.dataset.failing ? tasks : form;
    var failing = parseInt(source.dataset.failing, 10);
    var total = parseInt(source.dataset.taskCount, 10);
    var lead;
    if (isNaN(failing)) lead = "You have not checked your progress in this session.";
    else if (failing > 0) lead = failing + " of " + total + " task" + (total === 1 ? " is" : "s are") + " not passing in your last check.";
    else lead = "Every task passed in your last check.";
    form.dataset.confirm = lead + " " + (form.dataset.confirmBase || "") + (failing === 0 ? "" : " Submit anyway?");
  }, true);

  // --- Start ---
  function init() {
    var workspace = $("[data-workspace]");
    if (!workspace || workspace.dataset.enhanced) return;
    workspace.dataset.enhanced = "yes";
    state = { status: null, expires: null, warned: {}, attempt: null, ended: false };
    applyTabs(workspace);
    initSplitter(workspace);
    fitHeight();
    syncSession(false);
    syncTasks(false);
  }

  NARROW.addEventListener("change", function () {
    var workspace = $("[data-workspace]");
    if (workspace) applyTabs(workspace);
    fitHeight();
  });
  window.addEventListener("resize", fitHeight);
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:load", init);
  window.setInterval(checkExpiry, 1000);
})();
