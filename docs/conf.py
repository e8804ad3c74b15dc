"""Sphinx configuration of the course's site: ``make site`` (or ``python -m gm_helpers.course site``).

The pages are the committed, executed notebooks, rendered by myst-nb and never re-executed
(``nb_execution_mode = "off"``). Sphinx reads sources only from inside this folder, so the
extension ``gm_helpers.course.site`` writes, when each build starts, the generated sources next to
this file: ``lectures/`` (a copy of each lecture prepared for the web: a launch and download box,
checks and solutions folded, no widget state), ``_notebooks/`` (the notebooks and their student
copies, to download), ``claims/`` and ``tests/`` (the claims ledgers and the tests they cite) and
``checkpoints.md``. They are git-ignored and rewritten only when their text changes; edit the
lectures, ledgers and tests, never these copies. ``index.md`` and ``instructors.md`` are written
by hand. Launch links come from course.toml's ``[hosting]`` (``GM_COURSE_TOML`` names another
file). Nothing is fetched at build time, and the pages load nothing from the network: MathJax is
bundled (sphinx-mathjax-offline's copy), the theme's fonts and icons are its own.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the checkout's gm_helpers

from gm_helpers.course import hosting, site  # noqa: E402

HOST = site.hosting_settings()

project = "Deep generative models: interactive lectures"
author = "the course maintainers"
copyright = "the course maintainers; lecture text and figures CC BY 4.0, code MIT (see LICENSE)"
extensions = ["myst_nb", "sphinx.ext.mathjax", "sphinx.ext.githubpages", "gm_helpers.course.site"]
exclude_patterns = ["_build", "_notebooks", "screenshots", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]

# the notebooks as committed: executed by `python -m gm_helpers.course execute`, checked by nbval
nb_execution_mode = "off"
nb_ipywidgets_js = {}          # no widget state on the pages (no kernel behind a static page)
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# MathJax from this machine (bundled into _static/mathjax by the site extension), never a CDN
mathjax_path = "mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_title = "Deep generative models"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_favicon = "_static/favicon.svg"
html_context = {"default_mode": "auto"}   # light or dark as the reader's system is
html_last_updated_fmt = None
html_copy_source = False        # the notebooks are downloads of their own; no second copy
html_show_sourcelink = False
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": False,   # each lecture has its own download links (and student copy)
    "use_fullscreen_button": True,
    "launch_buttons": {},           # each lecture has its own, derived from course.toml
    "path_to_docs": "docs",
    "navigation_with_keys": False,
}
if HOST.configured:
    html_theme_options.update(repository_url=hosting.repository_url(HOST), repository_branch=HOST.branch,
                              use_repository_button=True)
if HOST.site_url:
    html_baseurl = HOST.site_url
