"""The book's build-time typesetting of first-screen formulas (``book/_ext/prerender_math.py``).

The page surgery is tested on small synthetic pages written as Sphinx writes them; the Node
side (``prerender.js``, MathJax 3.2.2) on real TeX, including the book's own macros and a
misspelt macro that must be reported. The browser layer checks the built book itself: every
formula on every first screen is pre-rendered, and matches what the browser's MathJax makes of
the same TeX (``tests/test_browser.py``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import prerender_math as pm  # noqa: E402  the extension is a local Sphinx extension, not a package

ARTICLE_OPEN = '<article class="bd-article">'


def inline(tex: str) -> str:
    return f'<span class="math notranslate nohighlight">\\({tex}\\)</span>'


def display(tex: str, label: str | None = None) -> str:
    eqno = ""
    if label:
        eqno = (f'\n<span class="eqno">(1.1)<a class="headerlink" href="#equation-{label}" '
                f'title="Link to this equation">#</a></span>')
    ident = f' id="equation-{label}"' if label else ""
    return f'<div class="math notranslate nohighlight"{ident}>{eqno}\\[\n{tex}\n\\]</div>'


def page(article: str, before: str = "", after: str = "") -> str:
    return (f"<html><head><title>t</title></head><body>{before}"
            f"{ARTICLE_OPEN}{article}</article>{after}</body></html>")


# ------------------------------------------------------------------------ choosing the formulas
def test_formulas_are_found_with_their_tex_unescaped_and_kind():
    html = page(f"<p>Let {inline('a &lt; b')} and</p>" + display(r"M\one = \one", "eq-x"))
    chosen = pm.first_screen_formulas(html, budget=10_000)
    # the TeX between the delimiters as MathJax's own search finds it (display: with its newlines)
    assert [(f.tex, f.display) for f in chosen] == [("a < b", False), ("\nM\\one = \\one\n", True)]
    # the offsets cover the TeX with its delimiters, and only that (the eqno span stays)
    assert html[chosen[0].start:chosen[0].end] == r"\(a &lt; b\)"
    assert html[chosen[1].start:chosen[1].end].startswith(r"\[") and html[chosen[1].end - 2:chosen[1].end] == r"\]"
    assert 'class="eqno"' in html[:chosen[1].start]


def test_the_budget_cuts_the_article_but_never_the_sidebars():
    filler = "<p>" + "word " * 400 + "</p>"  # 2000 characters of text
    article = inline("x_1") + filler + inline("x_2") + filler + inline("x_3")
    html = page(article, before=f"<nav>{inline('n_1')}</nav>", after=f"<aside>{inline('n_2')}</aside>")
    texs = lambda budget: [f.tex for f in pm.first_screen_formulas(html, budget)]  # noqa: E731
    assert texs(10_000) == ["n_1", "x_1", "x_2", "x_3", "n_2"]
    assert texs(3_000) == ["n_1", "x_1", "x_2", "n_2"]  # x_2 starts after ~2003 characters
    assert texs(1_000) == ["n_1", "x_1", "n_2"]
    assert texs(0) == ["n_1", "n_2"]
    # control: the text before a formula counts (the same three formulas without the filler all fit)
    assert [f.tex for f in pm.first_screen_formulas(page(inline("x_1") + inline("x_2") + inline("x_3")), 100)] == ["x_1", "x_2", "x_3"]


def test_formulas_count_with_the_length_of_their_tex():
    long = "a" * 500
    html = page(inline(long) + inline("b") + inline("c"))
    assert [f.tex for f in pm.first_screen_formulas(html, 400)] == [long]
    assert [f.tex for f in pm.first_screen_formulas(html, 600)] == [long, "b", "c"]


def test_typeset_formulas_are_not_formulas_again():
    done = '<span class="math notranslate nohighlight"><mjx-container class="MathJax" jax="CHTML"></mjx-container></span>'
    html = page(done + inline("y"))
    assert [f.tex for f in pm.first_screen_formulas(html, 100)] == ["y"]


def test_a_page_without_the_article_is_read_as_one_article():
    html = "<html><head></head><body>" + inline("a") + "<p>" + "w " * 100 + "</p>" + inline("b") + "</body></html>"
    assert [f.tex for f in pm.first_screen_formulas(html, 50)] == ["a"]


# --------------------------------------------------------------------------- splicing the page
def test_splice_replaces_the_tex_keeps_the_rest_and_adds_the_head():
    html = page(f"<p>{inline('a')} then {inline('b')}</p>" + display("c", "eq-c"))
    chosen = pm.first_screen_formulas(html, 1000)
    out = pm.splice(html, chosen, ["<A/>", None, "<C/>"], "<style>s</style>")
    assert '<span class="math notranslate nohighlight"><A/></span>' in out
    assert inline("b") in out  # None: left to the browser
    assert '<span class="eqno">(1.1)' in out and "<C/></div>" in out and r"\[" not in out
    assert out.index("<style>s</style>") < out.index("</head>") < out.index("<body>")
    # everything else is byte for byte the page
    assert out.replace("<A/>", r"\(a\)").replace("<C/>", "\\[\nc\n\\]").replace("<style>s</style>", "") == html


def test_splice_refuses_mismatched_input():
    html = page(inline("a"))
    chosen = pm.first_screen_formulas(html, 1000)
    with pytest.raises(ValueError, match="rendered: 2 renderings for 1 formulas"):
        pm.splice(html, chosen, ["<A/>", "<B/>"], "")
    with pytest.raises(ValueError, match="no </head>"):
        pm.splice(html.replace("</head>", ""), chosen, ["<A/>"], "")


CSS = ('@font-face /* 0 */ {\n  font-family: MJXZERO;\n'
       '  src: url("@HOMTRAP_MATHJAX_FONTS@/MathJax_Zero.woff") format("woff");\n}\n')


def test_the_head_is_the_stylesheet_with_the_fonts_of_the_page():
    head = pm.head_html(CSS, "../fonts")
    assert head.startswith(f'<style id="{pm.STYLE_ID}">') and head.endswith("</style>\n")
    assert "@HOMTRAP_MATHJAX_FONTS@" not in head and 'url("../fonts/MathJax_Zero.woff")' in head
    assert "preload" not in head and "<script" not in head


# ------------------------------------------------------------------------------- MathJax in Node
@pytest.fixture(scope="module")
def node():
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not on PATH: the book is then built without pre-rendered formulas")
    pm.ensure_packages(npm)
    return node


BOOK_MACROS = {"one": "\\mathbf{1}", "norm": ["\\left\\lVert #1 \\right\\rVert", 1]}


def test_node_typesets_like_mathjax_with_the_books_macros(node):
    formulas = [pm.Formula(0, 0, r"\sigma_2 \le \norm{x}", False), pm.Formula(0, 0, r"M\one = \one", True)]
    result = pm.render(node, {"macros": BOOK_MACROS}, [formulas])
    assert result["version"] == "3.2.2"  # the release bundled for the browser (book/_extra/mathjax)
    (out,) = result["pages"]
    assert out["errors"] == []
    first, second = out["html"]
    for h in (first, second):
        assert h.startswith('<mjx-container class="MathJax" jax="CHTML"') and "<mjx-math" in h
        assert "data-homtrap-prerendered" in h and "font-size: calc(1ex / 0.442)" in h
        assert "<mjx-assistive-mml" in h  # screen readers read the MathML copy
    assert 'display="true"' in second and 'display="true"' not in first
    assert "mjx-c1D7CF" in second  # \one expanded to a bold 1 (U+1D7CF), i.e. the macro was applied
    assert first.count("mjx-c2016") == 2  # \norm expanded to a pair of double bars (U+2016)
    assert pm.FONT_URL_PLACEHOLDER in out["css"] and "cdn" not in out["css"].lower()


def test_node_reports_tex_errors_and_leaves_the_formula_to_the_browser(node):
    formulas = [pm.Formula(0, 0, "x", False), pm.Formula(0, 0, r"\sigmma", False), pm.Formula(0, 0, r"\frac{1}{", True)]
    (out,) = pm.render(node, {}, [formulas])["pages"]
    assert out["html"][0] is not None and out["html"][1] is None and out["html"][2] is None
    assert out["errors"] == [[1, "Undefined control sequence \\sigmma"], [2, "Missing close brace"]]
    assert out["deferred"] == []


def test_node_leaves_formulas_that_need_an_autoloaded_package_to_the_browser(node):
    """The browser's MathJax loads braket, cancel, amscd, ... on first use, and a loaded package
    changes other formulas too (braket draws every \\| with another glyph): Node loads none of
    them, leaves such formulas to the browser, and says so (not as an error)."""
    formulas = [pm.Formula(0, 0, r"\| x \|", False), pm.Formula(0, 0, r"\bra{x}", False),
                pm.Formula(0, 0, r"\cancel{y}", False), pm.Formula(0, 0, r"\begin{CD} A @>>> B \end{CD}", True)]
    (out,) = pm.render(node, {}, [formulas])["pages"]
    assert out["deferred"] == [[1, "braket"], [2, "cancel"], [3, "amscd"]] and out["errors"] == []
    assert out["html"][0] is not None and out["html"][1:] == [None, None, None]
    assert out["html"][0].count("mjx-c2016") == 2  # \| as base draws it (U+2016), not braket's U+2225


def test_node_keeps_pages_apart(node):
    pages = [[pm.Formula(0, 0, r"\mathcal{B}", False)], [pm.Formula(0, 0, "x", False)]]
    first, second = pm.render(node, {}, pages)["pages"]
    # each page's stylesheet holds the glyphs of its own formulas only
    assert "mjx-c1D49C" not in second["css"] and "mjx-c" in first["css"]
    assert "TEX-C" in first["html"][0] and "TEX-C" not in second["html"][0]


# ------------------------------------------------------------------- without Node, or switched off
class _Config:
    def __init__(self, mode):
        self.prerender_math = mode
        self.prerender_math_budget = pm.DEFAULT_BUDGET
        self.mathjax_path = "../mathjax/es5/tex-mml-chtml.js"
        self.mathjax3_config = {}


class _App:
    def __init__(self, outdir, mode):
        self.outdir = str(outdir)
        self.config = _Config(mode)
        self.builder = type("Builder", (), {"name": "html"})()


@pytest.fixture
def built(tmp_path):
    """A one-page 'build': a page with a formula, and the bundled MathJax's fonts folder."""
    (tmp_path / "mathjax" / "es5" / "output" / "chtml" / "fonts" / "woff-v2").mkdir(parents=True)
    (tmp_path / "index.html").write_text(page(inline("x")), encoding="utf-8")
    return tmp_path


