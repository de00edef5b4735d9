"""Sphinx configuration of the sklearn-mlk documentation.

Build with ``python -m sphinx -W -b html docs docs/_build``. The gallery runs
every script in ``examples/``; with ``SKLEARN_MLK_DOCS_FAST=1`` each runs in
its ``--fast`` mode (few epochs), as CI builds it.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))
import sklearn_mlk  # noqa: E402

# The gallery's scripts import keras themselves: loaded here the quiet way
# first, TensorFlow's start-up lines stay out of the pages.
sklearn_mlk.import_keras()
__version__ = sklearn_mlk.__version__

project = "sklearn-mlk"
author = "the sklearn-mlk developers"
copyright = "the sklearn-mlk developers"
version = release = __version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py.md5",
                    "**/*.codeobj.json", "sg_execution_times.rst"]
myst_heading_anchors = 3

autosummary_generate = True
# scikit-learn's generated metadata-request setters point into its own docs.
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    "exclude-members": "set_fit_request, set_partial_fit_request, set_score_request",
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py$",  # run every script, not only plot_*.py
    "reset_argv": "gallery_argv.reset_argv",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "write_computation_times": False,
}

html_theme = "pydata_sphinx_theme"
html_title = "sklearn-mlk"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path = []
