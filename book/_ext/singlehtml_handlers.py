"""Sphinx extension: the single-page build renders every node the HTML build renders.

Sphinx looks up the visitors of extension nodes by builder *name* and falls back to the builder
*format* ("html") only when no extension registered anything for that name
(``SphinxComponentRegistry.create_translator``). sphinx-exercise registers its nodes for
``singlehtml`` explicitly, so after it is loaded the fallback never happens and every node that
another extension registered for ``html`` only (sphinx-proof's theorem boxes, among others) is
unknown to the ``singlehtml`` builder, which then fails (the route of ``scripts/build_pdf.sh``).
This restores the fallback: for ``singlehtml`` every ``html`` visitor that has no ``singlehtml``
counterpart is used as it was before sphinx-exercise was added.
"""

from __future__ import annotations


def _restore_html_fallback(app) -> None:
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for name, visitors in handlers.get("html", {}).items():
        single.setdefault(name, visitors)


def setup(app):
    app.connect("builder-inited", _restore_html_fallback)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
