"""Sphinx configuration of the sklipschitz documentation site.

Build it with ``pip install -e ".[docs]"`` then
``sphinx-build -W -b html docs docs/_build/html`` (warnings are errors).
The gallery runs every script of ``examples/`` during the build.
"""

import os
import pathlib
import sys
import warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The working tree's package first, so the API reference and the gallery
# document the code being built even without an editable install.
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")
# The gallery's fits are small: one BLAS thread each is faster than several
# competing for the cores (set before numpy is first imported).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sklipschitz  # noqa: E402

project = "sklipschitz"
author = "the sklipschitz developers"
copyright = "the sklipschitz developers"
release = sklipschitz.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    # sphinx-gallery's per-build timing pages are not part of the site
    "sg_execution_times.rst",
    "auto_examples/sg_execution_times.rst",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
]

# -- API reference --------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False



def _skip_scikit_learn_members(app, what, name, obj, skip, options):
    """Leave out the members a class inherits from scikit-learn's base classes.

    Their docstrings refer to labels of scikit-learn's own site; the class
    page says which of them it has (``_templates/class.rst``).
    """
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and module.split(".")[0] == "sklearn":
        return True
    return None


RESULTS_TITLE = "# Results\n\n"


def _title_results_page(app, docname, source):
    """Give ``results/compare.md`` a title.

    The page is written by ``sklipschitz compare --out docs/results`` and
    starts with the command line, not a heading; the title is added here so
    that rewriting the page keeps it.
    """
    if docname == "results/compare" and not source[0].lstrip().startswith("#"):
        source[0] = RESULTS_TITLE + source[0]


def setup(app):
    app.connect("autodoc-skip-member", _skip_scikit_learn_members)
    app.connect("source-read", _title_results_page)


# -- Markdown pages (the user guide) ---------------------------------------
myst_enable_extensions = ["dollarmath", "deflist"]
myst_heading_anchors = 3

# -- Gallery ---------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "within_subsection_order": "FileNameSortKey",
    "reference_url": {"sklipschitz": None},
    "doc_module": ("sklipschitz",),
    "backreferences_dir": "auto_examples/backreferences",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "min_reported_time": 1,
}

# ``plt.show()`` at the end of each example warns under the Agg backend.
warnings.filterwarnings("ignore", category=UserWarning,
                        message="Matplotlib is currently using agg")

# -- HTML ------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklipschitz {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"changelog": [], "getting_started": []}
html_show_sourcelink = False
