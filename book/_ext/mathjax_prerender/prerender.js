#!/usr/bin/env node
/*
 * Typeset TeX formulas to MathJax CHTML at build time (called by book/_ext/prerender_math.py).
 *
 *   node prerender.js REQUEST.json RESULT.json
 *
 * REQUEST: {"tex": <the book's MathJax "tex" configuration (macros, ...)>,
 *           "pages": [[{"tex": "...", "display": false}, ...], ...]}
 * RESULT:  {"version": "3.2.2",
 *           "pages": [{"html": ["<mjx-container ...>", ...],   one per formula, in order
 *                      "errors": [[index, "message"], ...],     TeX errors (the formula is
 *                                                               then left to the browser)
 *                      "deferred": [[index, "package"], ...],   formulas that need a package
 *                                                               the browser autoloads (left to it)
 *                      "css": "..."}, ...]}                     the CHTML stylesheet the
 *                                                               page's formulas need
 *
 * The output is what the browser's MathJax (the same release, 3.2.2, bundled in
 * book/_extra/mathjax/es5) produces for the same TeX, with three differences:
 *
 * - the TeX packages: the browser starts with base, ams, newcommand, noundefined, require,
 *   autoload and configmacros, and autoload loads a further package the first time one of its
 *   macros is met (braket for \bra, cancel for \cancel, ...). Once loaded, some of them change
 *   formulas that do not use them (braket draws every \| with another glyph), so the browser's output would
 *   depend on the order in which it met the page's formulas. Here only base, ams, newcommand
 *   and configmacros are loaded, and a formula that needs a package the browser autoloads is
 *   left to the browser ("deferred"). noundefined is left out as well, so that a misspelt
 *   macro is an error the build reports (the browser would show it in red);
 * - the size: the browser scales a formula so that its x-height matches the surrounding text's
 *   ("matchFontHeight": font-size = ex / 0.442 of the surrounding font, 0.442 em being the x-height
 *   of MathJax's TeX fonts). That depends on the reader's fonts, so it cannot be computed here;
 *   CSS computes the same size: font-size: calc(1ex / 0.442), in the parent's ex;
 * - the container carries data-homtrap-prerendered, and no context-menu attributes (the browser
 *   attaches its menu to the formulas it typesets itself).
 *
 * The stylesheet's @font-face rules name the fonts' folder as FONT_URL_PLACEHOLDER, replaced by
 * the caller with the path from each page to the bundled fonts (never a CDN).
 */
"use strict";
const fs = require("fs");
const {mathjax} = require("mathjax-full/js/mathjax.js");
const {TeX} = require("mathjax-full/js/input/tex.js");
const {CHTML} = require("mathjax-full/js/output/chtml.js");
const {liteAdaptor} = require("mathjax-full/js/adaptors/liteAdaptor.js");
const {RegisterHTMLHandler} = require("mathjax-full/js/handlers/html.js");
const {AssistiveMmlHandler} = require("mathjax-full/js/a11y/assistive-mml.js");
require("mathjax-full/js/input/tex/base/BaseConfiguration.js");
require("mathjax-full/js/input/tex/ams/AmsConfiguration.js");
require("mathjax-full/js/input/tex/newcommand/NewcommandConfiguration.js");
require("mathjax-full/js/input/tex/configmacros/ConfigMacrosConfiguration.js");
const {AutoloadConfiguration} = require("mathjax-full/js/input/tex/autoload/AutoloadConfiguration.js");
const {VERSION} = require("mathjax-full/js/components/version.js");

const FONT_URL_PLACEHOLDER = "@HOMTRAP_MATHJAX_FONTS@";
// the packages the browser's MathJax (tex-mml-chtml) starts with, less those that only load
// others (require, autoload) or hide errors (noundefined)
const PACKAGES = ["base", "ams", "newcommand", "configmacros"];
// what the browser would autoload: "\name" for macros, "{name}" for environments
const AUTOLOADED = new Map();
for (const [extension, names] of Object.entries(AutoloadConfiguration.options.autoload)) {
  const [macros, environments] = Array.isArray(names[0]) ? names : [names, []];
  for (const m of macros) AUTOLOADED.set("\\" + m, extension);
  for (const e of environments) AUTOLOADED.set("{" + e + "}", extension);
}

// the package the browser would autoload for a TeX error of ours, if that is its cause
function autoloaded(message) {
  let m = /^Undefined control sequence (\\[A-Za-z]+)$/.exec(message);
  if (m) return AUTOLOADED.get(m[1]);
  m = /^Unknown environment '(\w+)'$/.exec(message);
  return m ? AUTOLOADED.get("{" + m[1] + "}") : undefined;
}

function main() {
  const [requestPath, resultPath] = process.argv.slice(2);
  const request = JSON.parse(fs.readFileSync(requestPath, "utf8"));
  const adaptor = liteAdaptor();
  AssistiveMmlHandler(RegisterHTMLHandler(adaptor));
  const pages = request.pages.map((formulas) => {
    // one document (and one output jax) per page: the stylesheet then holds the characters
    // of this page's formulas only
    const tex = new TeX(Object.assign({}, request.tex || {}, {packages: PACKAGES}));
    const chtml = new CHTML({fontURL: FONT_URL_PLACEHOLDER});
    const doc = mathjax.document("", {InputJax: tex, OutputJax: chtml});
    const html = [];
    const errors = [];
    const deferred = [];
    formulas.forEach((f, i) => {
      const node = doc.convert(f.tex, {display: !!f.display, em: 16, ex: 8, containerWidth: 80 * 16});
      const error = adaptor.tags(node, "mjx-merror")[0];
      if (error) {
        const message = adaptor.getAttribute(error, "data-mjx-error") || adaptor.textContent(node);
        const extension = autoloaded(message);
        if (extension) deferred.push([i, extension]);
        else errors.push([i, message]);
        html.push(null);
        return;
      }
      adaptor.setStyle(node, "font-size", "calc(1ex / 0.442)");
      adaptor.setAttribute(node, "data-homtrap-prerendered", "");
      html.push(adaptor.outerHTML(node));
    });
    return {html, errors, deferred, css: adaptor.textContent(chtml.styleSheet(doc))};
  });
  fs.writeFileSync(resultPath, JSON.stringify({version: VERSION, pages}));
}

main();
