#!/usr/bin/env python
"""Print the single-page HTML build of the book to PDF with headless Chromium.

Usage (after ``jupyter-book build . --builder singlehtml``)::

    python scripts/print_pdf.py _build/singlehtml _build/pdf/homogeneity-trap.pdf

Jupyter Book's single page lives at ``book/<root>.html`` but its asset links are relative to
the build root, so the page is copied to the root first. The directory is then served on
127.0.0.1, MathJax is allowed to finish typesetting, and Chromium prints the page (A4,
backgrounds on).
``scripts/build_pdf.sh`` runs both steps.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def find_chromium() -> str:
    """Path of a Chromium executable, or raise ``FileNotFoundError``."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError("no Chromium found: install Debian's 'chromium' (apt-get install chromium)")


def _single_page(site: Path) -> str:
    """Copy the single page to the build root (where its relative links resolve); return its name."""
    import re

    index = (site / "index.html").read_text(encoding="utf-8")
    match = re.search(r'url=([^"]+)"', index)
    source = site / (match.group(1) if match else "index.html")
    target = site / "_print.html"
    shutil.copyfile(source, target)
    return target.name


def _print(browser, url: str, out: Path) -> None:
    tab = browser.new_page()
    tab.goto(url, wait_until="load", timeout=300_000)
    if tab.locator("script[src*='mathjax']").count():
        tab.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=120_000)
        tab.evaluate("MathJax.startup.promise")
    tab.emulate_media(media="print")
    out.parent.mkdir(parents=True, exist_ok=True)
    tab.pdf(path=str(out), format="A4", print_background=True,
            margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
    tab.close()


def print_pdf(site: Path, out: Path, browser=None) -> Path:
    """Serve the single-page build ``site`` locally and print it to the PDF file ``out``.

    ``browser`` is an already launched Playwright Chromium browser (the tests pass theirs);
    by default one is launched and closed here.
    """
    page = _single_page(site)
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{page}"
    try:
        if browser is not None:
            _print(browser, url, out)
        else:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                own = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
                _print(own, url, out)
                own.close()
    finally:
        httpd.shutdown()
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path = print_pdf(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
