#!/usr/bin/env python
"""Print the single-page HTML build of the book to PDF with headless Chromium.

Usage (after ``jupyter-book build . --builder singlehtml``)::

    python scripts/print_pdf.py _build/singlehtml _build/pdf/homogeneity-trap.pdf

Jupyter Book's single page lives at ``book/<root>.html`` but its asset links are relative to
the build root, so the page is served from the root (as ``/_print.html``; the build directory
is only read, never written). The directory is served on 127.0.0.1, MathJax is allowed to
finish typesetting, and Chromium prints the page (A4, backgrounds on). The book typesets its
math progressively (the first screen at startup, the rest in the background, see
``_config.yml``), so "finish" means: the startup typeset, then every remaining formula
(``TYPESET_ALL``).
``scripts/build_pdf.sh`` runs both steps.

Two things make the ~600-page print much cheaper without changing what is printed:

* MathJax is configured for paper: no context menu and no hidden assistive MathML copy of
  every formula (a screen-reader aid that a PDF cannot use). The hidden copy doubled the
  math in the page Chromium has to lay out and paint, and kept the formulas out of the PDF's
  text layer (with it off, copying or searching math in the PDF works).
* The collapsed dropdowns are opened in one batch before printing. sphinx-togglebutton's
  ``beforeprint`` handler does the same by clicking every button, and in a 600-page document
  each click costs a pass over the whole book (about 10 s for the book's 66 dropdowns, and
  ``afterprint`` clicks them all again).
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import sys
import threading
import time
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

PRINT_URL = "/_print.html"

#: runs before any script of the page: merges the print settings into the MathJax
#: configuration that Sphinx assigns to ``window.MathJax`` (the book's TeX macros and
#: ``processHtmlClass`` stay as they are)
MATHJAX_PRINT_CONFIG = """
(() => {
  const forPrint = (options) => {
    options = Object.assign({}, options, {enableMenu: false, enableAssistiveMml: false});
    const menu = options.menuOptions || {};
    // the menu's settings decide about assistive MathML even with the menu off
    options.menuOptions = Object.assign({}, menu, {settings: Object.assign({}, menu.settings, {assistiveMml: false})});
    return options;
  };
  let value = {options: forPrint({})};  // in case the page configures nothing
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get() { return value; },
    set(v) {
      // a configuration object, not MathJax itself (which carries a version)
      if (v && typeof v === "object" && !v.version) v.options = forPrint(v.options);
      value = v;
    },
  });
})();
"""

#: the book typesets its math progressively (the first screen first, the rest in the
#: background, see ``_config.yml``); this typesets whatever is left, in one go, with MathJax's
#: documented API: ``MathJax.typesetPromise(elements)`` chained on ``MathJax.startup.promise``
#: (which keeps it in sequence with typesetting already under way), for the ``.math`` elements
#: not typeset yet. Only those: MathJax 3.2 would typeset the hidden assistive MathML of an
#: already typeset formula again, nested inside it. Resolves when all is typeset.
TYPESET_ALL = """
() => {
  MathJax.startup.promise = MathJax.startup.promise.then(() => {
    const rest = [...document.querySelectorAll(".math")].filter((el) => !el.querySelector("mjx-container"));
    return rest.length ? MathJax.typesetPromise(rest) : null;
  });
  return MathJax.startup.promise.then(() => true);
}
"""

#: opens every collapsed sphinx-togglebutton dropdown and <details> block in one go, with the
#: theme's own function; returns how many dropdowns were opened
OPEN_TOGGLES = """
() => {
  let opened = 0;
  if (typeof toggleHidden === "function") {
    for (const item of document.querySelectorAll(".admonition.toggle.toggle-hidden")) {
      const button = item.querySelector("button.toggle-button");
      if (button) { toggleHidden(button); opened++; }
    }
  }
  document.querySelectorAll("details.toggle-details").forEach((d) => { d.open = true; });
  return opened;
}
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _PrintHandler(_Quiet):
    """Serves the build directory, and the single page also at ``PRINT_URL``."""

    def __init__(self, *args, page: Path, **kwargs):
        self._page = page
        super().__init__(*args, **kwargs)

    def translate_path(self, path):
        if path.split("?", 1)[0].split("#", 1)[0] == PRINT_URL:
            return str(self._page)
        return super().translate_path(path)


def toc_pages() -> list[str]:
    """Every page of ``_toc.yml``, as docnames (``book/preface``), in reading order."""
    import yaml

    toc = yaml.safe_load((Path(__file__).resolve().parent.parent / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for e in entries:
            if "file" in e:
                pages.append(e["file"])
            for key in ("sections", "chapters", "parts"):
                walk(e.get(key, []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return [str(Path(p).with_suffix("")) for p in pages]


def find_chromium() -> str:
    """Path of a Chromium executable, or raise ``FileNotFoundError``."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError("no Chromium found: install Debian's 'chromium' (apt-get install chromium)")


def _single_page(site: Path) -> Path:
    """The single page of the build (``index.html`` redirects to it)."""
    index = (site / "index.html").read_text(encoding="utf-8")
    match = re.search(r'url=([^"]+)"', index)
    return site / (match.group(1) if match else "index.html")


def _print(browser, url: str, out: Path) -> dict[str, float]:
    """Load, typeset and print ``url`` to ``out``; return the seconds each step took."""
    times: dict[str, float] = {}
    start = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal start
        now = time.perf_counter()
        times[step] = round(now - start, 1)
        start = now

    tab = browser.new_page()
    try:
        tab.add_init_script(MATHJAX_PRINT_CONFIG)
        tab.goto(url, wait_until="load", timeout=600_000)  # images are in before printing
        lap("load")
        if tab.locator("script[src*='mathjax/es5/']").count():
            tab.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=600_000)
            tab.evaluate("() => MathJax.startup.promise.then(() => true)")  # the initial typeset is done
            tab.evaluate(TYPESET_ALL)  # and the rest of the book, not left to the background
        lap("typeset")
        tab.evaluate(OPEN_TOGGLES)
        tab.emulate_media(media="print")
        lap("prepare")
        out.parent.mkdir(parents=True, exist_ok=True)
        tab.pdf(path=str(out), format="A4", print_background=True,
                margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
        lap("pdf")
    finally:
        tab.close()
    return times


def print_pdf(site: Path, out: Path, browser=None, times: dict | None = None) -> Path:
    """Serve the single-page build ``site`` locally and print it to the PDF file ``out``.

    ``browser`` is an already launched Playwright Chromium browser (the tests pass theirs);
    by default one is launched and closed here. ``times``, if given, receives the seconds
    spent loading, typesetting, preparing and printing.
    """
    handler = functools.partial(_PrintHandler, directory=str(site), page=_single_page(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}{PRINT_URL}"
    try:
        if browser is not None:
            spent = _print(browser, url, out)
        else:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                own = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
                try:
                    spent = _print(own, url, out)
                finally:
                    own.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    if times is not None:
        times.update(spent)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    spent: dict[str, float] = {}
    path = print_pdf(Path(sys.argv[1]), Path(sys.argv[2]), times=spent)
    steps = ", ".join(f"{k} {v:.0f} s" for k, v in spent.items())
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB; {steps})")
