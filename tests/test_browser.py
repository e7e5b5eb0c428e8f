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
    page, requests, console = _open(browser, (html_dir / f"{chapter}.html").as_uri())
    try:
        assert all(urlparse(r).scheme in ("file", "data", "blob") for r in requests), [r for r in requests if not r.startswith("file:")]
        assert page.locator("mjx-container mjx-math").count() > 0
        # nothing fails for want of a server (e.g. a font fetched in CORS mode from a file:// page)
        errors = [t for kind, t in console if kind == "error" and not any(k in t for k in KNOWN_CONSOLE_ERRORS)]
        assert not errors, errors[:5]
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


# ------------------------------------------------------------- formulas typeset at build time
#: viewports of the first-screen check: a laptop (the benchmark's), a large desktop, a phone
FIRST_SCREENS = ((1280, 900), (1920, 1200), (390, 844))
#: every .math element in the viewport that holds no typeset output (and is not hidden)
UNTYPESET_ON_SCREEN = """() => [...document.querySelectorAll('.math')].filter(e => {
    if (!e.getClientRects().length) return false;
    const r = e.getBoundingClientRect();
    return r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth
        && !e.querySelector('mjx-container mjx-math');
}).map(e => e.textContent.slice(0, 60))"""


def _prerendering_expected() -> None:
    """Skip when the build could not pre-render (no Node), as ``prerender_math: auto`` allows."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not on PATH: the book was built without pre-rendered formulas")


@pytest.mark.parametrize("viewport", FIRST_SCREENS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_first_screens_are_typeset_without_any_script(browser, server, html_dir, viewport):
    """Every formula on every page's first screen is in the HTML already typeset, so the first
    screen is readable before (and without) MathJax: loaded with JavaScript off, at a laptop's,
    a large desktop's and a phone's viewport, no formula on screen holds raw TeX. Control: the
    same check finds raw TeX on the screen where the page was scrolled past the pre-rendered part.
    """
    _prerendering_expected()
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, java_script_enabled=False)
    try:
        page = context.new_page()
        missed, control = {}, None
        for docname in PAGES:
            page.goto(urljoin(server, f"{docname}.html"), wait_until="load")
            left = page.evaluate(UNTYPESET_ON_SCREEN)
            if left:
                missed[docname] = left
            if docname == "book/05_figure1" and viewport == FIRST_SCREENS[0]:
                page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight / 2)")
                control = page.evaluate(UNTYPESET_ON_SCREEN)
        assert not missed, f"raw TeX on first screens: {missed}"
        if viewport == FIRST_SCREENS[0]:
            assert control, "control: the middle of ch05 should hold formulas left to the browser"
    finally:
        context.close()


def _tex_config() -> dict:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["sphinx"]["config"]["mathjax3_config"].get("tex", {})


#: the heaviest chapters and the API reference
PARITY_PAGES = ("book/01_dsm_detail_subspace", "book/05_figure1", "book/11_theorem1", "book/17_case_mhc", "book/api")


#: compares two typeset trees node by node (element names, attributes, text); the style
#: attribute as the browser's CSSOM reads it ("0" and "0px" are the same length) and the class
#: attribute as a set of classes. Arguments: the browser's mjx-math elements in page order are
#: found again from ``items``' indices; returns [index, where] for every pair that differs.
SAME_TREES = r"""([htmls, indices]) => {
    const roots = [];
    for (const item of MathJax.startup.document.math) {
        const m = item.typesetRoot && item.typesetRoot.querySelector('mjx-math');
        if (m) roots.push(m);
    }
    const css = document.createElement('span');
    const style = (v) => { css.style.cssText = v || ''; return css.style.cssText; };
    const classes = (v) => (v || '').trim().split(/\s+/).sort().join(' ');
    const diff = (a, b, path) => {
        if (a.nodeType !== b.nodeType) return path + ': node types';
        if (a.nodeType === Node.TEXT_NODE) return a.data === b.data ? null : path + ': text ' + a.data + ' / ' + b.data;
        if (a.localName !== b.localName) return path + ': ' + a.localName + ' / ' + b.localName;
        const names = new Set([...a.getAttributeNames(), ...b.getAttributeNames()]);
        for (const n of names) {
            const [x, y] = [a.getAttribute(n), b.getAttribute(n)];
            const same = n === 'style' ? style(x) === style(y) : n === 'class' ? classes(x) === classes(y) : x === y;
            if (!same) return path + '/' + a.localName + '[' + n + ']: ' + x + ' / ' + y;
        }
        if (a.childNodes.length !== b.childNodes.length) return path + '/' + a.localName + ': children';
        for (let i = 0; i < a.childNodes.length; i++) {
            const d = diff(a.childNodes[i], b.childNodes[i], path + '/' + a.localName);
            if (d) return d;
        }
        return null;
    };
    const out = [];
    const holder = document.createElement('div');
    htmls.forEach((h, k) => {
        holder.innerHTML = h;
        const d = diff(roots[indices[k]], holder.querySelector('mjx-math'), '');
        if (d) out.push([indices[k], d]);
    });
    return out;
}"""


@pytest.mark.parametrize("docname", PARITY_PAGES)
def test_prerendered_math_is_what_the_browser_would_typeset(browser, server, html_dir, docname):
    """The formulas typeset at build time look exactly like those the browser's MathJax typesets.

    1. Node's MathJax and the browser's make the same CHTML of the same TeX: every formula the
       browser typeset on the page (all but the pre-rendered first screen) is typeset again in
       Node by the build's own code, and the two ``mjx-math`` trees must be equal, node by node
       (``SAME_TREES``). Control: a tree with one glyph changed is found to differ.
    2. The same size: a pre-rendered formula's font size (CSS ``calc(1ex / 0.442)``) is within 1 %
       of the size the browser's MathJax gives a formula in the same place (its measured
       ``scale`` times the font size there).
    """
    _prerendering_expected()
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import prerender_math as pm

    page, _, _ = _open(browser, urljoin(server, f"{docname}.html"))
    try:
        assert page.locator("[data-homtrap-prerendered]").count() > 0, f"{docname}: nothing pre-rendered"
        items = page.evaluate("""() => [...MathJax.startup.document.math]
            .filter(item => item.typesetRoot && item.typesetRoot.querySelector('mjx-math'))
            .map(item => ({tex: item.math, display: item.display}))""")
        assert len(items) > 100, f"{docname}: only {len(items)} formulas typeset by the browser"
        result = pm.render(shutil.which("node"), _tex_config(),
                           [[pm.Formula(0, 0, it["tex"], it["display"]) for it in items]])["pages"][0]
        assert result["errors"] == [], result["errors"][:5]
        differ = page.evaluate(SAME_TREES, [result["html"], list(range(len(items)))])
        assert not differ, f"{docname}: {len(differ)} of {len(items)} formulas differ, e.g. " + "; ".join(
            f"{items[i]['tex']!r}: {where}" for i, where in differ[:3])
        # control: the same comparison sees one changed glyph (the first formula's first character)
        tampered = re.sub(r'mjx-c[0-9A-F]+', "mjx-c2603", result["html"][0], count=1)
        assert page.evaluate(SAME_TREES, [[tampered], [0]]), "control: a changed glyph must differ"

        sizes = page.evaluate("""() => [...document.querySelectorAll('[data-homtrap-prerendered]')].filter(
                c => c.getClientRects().length).map(c => {
            // measured where MathJax measures a formula it typesets: in the element that holds its
            // TeX (the .math element; getMetricsFor appends its test element to the node it is given)
            const metrics = MathJax.startup.document.outputJax.getMetricsFor(c.parentElement, c.getAttribute('display') === 'true');
            return {tex: c.textContent.slice(0, 40), actual: parseFloat(getComputedStyle(c).fontSize),
                    expected: metrics.scale * metrics.em};
        })""")
    finally:
        page.close()
    assert sizes and all(abs(s["actual"] / s["expected"] - 1) < 0.01 for s in sizes), [
        s for s in sizes if abs(s["actual"] / s["expected"] - 1) >= 0.01][:5]
