"""The book as a reader meets it: every page opened in headless Chromium.

The session fixture builds the HTML book from scratch into a temporary directory (each xdist
worker its own) and serves it on 127.0.0.1; with ``HOMTRAP_HTML_DIR`` set it serves that
existing ``_build/html`` instead (and the PDF test reads ``HOMTRAP_SINGLEHTML_DIR`` for the
single-page build), so a CI run builds the book once. For every page in ``_toc.yml`` the tests assert that the math is typeset
by the bundled MathJax (no raw TeX left), every image loads and has a real alt text,
internal links and cross-references resolve, headings do not skip levels, the console shows
no errors beyond the documented harmless ones, and **no request leaves the book's own
host**. The same pages are also read from disk (``file://``) to prove offline reading.
Screenshots of key pages are written to ``artifacts/screenshots/`` (not committed).

The tests skip, with a message saying why, only when no Chromium can be found or started
(``scripts/test.sh`` installs Debian's ``chromium`` when it can).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import unicodedata
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from print_pdf import CHROMIUM_ARGS, TYPESET_ALL, find_chromium, toc_pages  # noqa: E402  the same browser flags and typesetting as the PDF command

ARTIFACTS = ROOT / "artifacts" / "screenshots"

#: console messages that appear on every Jupyter Book 1.x page and are harmless
KNOWN_CONSOLE_ERRORS = (
    # pydata-sphinx-theme reads an empty theme preference from localStorage on first load
    "Got invalid theme mode",
    # sphinx-thebe's configuration script is emitted twice by Jupyter Book 1.x (thebe is off)
    "Identifier 'THEBE_JS_URL' has already been declared",
)
#: pages whose screenshots are kept as artifacts
SCREENSHOT_PAGES = ("book/preface", "book/01_dsm_detail_subspace", "book/05_figure1", "book/12_figure2")


PAGES = toc_pages()


def _chromium() -> str | None:
    try:
        return find_chromium()
    except FileNotFoundError:
        return None


def _build(out: Path, builder: str) -> Path:
    """``jupyter-book build`` of the repository into ``out`` (a fresh directory); the output path."""
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(ROOT), "--builder", builder,
           "--path-output", str(out), "-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, f"{builder} build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return out / "_build" / builder


def _prebuilt(variable: str) -> Path | None:
    """The build named by the environment variable ``variable``, or None when it is unset."""
    value = os.environ.get(variable)
    if not value:
        return None
    path = Path(value).resolve()
    assert (path / "index.html").is_file(), f"{variable}={value} is not a built book (no index.html)"
    return path


@pytest.fixture(scope="session")
def html_dir(tmp_path_factory) -> Path:
    """The HTML book: ``$HOMTRAP_HTML_DIR`` if set, else a fresh build (one per xdist worker,
    each in the worker's own temporary directory)."""
    return _prebuilt("HOMTRAP_HTML_DIR") or _build(tmp_path_factory.mktemp("book"), "html")


@pytest.fixture(scope="session")
def server(html_dir):
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="session")
def browser():
    exe = _chromium()
    if exe is None:
        pytest.skip("no Chromium found (install Debian's 'chromium'; scripts/test.sh does when run as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is pinned in requirements.txt
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - any launch failure means: no usable browser
            pytest.skip(f"Chromium at {exe} could not be started: {exc}")
        yield b
        b.close()


def _open(browser, url: str):
    """Load ``url``, have MathJax typeset every formula, and return (page, requests, console messages).

    Waits on MathJax's own completion signals, not on network idle: ``MathJax.startup.promise``
    resolves once the startup typeset is done. The book typesets progressively (see
    ``_config.yml``): at startup only the formulas near the viewport, the others later in the
    background, so the page is then made to typeset the rest at once (``TYPESET_ALL``, as the
    PDF command does: ``MathJax.typesetPromise`` chained on ``MathJax.startup.promise``).
    The checks read the typeset DOM (``mjx-math``), which does not depend on the web fonts
    having arrived, with every section laid out (the book lets the browser skip off-screen
    sections, and ``innerText`` leaves skipped sections out; ``test_skipped_sections_are_laid_out_when_printed``
    checks the stylesheet).
    """
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(120_000)  # generous, for a loaded 2-core machine
    requests: list[str] = []
    console: list[tuple[str, str]] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: console.append((m.type, m.text)))
    page.on("pageerror", lambda e: console.append(("error", str(e))))
    page.on("response", lambda r: r.status >= 400 and console.append(("error", f"HTTP {r.status} for {r.url}")))
    try:
        page.goto(url, wait_until="load")  # images and stylesheets are in
        # Sphinx adds MathJax only to pages with math (the book's homtrap-progressive.js, also
        # under mathjax/, is on every page and does nothing where MathJax is absent)
        if page.locator("script[src*='mathjax/es5/']").count():
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
            page.evaluate(TYPESET_ALL)
        # the book's stylesheet lets the browser skip the layout of off-screen sections
        # (content-visibility: auto), and innerText omits what is not laid out: the checks read
        # the page laid out in full, as it is printed
        page.add_style_tag(content="article.bd-article section > section { content-visibility: visible !important; }")
    except BaseException:
        page.close()
        raise
    return page, requests, console


