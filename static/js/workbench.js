// The lab page's workbench: tabs, the console's history and the script editor.
// Everything works without this file (both tools show, forms post normally); this adds the keyboard
// behaviour learners expect from a terminal and a code editor. Handlers are delegated from the document
// or attached in init(), which runs again when htmx swaps the workbench in.
(function () {
  "use strict";

  var INDENT = "    ";

  // --- Tabs (WAI-ARIA tabs pattern: arrows, Home and End move between tabs) ------------------------
  function selectTab(tablist, tab, focus) {
    tablist.querySelectorAll('[role="tab"]').forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    });
    if (focus) tab.focus();
    try { window.sessionStorage.setItem("workbench-tab", tab.id); } catch (err) { /* private mode */ }
  }

  function initTabs(root) {
    root.querySelectorAll("[data-tabs][hidden]").forEach(function (tablist) {
      tablist.hidden = false;
      var wanted = window.location.hash === "#script" ? "tab-script" : null;
      try { wanted = wanted || window.sessionStorage.getItem("workbench-tab"); } catch (err) { /* ignore */ }
      var tab = (wanted && tablist.querySelector("#" + wanted)) || tablist.querySelector('[role="tab"]');
      selectTab(tablist, tab, false);
    });
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest('[role="tab"]');
    if (tab && tab.closest("[data-tabs]")) selectTab(tab.closest("[data-tabs]"), tab, true);
  });

  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest('[data-tabs] [role="tab"]');
    if (!tab) return;
    var tabs = Array.prototype.slice.call(tab.parentNode.querySelectorAll('[role="tab"]'));
    var index = tabs.indexOf(tab);
    var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    selectTab(tab.parentNode, tabs[(next + tabs.length) % tabs.length], true);
  });

  // --- Console: history with the arrow keys, input cleared once a command is accepted ---------------
  function consoleHistory() {
    var commands = [];
    document.querySelectorAll("#console-log [data-command]").forEach(function (entry) {
      var command = entry.dataset.command;
      if (command && command !== commands[commands.length - 1]) commands.push(command);
    });
    return commands;
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (input.id !== "console-input" || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    var commands = consoleHistory();
    if (!commands.length) return;
    event.preventDefault();
    // Position -1 is the line being typed, kept so ArrowDown past the newest command brings it back.
    var position = input.dataset.historyPosition === undefined ? commands.length : Number(input.dataset.historyPosition);
    if (position === commands.length) input.dataset.draft = input.value;
    position += event.key === "ArrowUp" ? -1 : 1;
    position = Math.max(0, Math.min(commands.length, position));
    input.dataset.historyPosition = String(position);
    input.value = position === commands.length ? (input.dataset.draft || "") : commands[position];
    input.setSelectionRange(input.value.length, input.value.length);
  });

  document.addEventListener("input", function (event) {
    if (event.target.id === "console-input") delete event.target.dataset.historyPosition;
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-console-clear]")) return;
    var log = document.getElementById("console-log");
    // Only the screen: the history stays (arrow keys) and comes back with the page.
    if (log) log.querySelectorAll(".run").forEach(function (entry) { entry.hidden = true; });
    var input = document.getElementById("console-input");
    if (input) input.focus();
  });

  function scrollLogToEnd() {
    var log = document.getElementById("console-log");
    if (log) log.scrollTop = log.scrollHeight;
  }

  // --- Output boxes: the newest output is brought into view when a run starts and when it ends --------
  function reveal(box) {
    if (!box) return;
    box.scrollTop = box.scrollHeight;  // inside the bounded box: the end, as a terminal shows it
    var rect = box.getBoundingClientRect();
    if (rect.top < 0 || rect.bottom > window.innerHeight) {
      var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      box.scrollIntoView({ block: "nearest", behavior: still ? "auto" : "smooth" });
    }
  }

  // --- Running runs: elapsed time ("Running… 3 s"), updated once a second --------------------------
  // The timer is role=timer with aria-live=off inside the output's live region, so screen readers are
  // not told every second; they hear the result when the run ends.
  function elapsedText(seconds) {
    if (seconds < 60) return seconds + " s";
    var rest = seconds % 60;
    return Math.floor(seconds / 60) + " min " + (rest < 10 ? "0" : "") + rest + " s";
  }

  function tickTimers() {
    var timers = document.querySelectorAll(".run-elapsed[data-elapsed-since]");
    timers.forEach(function (timer) {
      if (!timer.dataset.startedMs) {
        // Server clock: seconds already elapsed when the entry was rendered; the browser counts on.
        var already = Number(timer.dataset.serverNow) - Number(timer.dataset.elapsedSince);
        timer.dataset.startedMs = String(Date.now() - Math.max(already, 0) * 1000);
      }
      var seconds = Math.max(0, Math.round((Date.now() - Number(timer.dataset.startedMs)) / 1000));
      timer.textContent = elapsedText(seconds);
    });
    return timers.length;
  }

  var timerInterval = null;
  function startTimers() {
    if (!tickTimers() || timerInterval) return;
    timerInterval = window.setInterval(function () {
      if (!tickTimers()) {
        window.clearInterval(timerInterval);
        timerInterval = null;
      }
    }, 1000);
  }

  // A pending entry's Stop button: while the stop request travels, the button cannot be pressed twice.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest && event.target.closest(".run-stop-form");
    if (!form) return;
    var button = form.querySelector("button");
    if (button) button.disabled = true;
  });

  // --- The session ended (here, in another tab, or it expired): the tools take no more input -----------
  var LIVE = { provisioning: true, ready: true, none: true };

  function endWorkbench() {
    var workbench = document.getElementById("workbench");
    if (!workbench || workbench.classList.contains("is-ended")) return;
    if (!workbench.querySelector("#console-input")) return;  // already rendered as ended
    workbench.classList.add("is-ended");
    workbench.querySelectorAll("#console-input, [data-run-button]").forEach(function (control) {
      control.disabled = true;
    });
    var editor = workbench.querySelector("#script-source");
    if (editor) editor.readOnly = true;  // still readable and selectable, so the learner can copy it
    workbench.querySelectorAll("[data-session-ended-note]").forEach(function (note) { note.hidden = false; });
  }

  function sessionEndedOnLoad() {
    var panel = document.getElementById("session-panel");
    var status = panel && panel.dataset.sessionStatus;
    if (status && !LIVE[status]) endWorkbench();
  }

  document.addEventListener("lab:session-ended", endWorkbench);

  // A new request clears the tool's last error; an accepted command empties the prompt.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest && event.target.closest("[data-console-form], [data-script-form]");
    if (!form || event.target !== form) return;
    var status = document.getElementById(form.hasAttribute("data-console-form") ? "console-status" : "script-status");
    if (status) status.textContent = "";
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-console-form")) return;
    var xhr = event.detail.xhr;
    if (event.detail.successful && xhr && !xhr.getResponseHeader("HX-Retarget")) {
      var input = form.querySelector("#console-input");
      input.value = "";
      delete input.dataset.historyPosition;
      delete input.dataset.draft;
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.closest && (event.target.id === "console-log" || event.target.closest("#console-log"))) scrollLogToEnd();
  });

  // New content (a pending entry, then its final output, swapped in by htmx): show it, start its timer.
  document.addEventListener("htmx:load", function (event) {
    var element = event.target;
    if (!element.closest) return;
    var box = element.closest("#console-log, #script-output");
    if (box && element.classList.contains("run")) reveal(box);
    startTimers();
  });

  // --- Script editor: a highlighted copy under a transparent textarea ------------------------------
  function enhanceEditor(wrapper) {
    if (wrapper.dataset.enhanced) return;
    wrapper.dataset.enhanced = "yes";
    var area = wrapper.querySelector("textarea");
    var pre = document.createElement("pre");
    var code = document.createElement("code");
    pre.className = "code-highlight";
    pre.setAttribute("aria-hidden", "true");
    code.className = "language-python";
    pre.appendChild(code);
    wrapper.insertBefore(pre, area);
    wrapper.classList.add("is-highlighted");

    function paint() {
      // A trailing newline needs a character after it, or the copy is one line short of the textarea.
      code.textContent = area.value.slice(-1) === "\n" ? area.value + " " : area.value;
      if (window.Prism) window.Prism.highlightElement(code);
      follow();
    }
    function follow() {
      pre.scrollTop = area.scrollTop;
      pre.scrollLeft = area.scrollLeft;
    }
    area.addEventListener("input", paint);
    area.addEventListener("scroll", follow);
    paint();
  }

  function lineStart(text, index) { return text.lastIndexOf("\n", index - 1) + 1; }

  function replaceRange(area, start, end, text, selectStart, selectEnd) {
    area.setRangeText(text, start, end);
    area.setSelectionRange(selectStart, selectEnd);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function insertText(area, text) {
    // execCommand keeps the browser's undo history; setRangeText is the fallback.
    area.focus();
    if (!document.execCommand || !document.execCommand("insertText", false, text)) {
      var at = area.selectionStart + text.length;
      replaceRange(area, area.selectionStart, area.selectionEnd, text, at, at);
    }
  }

  function indentLines(area, outdent) {
    var text = area.value;
    var start = lineStart(text, area.selectionStart);
    var end = area.selectionEnd;
    var lines = text.slice(start, end).split("\n");
    var changed = lines.map(function (line) {
      if (!outdent) return INDENT + line;
      var spaces = line.match(/^ {0,4}/)[0].length;
      return line.slice(spaces);
    }).join("\n");
    replaceRange(area, start, end, changed, start, start + changed.length);
  }

  document.addEventListener("keydown", function (event) {
    var area = event.target;
    if (!area.closest || !area.closest("[data-code-editor]") || area.tagName !== "TEXTAREA") return;
    if (event.key === "Escape") {
      area.dataset.tabLeaves = "yes";  // the next Tab moves focus on, as the help text says
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      area.form.requestSubmit();
      return;
    }
    if (event.key === "Tab" && !event.altKey && !event.ctrlKey && !event.metaKey) {
      if (area.dataset.tabLeaves) {
        delete area.dataset.tabLeaves;
        return;
      }
      event.preventDefault();
      var multiLine = area.value.slice(area.selectionStart, area.selectionEnd).indexOf("\n") !== -1;
      if (event.shiftKey || multiLine) indentLines(area, event.shiftKey);
      else insertText(area, INDENT);
      return;
    }
    delete area.dataset.tabLeaves;
    if (event.key === "Enter" && !event.shiftKey && !event.altKey) {
      // Keep the current line's indentation, one level more after a colon (def, if, for...).
      var text = area.value;
      var line = text.slice(lineStart(text, area.selectionStart), area.selectionStart);
      var indent = line.match(/^\s*/)[0] + (/:\s*$/.test(line) ? INDENT : "");
      event.preventDefault();
      insertText(area, "\n" + indent);
    }
  });

  // "Did you mean aws s3api list-buckets?": one click puts the corrected command in the prompt.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-use-command]");
    var input = document.getElementById("console-input");
    if (!button || !input || input.disabled) return;
    input.value = button.dataset.useCommand;
    delete input.dataset.historyPosition;
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  });

  function init(root) {
    initTabs(root);
    root.querySelectorAll("[data-code-editor]").forEach(enhanceEditor);
    root.querySelectorAll("[data-console-clear][hidden]").forEach(function (button) { button.hidden = false; });
    root.querySelectorAll("[data-use-command][hidden]").forEach(function (button) { button.hidden = false; });
    if (root.querySelector && root.querySelector("#console-log")) scrollLogToEnd();
    startTimers();
    sessionEndedOnLoad();
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
