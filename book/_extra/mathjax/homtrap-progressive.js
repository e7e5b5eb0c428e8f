/*
 * Progressive typesetting for the homtrap book: the first screen first, the rest in the
 * background, in small slices that leave the page free to scroll.
 *
 * A plain deferred script, placed before MathJax's own (deferred) script (``html_js_files``
 * in _config.yml, priority 400; MathJax's is 500), so it runs after Sphinx's inline
 * ``window.MathJax = {...}`` configuration and before MathJax reads that configuration. It
 * only sets documented configuration (``startup.typeset``, ``startup.pageReady``) and uses
 * MathJax's documented API once MathJax has started:
 *
 * 1. ``startup.typeset`` is switched off, and the startup's ``pageReady`` typesets only the
 *    formulas (``.math`` elements) on or near the screen, with ``MathJax.typesetPromise(elements)``,
 *    as soon as the document has been parsed: in the ``DOMContentLoaded`` event, after the
 *    handlers of the theme's synchronous scripts (copy buttons, toggles), which change the
 *    layout, and before Font Awesome's timer and the page's ``load``. ``MathJax.startup.promise``
 *    resolves once they are typeset.
 * 2. Then the other formulas are typeset in slices of about SLICE_MS of work each, those that
 *    come near the screen first (an IntersectionObserver watches them), the others in page
 *    order, each slice chained on ``MathJax.startup.promise`` (MathJax's way of keeping
 *    typesetting calls in sequence).
 * 3. To typeset everything now (the browser tests and the PDF script do this), chain
 *    ``MathJax.typesetPromise(elements)`` on ``MathJax.startup.promise`` for the ``.math``
 *    elements that hold no ``mjx-container`` yet (``typesetRest`` below). Before the browser
 *    prints, the same is started (printing from the browser's menu).
 *
 * Why a script of its own and not a MathJax component (``loader.load``), as it first was: a
 * component is fetched by MathJax's loader once MathJax's script has run, and MathJax starts
 * up in that request's ``load`` event, a task queued behind the theme's deferred scripts,
 * their ``DOMContentLoaded`` handlers, a rendering frame and Font Awesome's timer (on the
 * largest chapters, 0.2-0.5 s of a 2-core machine's main thread). Configured beforehand,
 * MathJax starts up in the microtasks right after its own script.
 *
 * Only ``.math`` elements are ever handed to MathJax, and only untypeset ones: in MathJax
 * 3.2 a second ``MathJax.typesetPromise()`` over the whole page (or over an element already
 * typeset) also finds the hidden assistive MathML copies of the typeset formulas (``<math>``
 * inside ``mjx-assistive-mml``) and typesets them again, nested inside the first. Sphinx puts
 * every formula of the book in a ``.math`` element (the browser tests check that no raw TeX
 * is left anywhere in a page).
 *
 * Formulas typeset when the book was built (book/_ext/prerender_math.py: those of every page's
 * first screen, with the same MathJax in Node) already hold an ``mjx-container`` and are left
 * alone: on a page opened at its top, step 1 typesets only the formulas just below the screen.
 * It still matters for a page opened at an anchor further down, or in a viewport taller than
 * the build-time budget covers.
 *
 * Why: a chapter has 300-800 formulas; typesetting them all before the first screen showed
 * took 3-5 s on a 2-core machine (benchmarks/page_speed.py measures it, per page). MathJax's
 * own lazy extension (ui/lazy, 3.2.2) still measures, inserts and observes a placeholder for
 * every formula at startup (a single task of ~0.7 s on the heaviest chapter) and brought the
 * first screen of ch01 and ch05 only to ~2.5 s, against ~1.4 s for this script.
 */