@pytest.mark.parametrize("docname", PAGES)
def test_page_reads_completely(browser, server, html_dir, docname):
    url = urljoin(server, f"{docname}.html")
    page, requests, console = _open(browser, url)
    try:
        # 2. math typeset by MathJax: every math element holds typeset output (mjx-math, not just an
        #    mjx-container: MathJax's lazy extension leaves empty containers as placeholders), no raw TeX left
        math = page.evaluate(
            """() => {
                const els = [...document.querySelectorAll('.math')];
                return {total: els.length,
                        rendered: els.filter(e => e.querySelector('mjx-container mjx-math')).length,
                        // a formula typeset twice: MathJax typeset its own hidden assistive MathML
                        nested: document.querySelectorAll('mjx-container mjx-container').length,
                        errors: document.querySelectorAll('mjx-merror').length};
            }"""
        )
        has_mathjax = page.locator("script[src*='mathjax/es5/']").count() > 0
        if has_mathjax:
            assert math["rendered"] == math["total"] and math["nested"] == 0, f"{docname}: {math}"
        assert math["errors"] == 0, f"{docname}: MathJax errors {math}"
        body = page.inner_text("article")
        assert not re.search(r"\\\(|\\\[|\$\$|\\begin\{", body), f"{docname}: raw TeX left in the page"

        # 3. every image loads and says what it shows
        images = page.evaluate(
            "() => [...document.querySelectorAll('article img')].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0, alt: i.alt}))"
        )
        for img in images:
            assert img["ok"], f"{docname}: image does not load: {img['src']}"
            alt = (img["alt"] or "").strip()
            assert len(alt) >= 15 and alt.lower() not in {"image", "png", "figure"}, f"{docname}: weak alt text {alt!r}"
            assert not re.search(r"\.(png|svg|jpe?g)$", alt), f"{docname}: alt text is a file name {alt!r}"

        # 4. headings in order: no level is skipped
        levels = page.evaluate("() => [...document.querySelectorAll('article h1, article h2, article h3, article h4, article h5, article h6')].map(h => +h.tagName[1])")
        assert levels and levels[0] == 1, f"{docname}: first heading is not h1: {levels}"
        for a, b in zip(levels, levels[1:]):
            assert b <= a + 1, f"{docname}: heading jumps from h{a} to h{b}"

        # 5. no console errors beyond the documented harmless ones
        errors = [t for kind, t in console if kind == "error" and not any(k in t for k in KNOWN_CONSOLE_ERRORS)]
        assert not errors, f"{docname}: console errors {errors}"

        # 6. internal links and cross-references resolve to an existing page and anchor
        links = page.evaluate("() => [...document.querySelectorAll('article a.reference.internal')].map(a => a.href)")
        for href in links:
            target, frag = urldefrag(href)
            path = html_dir / urlparse(target).path.lstrip("/")
            assert path.exists(), f"{docname}: link to missing page {href}"
            if frag:
                html = path.read_text(encoding="utf-8")
                assert f'id="{frag}"' in html, f"{docname}: link to missing anchor {href}"

        # 7. theorem-like boxes render as sphinx-proof admonitions on chapter pages
        if docname.startswith("book/0") or docname.startswith("book/1"):
            assert page.locator("div.proof, div.admonition.theorem, div.admonition.lemma, div.admonition.proposition, div.admonition.definition").count() > 0, (
                f"{docname}: no theorem/definition boxes rendered"
            )

        # 8. exercises (sphinx-exercise): each shows its generated number "Exercise <chapter>.<k>"
        #    and a title; each solution follows it, starts collapsed (sphinx-togglebutton) and its
        #    title names that exercise by number
        boxes = page.evaluate(
            r"""() => [...document.querySelectorAll('article div.exercise, article div.solution')].map(d => ({
                kind: d.classList.contains('exercise') ? 'exercise' : 'solution',
                title: (d.querySelector('.admonition-title') || {innerText: ''}).innerText.replace(/\s+/g, ' ').trim(),
                collapsed: d.classList.contains('toggle-hidden'),
            }))"""
        )
        chapter = re.match(r"book/(\d\d)_", docname)
        last = None
        for box in boxes:
            if box["kind"] == "exercise":
                m = re.match(r"Exercise (\d+)\.(\d+)\s+\(.+\)$", box["title"])
                assert m and chapter and int(m.group(1)) == int(chapter.group(1)), f"{docname}: exercise title {box['title']!r}"
                last = f"Exercise {m.group(1)}.{m.group(2)}"
            else:
                assert last and box["title"].startswith(f"Solution to {last} ("), f"{docname}: solution {box['title']!r} after {last}"
                assert box["collapsed"], f"{docname}: the solution to {last} is not collapsed"
                last = None
        assert [b["kind"] for b in boxes] == ["exercise", "solution"] * (len(boxes) // 2), f"{docname}: {boxes}"

        if docname in SCREENSHOT_PAGES:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{Path(docname).name}.png"), full_page=False)

        # 1. every request stays on the book's own host (checked last, so that it also covers
        #    whatever the page fetched while the checks above ran, e.g. MathJax's fonts)
        host = urlparse(server).netloc
        foreign = [r for r in requests if urlparse(r).scheme not in ("data", "blob") and urlparse(r).netloc != host]
        assert not foreign, f"{docname}: requests to other hosts: {foreign}"
    finally:
        page.close()


def test_book_reads_offline_from_disk(browser, html_dir):
    """Opened from disk (file://), a chapter typesets its math with nothing from the network."""
    chapter = next(p for p in PAGES if p.startswith("book/0"))
    page, requests, _ = _open(browser, (html_dir / f"{chapter}.html").as_uri())
    try:
        assert all(urlparse(r).scheme in ("file", "data", "blob") for r in requests), [r for r in requests if not r.startswith("file:")]
        assert page.locator("mjx-container mjx-math").count() > 0
    finally:
        page.close()


def test_skipped_sections_are_laid_out_when_printed(browser, server):
    """Off-screen sections skip layout on screen (the book's stylesheet), never in print.

    On screen the content of the last section of a long chapter is skipped (``checkVisibility``
    with ``contentVisibilityAuto`` is false for its heading) while the first's is not; with print media every section
    is laid out, so the PDF (and a reader's printout) holds all of it.
    """
    chapter = "book/05_figure1"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(urljoin(server, f"{chapter}.html"), wait_until="load")
        visible = "() => [...document.querySelectorAll('article.bd-article section > section')]" \
                  ".map(s => s.firstElementChild.checkVisibility({contentVisibilityAuto: true}))"  # inside the section
        screen = page.evaluate(visible)
        assert len(screen) > 3 and screen[0] and not screen[-1], screen
        page.emulate_media(media="print")
        printed = page.evaluate(visible)
        assert all(printed), printed
    finally:
        page.close()


def test_no_cdn_references_in_built_html(html_dir):
    """No page points a script or stylesheet at a CDN (MathJax is served from the book)."""
    bad = []
    for path in html_dir.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        for m in re.finditer(r'<(?:script|link)[^>]+(?:src|href)="(https?:[^"]+)"', html):
            bad.append((path.name, m.group(1)))
    assert not bad, bad[:10]


def test_api_reference_anchors_every_public_name(html_dir):
    """The API page gives each public name its ``homtrap.<name>`` anchor, and no other top-level
    one; chapters link to those anchors and the API page links back to the chapters."""
    import homtrap

    api = (html_dir / "book" / "api.html").read_text(encoding="utf-8")
    anchors = set(re.findall(r'id="homtrap\.(\w+)"', api))
    assert anchors == set(homtrap.__all__), sorted(anchors ^ set(homtrap.__all__))
    chapter = (html_dir / "book" / "01_dsm_detail_subspace.html").read_text(encoding="utf-8")
    assert 'href="api.html#homtrap.sigma2"' in chapter
    assert 'href="01_dsm_detail_subspace.html"' in api


def _page_title(docname: str) -> str:
    """The first level-1 heading of a page's source (.md or .ipynb)."""
    import json

    path = ROOT / f"{docname}.md"
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines()
    else:
        nb = json.loads((ROOT / f"{docname}.ipynb").read_text(encoding="utf-8"))
        lines = [ln for c in nb["cells"] if c["cell_type"] == "markdown" for ln in "".join(c["source"]).splitlines()]
    return next(ln[2:].strip() for ln in lines if ln.startswith("# "))


def _pdf_text(pdf: Path) -> str:
    """The text of the whole PDF, in page order, whitespace runs squeezed to one space.

    pypdfium2 (PDFium, the PDF engine of Chromium) reads the ~600 pages in a few seconds;
    pure-Python pypdf needed ~50 s of CPU for the same file."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        parts = []
        for page in doc:
            textpage = page.get_textpage()
            parts.append(" ".join(textpage.get_text_range().split()))
            textpage.close()
            page.close()
    finally:
        doc.close()
    return " ".join(parts)


def test_pdf_contains_every_chapter(browser, tmp_path):
    """The documented PDF route (single-page build printed by Chromium) holds every page.

    Uses ``$HOMTRAP_SINGLEHTML_DIR`` (an existing ``_build/singlehtml``) when set, else builds."""
    import time

    from print_pdf import print_pdf

    site = _prebuilt("HOMTRAP_SINGLEHTML_DIR") or _build(tmp_path, "singlehtml")
    steps: dict[str, float] = {}
    pdf = print_pdf(site, tmp_path / "book.pdf", browser=browser, times=steps)
    start = time.perf_counter()
    text = _pdf_text(pdf)
    steps["read text"] = round(time.perf_counter() - start, 1)
    print(f"PDF test: seconds per step {steps}")  # shown when the test fails
    # Chromium sets "ff", "fi", "ffi" as ligature glyphs, which extract as U+FB00..U+FB04
    # ("Aﬃne", "trade-oﬀ"); NFKC turns them back into letters
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")  # typographic apostrophes
    squash = lambda t: re.sub(r"[^a-z0-9]", "", t.lower())  # noqa: E731  line breaks, hyphens, quotes
    flat = squash(text)
    for docname in PAGES:
        title = re.sub(r"\$[^$]*\$", " ", _page_title(docname))  # math in titles is typeset, not text
        words = max(re.split(r"\s{2,}|[:(),]", title), key=len).strip()  # longest plain-text run
        assert squash(words) in flat, f"the PDF lacks {docname} ({words!r})"
    assert text.count("outputs on this page were produced on") >= sum(1 for p in PAGES if (ROOT / f"{p}.ipynb").exists())
    # the PDF that passed is the one published beside the HTML book (scripts/test.sh sets the
    # path; the Pages workflow copies it into the site)
    if os.environ.get("HOMTRAP_PDF_OUT"):
        Path(os.environ["HOMTRAP_PDF_OUT"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdf, os.environ["HOMTRAP_PDF_OUT"])
