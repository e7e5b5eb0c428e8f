"""Sphinx extension: each page's first screen of formulas is typeset when the book is built.

Why. The browser typesets the book's formulas with MathJax (bundled in ``book/_extra/mathjax``;
``homtrap-progressive.js`` typesets the formulas near the screen first and the rest in the
background). Even so, a page's first screen waits for MathJax's 2 MB script to be parsed and
started and for its first formulas to be typeset: 1.2-1.9 s from navigation on the heaviest
pages of a 2-core machine (``benchmarks/page_speed.py``). Typeset at build time, the first
screen is readable as soon as the page's HTML and CSS are in: MathJax is no longer on its
critical path.

What. After an HTML build (``build-finished``), every page's ``.math`` elements (Sphinx's
``<span class="math ...">\\(...\\)</span>`` and ``<div class="math ...">\\[...\\]</div>``) that lie

* outside the page's article (the header and the sidebars: the page's table of contents
  repeats the section titles, formulas included), or
* inside the article, within its first :data:`DEFAULT_BUDGET` characters of text (the
  ``prerender_math_budget`` option; formulas count with the length of their TeX source)

are converted to MathJax's CHTML output by ``mathjax_prerender/prerender.js`` (MathJax 3.2.2 in
Node, the release the browser runs, with the book's ``mathjax3_config``). One Node process
converts every page. Each page gets the stylesheet its formulas need (``<style
id="homtrap-prerendered-math">`` in its head, fonts from the bundled copy, never a CDN). The
browser's MathJax leaves these formulas alone (``homtrap-progressive.js`` only hands it ``.math``
elements that hold no ``mjx-container``) and typesets the others as before.

The budget is generous on purpose. Measured on the built book (pages loaded with JavaScript
off, the last formula inside the viewport, its offset counted as here): no page's first
screen reached past 1,714 characters at 1280 x 900, 2,909 at 1920 x 1200 and 3,489 at
2560 x 1440. The browser tests check at 1280 x 900, 1920 x 1200 and 390 x 844 (a phone) that
every formula on every page's first screen is pre-rendered. A formula the budget misses is
still typeset by the browser, first.

A formula whose TeX does not parse is left to the browser and reported as a warning (the book
is built with ``-W``, so a TeX error on a first screen fails the build). A formula that needs
a TeX package the browser's MathJax loads on first use (``\\cancel``, ``\\bra``, ...) is left
to the browser too, silently: ``prerender.js`` says why.

Options (``sphinx: config:`` in ``_config.yml``):

* ``prerender_math``: ``"auto"`` (default: pre-render when Node is available; if it is not,
  or its packages cannot be installed, say so and leave all formulas to the browser), ``"on"``
  (the same, but a missing Node is an error), ``"off"``;
* ``prerender_math_budget``: the characters of text, from the top of the article, whose
  formulas are pre-rendered (default :data:`DEFAULT_BUDGET`).

Node's packages (``mathjax-full``, pinned by ``mathjax_prerender/package-lock.json``) are
installed with ``npm ci`` into ``mathjax_prerender/node_modules`` on the first build.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: builds there must not run side by side
    fcntl = None

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

NODE_DIR = Path(__file__).resolve().parent / "mathjax_prerender"
DEFAULT_BUDGET = 8000
#: the id of the stylesheet added to a page; its presence marks a page as done
STYLE_ID = "homtrap-prerendered-math"
FONT_URL_PLACEHOLDER = "@HOMTRAP_MATHJAX_FONTS@"
#: a formula as Sphinx writes it (html5 writer, MathJax renderer)
MATH = re.compile(r'<(span|div) class="math notranslate nohighlight"[^>]*>(.*?)</\1>', re.S)
INLINE = re.compile(r"\\\((.*)\\\)\s*\Z", re.S)
DISPLAY = re.compile(r"\\\[(.*)\\\]\s*\Z", re.S)
TAG = re.compile(r"<[^>]*>")
ARTICLE = re.compile(r'<article class="bd-article"[^>]*>(.*)</article>', re.S)


@dataclass(frozen=True)
class Formula:
    """One formula of a page: where its TeX (with delimiters) sits in the page's text."""

    start: int  # offset in the page of the TeX with its delimiters
    end: int
    tex: str  # unescaped, without delimiters
    display: bool