(function () {
  "use strict";
  var config = window.MathJax;
  // a page without math has no MathJax configuration (Sphinx adds MathJax only where needed);
  // MathJax itself (which carries a version) must not be running yet
  if (!config || typeof config !== "object" || config.version) return;
  var MathJax = null; // MathJax itself, once it has started up (it replaces window.MathJax)
  var MARGIN = 300; // px above and below the viewport counted as "near the screen"
  var SLICE_MS = 40; // target work per background slice, in ms (below a 50 ms "long task")
  var MIN_SLICE = 4; // formulas per slice at least: each slice also costs a layout of the page

  var pending = []; // .math elements not yet typeset, in page order
  var next = 0; // index of the first pending element not yet handed to MathJax
  var soon = new Set(); // pending elements that came near the screen
  var perSlice = 8; // how many formulas the next slice typesets (adapted to SLICE_MS)
  var observer = null;

  function typeset(el) {
    return el.querySelector("mjx-container") !== null;
  }

  // the book's stylesheet lets the browser skip off-screen sections (content-visibility: auto,
  // homtrap.css). Asking for the rectangle of a formula inside a skipped section would lay that
  // section out; the box of the outermost skipped section is laid out (at its remembered or
  // guessed size), so a formula in a skipped section is near only if that box is near, and
  // only then is its own rectangle asked for. (Before the first frame the browser has not yet
  // decided which sections are on screen and reports them all as skipped.)
  var SKIPPABLE = "article.bd-article section > section";
  var skipAware = typeof Element.prototype.checkVisibility === "function";

  function boxNear(el, margin) {
    var r = el.getBoundingClientRect();
    return r.bottom > -margin && r.top < window.innerHeight + margin;
  }

  function near(el, margin) {
    if (skipAware && !el.checkVisibility({contentVisibilityAuto: true})) {
      var sections = []; // the skippable sections around el, innermost first
      for (var s = el.closest(SKIPPABLE); s; s = s.parentElement && s.parentElement.closest(SKIPPABLE)) {
        sections.push(s);
      }
      for (var i = sections.length - 1; i >= 0; i--) { // the outermost one whose content is skipped
        var head = sections[i].firstElementChild;
        if (head && !head.checkVisibility({contentVisibilityAuto: true})) {
          if (!boxNear(sections[i], margin)) return false;
          break;
        }
      }
    }
    if (!el.getClientRects().length) return false; // hidden (a collapsed dropdown)
    return boxNear(el, margin);
  }

  // a failed slice is reported on the console (the browser tests fail on console errors) and
  // does not stop the typesetting chained after it
  function chain(work) {
    MathJax.startup.promise = MathJax.startup.promise.then(work).catch(function (err) {
      console.error("MathJax typesetting failed: " + (err && err.message));
    });
    return MathJax.startup.promise;
  }

  // the first screen: typeset what is near it; typesetting changes the layout (raw TeX and
  // typeset math differ in size), so look again until nothing on the screen itself is left
  // (at most 3 rounds). The later rounds leave the margin to the background (the observer
  // puts it first): each round costs a layout of the whole page, and all rounds run in the
  // task before the first screen can be painted.
  function firstScreen(round) {
    var margin = round === 0 ? MARGIN : 0;
    var els = pending.filter(function (el) { return !typeset(el) && near(el, margin); });
    if (!els.length || round >= 3) return Promise.resolve();
    return MathJax.typesetPromise(els).then(function () { return firstScreen(round + 1); });
  }

  function takeSlice() {
    var els = [];
    soon.forEach(function (el) {
      if (els.length < perSlice && !typeset(el)) els.push(el);
    });
    els.forEach(function (el) { soon.delete(el); });
    while (els.length < perSlice && next < pending.length) {
      var el = pending[next++];
      if (!typeset(el) && els.indexOf(el) < 0) els.push(el);
    }
    return els;
  }

  function schedule(fn) {
    if (window.requestIdleCallback) window.requestIdleCallback(fn, {timeout: 100});
    else setTimeout(fn, 0);
  }

  function slice() {
    var els = takeSlice();
    if (!els.length) {
      if (observer) observer.disconnect(); // all typeset
      return;
    }
    chain(function () {
      els = els.filter(function (el) { return !typeset(el); }); // typesetRest may have run
      if (!els.length) return null;
      var start = performance.now();
      return MathJax.typesetPromise(els).then(function () {
        var spent = Math.max(performance.now() - start, 1);
        perSlice = Math.max(MIN_SLICE, Math.min(200, Math.round(els.length * SLICE_MS / spent)));
        els.forEach(function (el) { if (observer) observer.unobserve(el); });
      });
    }).then(function () { schedule(slice); });
  }

  // typeset every formula not typeset yet, now; resolves when done
  function typesetRest() {
    return chain(function () {
      var els = Array.prototype.filter.call(document.querySelectorAll(".math"), function (el) {
        return !typeset(el);
      });
      return els.length ? MathJax.typesetPromise(els) : null;
    });
  }

  // resolves in the DOMContentLoaded event (at once if the page has loaded); a deferred
  // script always runs before that event
  var parsed = new Promise(function (resolve) {
    if (document.readyState === "complete") resolve();
    else document.addEventListener("DOMContentLoaded", function () { resolve(); });
  });

  function pageReady() {
    MathJax = window.MathJax;
    return parsed.then(function () {
      return MathJax.startup.defaultPageReady();
    }).then(function () {
      pending = Array.prototype.slice.call(document.querySelectorAll(".math"));
      return firstScreen(0);
    }).then(function () {
      if (window.IntersectionObserver) {
        observer = new IntersectionObserver(function (entries) {
          entries.forEach(function (e) { if (e.isIntersecting && !typeset(e.target)) soon.add(e.target); });
        }, {rootMargin: MARGIN + "px 0px"});
        pending.forEach(function (el) { if (!typeset(el)) observer.observe(el); });
      }
      // the background starts once the startup (and so the first screen) is done
      setTimeout(function () { schedule(slice); }, 0);
    });
  }

  config.startup = config.startup || {};
  config.startup.typeset = false;
  config.startup.pageReady = pageReady;
  window.addEventListener("beforeprint", function () { if (MathJax) typesetRest(); });
})();
