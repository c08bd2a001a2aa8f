"""Sphinx configuration: MyST Markdown pages, API reference from docstrings (autodoc + napoleon)."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "NeuralMag"
author = "NeuralMag developers"
copyright = "NeuralMag developers"

try:
    from neuralmag import __version__ as release
except ImportError:  # building the docs without the package installed
    release = "dev"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True

try:
    import furo  # noqa: F401

    html_theme = "furo"
except ImportError:
    html_theme = "alabaster"
html_title = "NeuralMag"