def first_screen_formulas(page: str, budget: int) -> list[Formula]:
    """The formulas of ``page`` (HTML text) to typeset at build time, in page order.

    Every formula outside the article (``<article class="bd-article">``), and those of the
    article that start within its first ``budget`` characters of text (tags removed, entities
    decoded, runs of white space counted once, each formula counted with the length of its TeX).
    A page without that article (another theme) is read as one article. Formulas already
    typeset (no TeX between delimiters) are not formulas here.
    """
    article = ARTICLE.search(page)
    a_start, a_end = (article.start(1), article.end(1)) if article else (0, len(page))
    chosen = []
    text = 0  # characters of the article's text before the current position
    pos = a_start
    for m in MATH.finditer(page):
        formula = _formula(m)
        if formula is None:
            continue
        if a_start <= m.start() < a_end:
            if text >= budget:
                continue
            text += _text_length(page[pos:m.start()])
            pos = m.end()
            if text >= budget:
                continue
            text += len(formula.tex)
        chosen.append(formula)
    return chosen


def _formula(m: re.Match) -> Formula | None:
    """The formula of a match of :data:`MATH`; ``None`` if it holds no TeX in delimiters."""
    inner, start = m.group(2), m.start(2)
    # a numbered display formula starts with Sphinx's <span class="eqno">(1.1)...</span>
    found = INLINE.match(inner) if m.group(1) == "span" else DISPLAY.search(inner)
    if found is None:
        return None
    return Formula(start + found.start(), start + found.end(), html.unescape(found.group(1)),
                   m.group(1) == "div")


def _text_length(fragment: str) -> int:
    return len(" ".join(html.unescape(TAG.sub(" ", fragment)).split()))


def splice(page: str, formulas: Sequence[Formula], rendered: Sequence[str | None], head: str) -> str:
    """``page`` with each formula's TeX replaced by its rendering (``None``: left as it is) and
    ``head`` (the stylesheet) added at the end of its ``<head>``."""
    if len(formulas) != len(rendered):
        raise ValueError(f"rendered: {len(rendered)} renderings for {len(formulas)} formulas")
    parts = []
    pos = 0
    for f, out in zip(formulas, rendered):
        if out is None:
            continue
        parts += [page[pos:f.start], out]
        pos = f.end
    parts.append(page[pos:])
    page = "".join(parts)
    end = page.find("</head>")
    if end < 0:
        raise ValueError("page: no </head> to add the stylesheet to")
    return page[:end] + head + page[end:]


def head_html(css: str, fonts_url: str) -> str:
    """The stylesheet of a page's pre-rendered formulas, its fonts taken from ``fonts_url``.

    The fonts are not preloaded. Measured (``benchmarks/page_speed.py``, 15 loads each of ch01
    and ch05): ``<link rel="preload">`` tags or a script adding them made the first screen
    paint no sooner and its fonts arrive no sooner than without any, and a preload tag fails
    with a console error on a page read from disk (a font is fetched in CORS mode, which a
    ``file://`` page cannot use).
    """
    return f'<style id="{STYLE_ID}">\n{css.replace(FONT_URL_PLACEHOLDER, fonts_url)}</style>\n'


