#!/usr/bin/env python
"""How fast each page of the built HTML book becomes readable in headless Chromium.

For every page of ``_toc.yml`` the built book is served on 127.0.0.1 and opened in a fresh
browser context (no cache: a reader's first visit), in a 1280 x 900 viewport (``--viewport``
changes it). A probe injected before any script of the page measures, from navigation start
(``performance.now()``'s origin):

* **typeset** (the headline number: the first screen is readable, its math typeset): the
  start of the first rendering frame (``requestAnimationFrame``) in which (a) the page has been
  parsed past the bottom of the first viewport (the parser is done, or the article's last
  parsed element lies below the viewport: a browser paints a long page while parsing it) and
  (b) every math element inside the first viewport holds typeset MathJax output (a
  ``mjx-container`` with ``mjx-math`` inside; a lazy placeholder ``mjx-lazy`` does not count).
  Hidden math (collapsed dropdowns) is not on screen and not counted. Formulas typeset when
  the book was built (``book/_ext/prerender_math.py``) count from the frame that shows them;
  formulas the browser typesets, from the first frame after the task that inserted them.
* **painted**: the end of that frame (a task queued from it runs after its style, layout
  and paint): the reader sees the screen by then.
* **fonts**: ``painted``, and the web fonts that frame asked for have loaded (the fonts
  that were loading or loaded once it was painted: MathJax's, for the glyphs on screen, which
  stay invisible until their font is in). ``painted`` is when the screen is laid out and
  painted, ``fonts`` when its formulas can be read.
* **longest task**: the longest main-thread task (``longtask`` entries) from navigation until
  the end of the run. With ``--scroll`` the run then scrolls through the whole page, one
  viewport every 100 ms, and waits until the last screen is typeset: a task that long is a
  freeze the reader feels while scrolling.

One load of the first page, not counted, comes first: right after the browser starts, the
first pages measured were up to ~0.5 s slower (the browser's own start-up work).

Two variants of each page, loaded alternately in the same run so that both see the same
machine (the comparison is the ratio, not the absolute seconds):

* ``built``: the page as built;
* ``eager``: the same page without the book's progressive typesetting (its script
  ``mathjax/homtrap-progressive.js`` is served empty) and without the extra MathJax
  components of its configuration (``loader.load``: the progressive typesetting as older
  builds loaded it, or MathJax's ``ui/lazy``), so that every formula is typeset at startup,
  as the book did before it typeset progressively. On a build without either both are equal.

Usage (inside the project's environment, ``source scripts/_env.sh``; after
``jupyter-book build .``; needs Debian's ``chromium``)::

    python benchmarks/page_speed.py _build/html                       # every page, 5 repeats
    python benchmarks/page_speed.py _build/html --pages book/01_dsm_detail_subspace book/05_figure1
    python benchmarks/page_speed.py _build/html --repeats 3 --scroll  # also scroll through each page
    python benchmarks/page_speed.py _build/html --variants built --json out.json
    # two builds side by side, e.g. without and with the build-time typesetting of first screens
    python benchmarks/page_speed.py off/_build/html _build/html --labels off,on --variants built

Prints one markdown table: per page the number of math elements, then per site and variant the
median (over the repeats) of ``typeset``, ``painted``, ``fonts`` and the longest task, in seconds.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from print_pdf import CHROMIUM_ARGS, find_chromium, toc_pages  # noqa: E402  the browser flags and pages of the PDF command

VARIANTS = ("built", "eager")

#: runs before any script of the page: empties the ``loader.load`` list of the MathJax
#: configuration that Sphinx assigns to ``window.MathJax``, so that MathJax loads none of the
#: book's extra components and typesets every formula at startup (the "eager" variant)
EAGER = """
(() => {
  let value;
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get() { return value; },
    set(v) {
      // a configuration object, not MathJax itself (which carries a version)
      if (v && typeof v === "object" && !v.version && v.loader) v.loader.load = [];
      value = v;
    },
  });
})();
"""

#: the probe (runs before any script of the page); results in window.__pageSpeed
PROBE = r"""
(() => {
  const t = {typeset: null, painted: null, fonts: null, startup: null, tasks: [], checks: 0};
  window.__pageSpeed = t;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) t.tasks.push([e.startTime, e.duration]);
    }).observe({type: "longtask", buffered: true});
  } catch (e) { /* no longtask support: tasks stays empty */ }
  const onScreen = (el) => {
    if (!el.getClientRects().length) return false;  // display: none (a collapsed dropdown)
    const r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth;
  };
  const done = (el) => {
    const c = el.querySelector("mjx-container");
    return !!c && !c.querySelector("mjx-lazy") && !!c.querySelector("mjx-math");
  };
  // true when every formula in the viewport is typeset (no raw TeX, no lazy placeholder)
  window.__screenTypeset = () => {
    for (const el of document.querySelectorAll(".math")) if (onScreen(el) && !done(el)) return false;
    for (const el of document.querySelectorAll("mjx-lazy")) if (onScreen(el)) return false;
    return true;
  };
  // true once the parser has passed the bottom of the first viewport: it is done, or the
  // deepest last element of the article (where the parser is) lies below the viewport
  const parsedPastScreen = () => {
    if (document.readyState !== "loading") return true;
    let e = document.querySelector("article.bd-article");
    if (!e) return false;
    while (e.lastElementChild) e = e.lastElementChild;
    return e.getBoundingClientRect().top >= window.innerHeight;
  };
  // checked at the start of every rendering frame until the first screen is whole
  const frame = () => {
    if (t.typeset !== null) return;
    t.checks++;
    if (parsedPastScreen() && window.__screenTypeset()) {
      t.typeset = performance.now();
      setTimeout(() => {  // after this frame's paint
        t.painted = performance.now();
        // the web fonts this frame asked for (MathJax's, for the formulas on screen) have arrived
        const asked = [...document.fonts].filter((f) => f.status !== "unloaded");
        Promise.all(asked.map((f) => f.loaded.catch(() => null))).then(() => {
          t.fonts = Math.max(performance.now(), t.painted);
        });
      }, 0);
      return;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  document.addEventListener("DOMContentLoaded", () => {
    const started = () => window.MathJax && MathJax.startup && MathJax.startup.promise;
    const wait = () => started()
      ? MathJax.startup.promise.then(() => { t.startup = performance.now(); })
      : setTimeout(wait, 10);
    if (document.querySelector("script[src*='mathjax/es5/']")) wait();
  });
})();
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def measure(browser, url: str, variant: str, viewport: tuple[int, int], scroll: bool) -> dict:
    """Open ``url`` once in a fresh context; the probe's times in seconds."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        if variant == "eager":
            page.add_init_script(EAGER)
            page.route("**/homtrap-progressive.js*",
                       lambda route: route.fulfill(status=200, content_type="text/javascript", body=""))
        page.add_init_script(PROBE)
        page.goto(url, wait_until="load")
        page.wait_for_function("() => window.__pageSpeed.fonts !== null && window.__pageSpeed.painted !== null")
        if scroll:
            while page.evaluate("() => { window.scrollBy(0, window.innerHeight);"
                                " return window.scrollY + window.innerHeight < document.documentElement.scrollHeight - 1; }"):
                page.wait_for_timeout(100)
            page.wait_for_function("() => window.__screenTypeset()")
        page.wait_for_timeout(300)  # let the longtask observer deliver the last entries
        t = page.evaluate("() => window.__pageSpeed")
        n_math = page.evaluate("() => document.querySelectorAll('.math').length")
    finally:
        context.close()
    return {
        "typeset": t["typeset"] / 1000,
        "painted": t["painted"] / 1000,
        "fonts": t["fonts"] / 1000,
        "startup": None if t["startup"] is None else t["startup"] / 1000,
        "longest_task": max((d for _, d in t["tasks"]), default=0.0) / 1000,
        "n_math": n_math,
    }


def run(sites: dict[str, Path], pages: list[str], variants: list[str], repeats: int, viewport,
        scroll: bool) -> tuple[list[dict], list[str]]:
    """Measure every page of every site (label -> built book) in every variant.

    The columns (``label variant``, or ``variant`` for one site) are measured alternately,
    page by page, so that all of them see the same machine. Returns the rows and the columns.
    """
    from playwright.sync_api import sync_playwright

    servers, bases = [], {}
    for label, site in sites.items():
        handler = functools.partial(_Quiet, directory=str(site))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        bases[label] = f"http://127.0.0.1:{httpd.server_address[1]}/"
    columns = [(label, v) for label in sites for v in variants]
    name = {c: (c[1] if len(sites) == 1 else f"{c[0]} {c[1]}") for c in columns}
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
            try:
                # one load that is not counted: the first pages after the browser starts are
                # slower by up to ~0.5 s (its own start-up work), which is not the page's
                label, v = columns[0]
                measure(browser, f"{bases[label]}{pages[0]}.html", v, viewport, False)
                for docname in pages:
                    runs = {name[c]: [] for c in columns}
                    for _ in range(repeats):
                        for c in columns:  # alternate, so every column sees the same machine
                            runs[name[c]].append(measure(browser, f"{bases[c[0]]}{docname}.html", c[1], viewport, scroll))
                    row = {"page": docname, "n_math": runs[name[columns[0]]][0]["n_math"], "runs": runs}
                    for c in columns:
                        for key in KEYS:
                            row[f"{name[c]}_{key}"] = statistics.median(r[key] for r in runs[name[c]])
                    rows.append(row)
                    print(f"  {docname}: first screen painted "
                          + ", ".join(f"{name[c]} {row[f'{name[c]}_painted']:.2f} s" for c in columns),
                          file=sys.stderr, flush=True)
            finally:
                browser.close()
    finally:
        for httpd in servers:
            httpd.shutdown()
            httpd.server_close()
    return rows, [name[c] for c in columns]


#: the medians reported per page and column
KEYS = ("typeset", "painted", "fonts", "longest_task")


def table(rows: list[dict], columns: list[str]) -> str:
    head = ["page", "math"]
    for c in columns:
        head += [f"{c} typeset (s)", f"{c} painted (s)", f"{c} fonts (s)", f"{c} longest task (s)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["page"], str(r["n_math"])]
        for c in columns:
            cells += [f"{r[f'{c}_{key}']:.2f}" for key in KEYS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", type=Path, nargs="+",
                    help="a built HTML book (the _build/html directory); several are measured side by side, "
                         "e.g. a build with prerender_math: off and one with it on")
    ap.add_argument("--labels", help="comma-separated names of the sites (default: A, B, ...)")
    ap.add_argument("--pages", nargs="+", help="docnames (default: every page of _toc.yml)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, from: built, eager")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--viewport", default="1280x900", help="WIDTHxHEIGHT in CSS pixels")
    ap.add_argument("--scroll", action="store_true", help="also scroll through each page (longest task)")
    ap.add_argument("--json", type=Path, help="also write every run as JSON")
    args = ap.parse_args(argv)
    for site in args.site:
        if not (site / "index.html").is_file():
            ap.error(f"{site} is not a built HTML book (no index.html)")
    labels = ([x.strip() for x in args.labels.split(",")] if args.labels
              else [chr(ord("A") + i) for i in range(len(args.site))])
    if len(labels) != len(args.site) or len(set(labels)) != len(labels):
        ap.error("--labels must name each site once")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not variants or set(variants) - set(VARIANTS):
        ap.error(f"--variants must be taken from {VARIANTS}")
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    width, height = (int(x) for x in args.viewport.lower().split("x"))
    start = time.perf_counter()
    sites = {label: site.resolve() for label, site in zip(labels, args.site)}
    rows, columns = run(sites, args.pages or toc_pages(), variants, args.repeats, (width, height), args.scroll)
    print(table(rows, columns))
    legend = "; ".join(f"{label} = {site}" for label, site in sites.items()) if len(sites) > 1 else ""
    print(f"\nmedians of {args.repeats} runs per page and column, viewport {width}x{height}"
          f"{', scrolled through' if args.scroll else ''}; {time.perf_counter() - start:.0f} s in all"
          + (f"\n{legend}" if legend else ""))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
