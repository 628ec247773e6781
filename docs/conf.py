# Sphinx configuration of aio's documentation site (built by //docs:site, see
# docs/site.bzl and docs/tools/build_site.py). Pages are MyST Markdown; the API
# reference comes from the public headers through Doxygen XML and Breathe.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools"))

project = "aio"
author = "the aio authors"
copyright = "the aio authors, Apache License 2.0"

extensions = [
    "myst_parser",
    "breathe",
    "aio_sphinx",  # docs/tools/aio_sphinx.py: no inline C++ blocks in pages
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["examples/**", "tools/**", "README.md"]

# `[text](page.md#a-heading)` links resolve to headings down to level 3.
myst_heading_anchors = 3

primary_domain = "cpp"
highlight_language = "none"

breathe_projects = {"aio": os.environ.get("AIO_DOXYGEN_XML", "")}
breathe_default_project = "aio"
breathe_default_members = ("members", "undoc-members")
breathe_show_include = True

html_theme = "furo"
html_title = "aio"
html_short_title = "aio"
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "navigation_with_keys": True,
}

# A C++ cross-reference on a page ({cpp:func}`aio::wait_for`) that names nothing
# in the reference fails the build. References Breathe makes from the headers'
# signatures to std:: types, template parameters and internals are not checked.
nitpicky = True
nitpick_ignore_regex = [
    (r"cpp:.*", r"(?!aio::).*"),
    (r"cpp:.*", r"aio::internal(::.*)?"),
    (r"std:ref", r".*_8h"),  # Breathe's links to header files, which have no page
]

html_static_path = ["_static"]
html_css_files = ["aio.css"]
