"""aio's Sphinx extension: the rule for code on the site, the name tables, and
the reference of public headers no page has placed yet.

Every C++ sample on a page must be a compiled example included by region
(`literalinclude`), never a pasted copy: a pasted block would not be compiled or
run by any test. After each page is read, any C++ literal block that did not
come from a file is reported as a warning, and the site is built with -W, so the
build fails and names the page and line. The API reference pages (api/) are
exempt: their code comes from the headers' own comments through Breathe.
"""
import os
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

_CPP = {"cpp", "c++", "cxx", "cc", "c", "h", "hpp", "objective-c++"}


def _check_inline_cpp(app, doctree):
    docname = app.env.docname
    if docname.startswith("api/"):
        return
    for block in doctree.findall(nodes.literal_block):
        language = (block.get("language") or "").lower()
        if language not in _CPP:
            continue
        if block.get("source") and block.get("source") != doctree.get("source"):
            continue  # literalinclude: the text comes from a (compiled) file
        logger.warning(
            "inline C++ block: include a compiled example from docs/examples by region "
            "(```{literalinclude} examples/x.cc with :start-after:/:end-before:) instead of pasting code",
            location=block,
            type="aio",
            subtype="inline_cpp",
        )


def setup(app):
    app.connect("doctree-read", _check_inline_cpp)
    app.add_directive("aio-name-tables", NameTables)
    app.add_directive("aio-unclaimed-headers", UnclaimedHeaders)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


class NameTables(SphinxDirective):
    """```{aio-name-tables}``` with one page per line: the "asyncio → aio" table
    of each page, gathered on one page under the page's title. The tables stay
    where they are maintained (next to the behaviour they summarize) and this
    page is rebuilt from them, so the two never disagree."""

    has_content = True

    def run(self):
        result = []
        for line in self.content:
            page = line.strip()
            if not page:
                continue
            path = os.path.normpath(os.path.join(os.path.dirname(self.env.doc2path(self.env.docname)), page))
            self.env.note_dependency(path)
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except OSError as error:
                raise self.error(f"aio-name-tables: cannot read {page}: {error}")
            title = re.search(r"^# (.+)$", text, re.M)
            table = re.search(r"^## asyncio → aio\n(.*?)(?=^#|\Z)", text, re.M | re.S)
            if not title or not table:
                raise self.error(f"aio-name-tables: {page} has no title or no '## asyncio → aio' section")
            rows = [row for row in table.group(1).splitlines() if row.startswith("|")]
            if len(rows) < 3:
                raise self.error(f"aio-name-tables: the asyncio → aio section of {page} has no table")
            lines = [f"**{title.group(1)}** ([the page]({page}#asyncio--aio))", ""] + rows + [""]
            container = nodes.container(classes=["aio-name-table"])
            self.state.nested_parse(StringList(lines, source=path), self.content_offset, container)
            result.append(container)
        return result


class UnclaimedHeaders(SphinxDirective):
    """```{aio-unclaimed-headers}```: the reference of every public header
    (AIO_PUBLIC_HEADERS, set by build_site.py from aio.h's includes) that no
    other page of this directory renders with `doxygengroup`. A header just
    added to aio.h is in the reference at once, here, until someone gives it a
    place on the page of its area."""

    def run(self):
        from doxygen_filter import group_name  # docs/tools, on sys.path (conf.py)

        page = self.env.doc2path(self.env.docname)
        directory = os.path.dirname(page)
        claimed = set()
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if name.endswith(".md") and path != page:
                self.env.note_dependency(path)
                with open(path, encoding="utf-8") as f:
                    claimed.update(re.findall(r"^```\{doxygengroup\} (\S+)", f.read(), re.M))
        xml_dir = self.config.breathe_projects.get(self.config.breathe_default_project, "")
        lines = []
        for header in os.environ.get("AIO_PUBLIC_HEADERS", "").split():
            group = group_name(header)
            xml = os.path.join(xml_dir, "group__" + group.replace("_", "__") + ".xml")
            if group in claimed or not os.path.exists(xml):
                continue  # placed on an area's page, or declares nothing (aio.h)
            lines += [f"**`{header}`**", "", f"```{{doxygengroup}} {group}", ":project: aio", ":members:", "```", ""]
        if not lines:
            lines = ["Every public header is on the page of its area."]
        container = nodes.container(classes=["aio-unclaimed-headers"])
        self.state.nested_parse(StringList(lines, source=page), self.content_offset, container)
        return [container]
