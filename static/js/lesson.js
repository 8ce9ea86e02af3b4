// Lesson page: a lesson counts as read once the learner reaches its end. Opening a lesson does not mark
// it; the "Mark as read" button at the end does, and so does scrolling down to that button (once, and
// only after the reader has scrolled, so a short lesson that fits the screen is not marked on opening).
// Without JavaScript (or IntersectionObserver) the button alone works, as a plain form post.
(function () {
  "use strict";

  function start() {
    var form = document.querySelector("form[data-mark-read]");
    var end = document.querySelector("[data-lesson-end]");
    if (!form || !end || !("IntersectionObserver" in window)) return;
    var scrolled = false;
    var visible = false;
    var sent = false;
    function maybeSend() {
      // htmx is loaded after this script (both deferred), so it is looked up only now.
      if (sent || !scrolled || !visible || !window.htmx) return;
      sent = true;
      observer.disconnect();
      window.removeEventListener("scroll", onScroll);
      // The same htmx form post as pressing the button: the server answers with the updated box.
      if (document.contains(form)) window.htmx.trigger(form, "submit");
    }
    function onScroll() {
      scrolled = true;
      maybeSend();
    }
    // The observer says whether the end is on screen; the scroll listener says the reader has scrolled.
    // Either may come first, so each checks both.
    var observer = new IntersectionObserver(function (entries) {
      visible = entries[entries.length - 1].isIntersecting;
      maybeSend();
    }, { threshold: 0.5 });
    observer.observe(end);
    window.addEventListener("scroll", onScroll, { passive: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
