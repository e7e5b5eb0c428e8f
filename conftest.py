"""Test layers: every collected test gets exactly one layer marker from where it lives.

==============  =====================================================  ===========================
marker          what                                                   where
==============  =====================================================  ===========================
``unit``        unit, property and doctests of homtrap                 ``homtrap/``, ``tests/``
``notebooks``   every chapter re-executed under strict nbval           ``book/*.ipynb``
``browser``     every page of the built book in headless Chromium      ``tests/test_browser.py``
``pdf``         the printed PDF holds every chapter                    ``tests/test_browser.py``
``env``         reader environments rebuilt (Colab-like, Binder-like)  ``tests/test_*_env.py``
==============  =====================================================  ===========================

``scripts/test.sh`` runs every layer (notebooks, browser, then pdf in the background beside unit
and env; ``bash scripts/test.sh unit`` runs one);
``pytest -m unit`` selects a layer by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
LAYERS = ("unit", "notebooks", "browser", "pdf", "env")


def layer_of(item: pytest.Item) -> str:
    """The layer of a collected test, from its file (and, in the browser file, its name)."""
    path = Path(str(item.fspath)).resolve()
    if path.suffix == ".ipynb":
        return "notebooks"
    if path.name == "test_browser.py":
        return "pdf" if "pdf" in item.name else "browser"
    if path.name.endswith("_env.py"):
        return "env"
    return "unit"


#: warnings filters every test of a layer gets on top of pyproject.toml's: the unit layer (homtrap's
#: own code and tests, nothing a reader's environment decides) lets no DeprecationWarning pass,
#: homtrap's own renames included (tests of the old names catch them with pytest.warns)
LAYER_FILTERS = {"unit": ("error::DeprecationWarning",)}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        layer = layer_of(item)
        item.add_marker(getattr(pytest.mark, layer))
        for spec in LAYER_FILTERS.get(layer, ()):
            item.add_marker(pytest.mark.filterwarnings(spec))
