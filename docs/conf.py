"""Sphinx configuration of the DoJobber documentation (build: sh dev.sh docs)."""

import sys
from pathlib import Path

# Document the dojobber package of this checkout, installed or not.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dojobber  # noqa: E402

project = "DoJobber"
author = "The DoJobber developers"
copyright = "the DoJobber developers; MIT licence"
release = dojobber.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

exclude_patterns = ["_build"]
root_doc = "index"
html_theme = "alabaster"
html_title = f"DoJobber {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# reference/api.rst names the members it wants; show every class's bases.
autodoc_default_options = {"show-inheritance": True}