def ensure_packages(npm: str) -> None:
    """``npm ci`` in ``mathjax_prerender`` unless its pinned packages are installed.

    Under a file lock: builds may run side by side (the browser tests' workers each build the
    book when they are not given one), and on a fresh clone each would install at once.
    """
    marker = NODE_DIR / "node_modules" / "mathjax-full" / "package.json"
    if marker.is_file():
        return
    with open(NODE_DIR / ".npm-ci.lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file():  # installed by the other build while this one waited
            return
        logger.info("[prerender_math] installing mathjax-full with npm ci (once)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                       cwd=NODE_DIR, check=True, timeout=600, capture_output=True, text=True)


def render(node: str, tex_config: dict, pages: list[list[Formula]]) -> dict:
    """Run ``prerender.js`` on every page's formulas (one Node process); its parsed result."""
    with tempfile.TemporaryDirectory(prefix="homtrap-prerender-") as tmp:
        request, result = Path(tmp, "request.json"), Path(tmp, "result.json")
        request.write_text(json.dumps({
            "tex": tex_config,
            "pages": [[{"tex": f.tex, "display": f.display} for f in fs] for fs in pages],
        }), encoding="utf-8")
        subprocess.run([node, str(NODE_DIR / "prerender.js"), str(request), str(result)],
                       check=True, timeout=1800, capture_output=True, text=True)
        return json.loads(result.read_text(encoding="utf-8"))


def _fonts_dir(app) -> Path | None:
    """The bundled MathJax's CHTML fonts in the output (where the browser's MathJax finds them)."""
    path = app.config.mathjax_path or ""
    if "://" in path or path.startswith("//"):
        return None
    root = Path(app.outdir) / "_static" / os.path.dirname(path)
    fonts = (root / "output" / "chtml" / "fonts" / "woff-v2").resolve()
    return fonts if fonts.is_dir() else None


def _give_up(app, why: str) -> None:
    if app.config.prerender_math == "on":
        raise ExtensionError(f"prerender_math: {why}")
    logger.info(f"[prerender_math] {why}: every formula is left to the browser's MathJax")


def prerender(app, exception) -> None:
    """``build-finished``: typeset the first screen of every HTML page of the output."""
    # the single-page build is the PDF's (scripts/print_pdf.py typesets every formula for paper,
    # without the assistive MathML copy); only the pages a reader browses are pre-rendered
    if exception is not None or app.builder.name not in ("html", "dirhtml") or app.config.prerender_math == "off":
        return
    if app.config.prerender_math not in ("auto", "on"):
        raise ExtensionError(f"prerender_math: {app.config.prerender_math!r} is not 'auto', 'on' or 'off'")
    fonts = _fonts_dir(app)
    if fonts is None:
        return _give_up(app, f"mathjax_path {app.config.mathjax_path!r} is not a bundled MathJax with CHTML fonts")
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return _give_up(app, "node and npm are not both on PATH")
    try:
        ensure_packages(npm)
    except (subprocess.SubprocessError, OSError) as err:
        detail = getattr(err, "stderr", "") or err
        return _give_up(app, f"npm ci failed in {NODE_DIR}: {str(detail).strip()[-500:]}")

    outdir = Path(app.outdir)
    files, pages, selections = [], [], []
    for path in sorted(outdir.rglob("*.html")):
        if path.relative_to(outdir).parts[0] in ("_static", "_sources", "mathjax", "_images"):
            continue
        page = path.read_text(encoding="utf-8")
        if f'id="{STYLE_ID}"' in page:
            continue  # pre-rendered by an earlier build and not written again
        chosen = first_screen_formulas(page, app.config.prerender_math_budget)
        if chosen:
            files.append(path), pages.append(page), selections.append(chosen)
    if not files:
        return
    tex_config = (app.config.mathjax3_config or {}).get("tex", {})
    try:
        result = render(node, tex_config, selections)
    except (subprocess.SubprocessError, OSError) as err:
        detail = getattr(err, "stderr", "") or err
        raise ExtensionError(f"prerender_math: prerender.js failed: {str(detail).strip()[-2000:]}") from err
    count = deferred = 0
    for path, page, chosen, out in zip(files, pages, selections, result["pages"]):
        deferred += len(out["deferred"])
        for index, message in out["errors"]:
            logger.warning(f"{path.relative_to(outdir)}: TeX error in ${chosen[index].tex}$: {message}",
                           type="prerender_math")
        url = Path(os.path.relpath(fonts, path.parent)).as_posix()
        path.write_text(splice(page, chosen, out["html"], head_html(out["css"], url)), encoding="utf-8")
        count += sum(h is not None for h in out["html"])
    logger.info(f"[prerender_math] {count} formulas on the first screens of {len(files)} pages "
                f"typeset with MathJax {result['version']} in Node; {deferred} left to the browser, "
                "which loads a TeX package for them")


def setup(app):
    app.add_config_value("prerender_math", "auto", "html", [str])
    app.add_config_value("prerender_math_budget", DEFAULT_BUDGET, "html", [int])
    app.connect("build-finished", prerender)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
