"""Sphinx configuration: furo theme, MyST Markdown pages, API reference from the docstrings."""

from __future__ import annotations

import fwbatch_async

project = "fwbatch_async"
author = "fwbatch_async developers"
copyright = "2026, fwbatch_async developers"
release = fwbatch_async.__version__
version = release

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True

html_theme = "furo"
html_title = f"fwbatch_async {release}"
