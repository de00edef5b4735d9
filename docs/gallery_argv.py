"""The gallery scripts' command line (named in conf.py by its dotted path, so
that Sphinx can cache the configuration)."""

import os


def reset_argv(gallery_conf, script_vars):
    """Each script's fast mode (few epochs) when SKLEARN_MLK_DOCS_FAST=1."""
    return ["--fast"] if os.environ.get("SKLEARN_MLK_DOCS_FAST") == "1" else []
