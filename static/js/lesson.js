// Lesson page: a lesson counts as read once the learner reaches its end. Opening a lesson does not mark
// it; the "Mark as read" button at the end does, and so does scrolling down to that button (once, and
// only after the reader has scrolled, so a short lesson that fits the screen is not marked on opening).
// Without JavaScript (or IntersectionObserver) the button alone works, as a plain form post.
(function () {
  "use strict";

  function start() {
    var form = document.querySelector("form[data-mark-read]");
    var end = document.querySelector("[data-lesson-end]");
    if (!form || !end || !window.htmx || !("IntersectionObserver" in window)) return;
    var scrolled = false;
    var sent = false;
    window.addEventListener("scroll", function () { scrolled = true; }, { passive: true, once: true });
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting || !scrolled || sent) return;
        sent = true;
        observer.disconnect();
        // The same htmx form post as pressing the button: the server answers with the updated box.
        if (document.contains(form)) window.htmx.trigger(form, "submit");
      });
    }, { threshold: 0.5 });
    observer.observe(end);
    // A scroll that already shows the end (fast flick) must still count: re-check when scrolling stops.
    window.addEventListener("scrollend", function () {
      observer.unobserve(end);
      if (!sent) observer.observe(end);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