def test_without_node_auto_leaves_the_formulas_to_the_browser_and_on_fails(built, monkeypatch):
    from sphinx.errors import ExtensionError

    monkeypatch.setattr(pm.shutil, "which", lambda name: None)
    before = (built / "index.html").read_text(encoding="utf-8")
    pm.prerender(_App(built, "auto"), None)  # no error: the book builds as before
    assert (built / "index.html").read_text(encoding="utf-8") == before
    with pytest.raises(ExtensionError, match="node and npm are not both on PATH"):
        pm.prerender(_App(built, "on"), None)
    pm.prerender(_App(built, "off"), None)
    with pytest.raises(ExtensionError, match="'sometimes' is not 'auto', 'on' or 'off'"):
        pm.prerender(_App(built, "sometimes"), None)


def test_a_cdn_mathjax_is_not_pre_rendered_for(built):
    from sphinx.errors import ExtensionError

    app = _App(built, "on")
    app.config.mathjax_path = "https://cdn.example.org/mathjax/tex-chtml.js"
    with pytest.raises(ExtensionError, match="is not a bundled MathJax with CHTML fonts"):
        pm.prerender(app, None)


def test_prerender_rewrites_a_page_once(built, node):
    pm.prerender(_App(built, "on"), None)
    once = (built / "index.html").read_text(encoding="utf-8")
    assert "data-homtrap-prerendered" in once and r"\(x\)" not in once
    assert 'url("mathjax/es5/output/chtml/fonts/woff-v2/MathJax_Zero.woff")' in once  # relative to the page
    pm.prerender(_App(built, "on"), None)  # a later build that did not write the page again
    assert (built / "index.html").read_text(encoding="utf-8") == once
