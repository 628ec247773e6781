#!/usr/bin/python3
"""Builds the HTML site: Doxygen XML from aio's public headers, then Sphinx.

Run by the //docs:site rule (docs/site.bzl) inside the action's execroot, where
the pages, examples and headers sit at their workspace paths:

  build_site.py --html OUT_HTML --xml OUT_XML --umbrella aio.h --src docs HEADER...

The public headers are the ones aio.h includes, followed transitively, minus
internal/ ones: the API reference covers exactly what `//:aio` exports, and a
header added to aio.h appears without editing this script. Sphinx runs with -W,
so any warning (a broken cross-reference, a missing include region, an inline
C++ block) fails the build. Only Debian's tools at fixed paths are used:
/usr/bin/doxygen and /usr/bin/sphinx-build (not a python3 found on PATH, whose
modules may not include Debian's Sphinx).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def public_headers(umbrella, available, extra):
    """The headers reachable from `umbrella` through quoted includes."""
    seen, todo = [], [umbrella] + list(extra)
    while todo:
        header = todo.pop(0)
        if header in seen or "/internal/" in header or header not in available:
            continue
        seen.append(header)
        with open(header, encoding="utf-8") as f:
            todo.extend(_INCLUDE.findall(f.read()))
    return seen


def write_doxyfile(path, headers, xml_dir, filter_script, warn_log):
    settings = {
        "PROJECT_NAME": "aio",
        "INPUT": " ".join(headers),
        "OUTPUT_DIRECTORY": xml_dir,
        "XML_OUTPUT": ".",
        "GENERATE_XML": "YES",
        "XML_PROGRAMLISTING": "NO",
        "GENERATE_HTML": "NO",
        "GENERATE_LATEX": "NO",
        "FULL_PATH_NAMES": "YES",
        "STRIP_FROM_PATH": os.getcwd(),
        "STRIP_FROM_INC_PATH": os.getcwd(),
        "INPUT_FILTER": f"/usr/bin/python3 {filter_script}",
        "FILTER_SOURCE_FILES": "NO",
        # Every public declaration gets an entry, commented or not; internals and
        # private members do not.
        "EXTRACT_ALL": "YES",
        "EXTRACT_PRIVATE": "NO",
        "EXTRACT_STATIC": "YES",
        "EXTRACT_LOCAL_CLASSES": "NO",
        "EXCLUDE_SYMBOLS": "internal aio::internal *::internal::* std",
        "HIDE_FRIEND_COMPOUNDS": "YES",
        "JAVADOC_AUTOBRIEF": "YES",
        "MARKDOWN_SUPPORT": "YES",
        "AUTOLINK_SUPPORT": "NO",
        "BUILTIN_STL_SUPPORT": "YES",
        "ENABLE_PREPROCESSING": "YES",
        "MACRO_EXPANSION": "NO",
        "SEARCH_INCLUDES": "NO",
        "QUIET": "YES",
        "WARN_LOGFILE": warn_log,
    }
    with open(path, "w", encoding="utf-8") as f:
        for key, value in settings.items():
            f.write(f"{key} = {value}\n")


def tidy_groups(xml_dir):
    """Leaves each header's group (see doxygen_filter.py) with what the header
    defines, so every declaration is rendered once: Doxygen also adds a class
    to the group of a header that only forward-declares it, nested classes
    (rendered inside their class) and members defined out of line in another
    header (rendered with their class)."""
    import xml.etree.ElementTree as ET

    def defined_in(refid):
        path = os.path.join(xml_dir, refid + ".xml")
        if not os.path.exists(path):
            return None, None
        compound = ET.parse(path).getroot().find("compounddef")
        location = compound.find("location")
        return (location.get("file") if location is not None else None), compound.find("compoundname").text

    class_members = set()
    for name in os.listdir(xml_dir):
        if name.startswith(("class", "struct", "union")):
            root = ET.parse(os.path.join(xml_dir, name)).getroot()
            class_members.update(m.get("id") for m in root.iter("memberdef"))
    for name in os.listdir(xml_dir):
        if not name.startswith("group__"):
            continue
        path = os.path.join(xml_dir, name)
        tree = ET.parse(path)
        group = tree.getroot().find("compounddef")
        header = group.find("title").text
        for inner in group.findall("innerclass"):
            file, qualified = defined_in(inner.get("refid"))
            if file != header or qualified.count("::") > 1:
                group.remove(inner)
        for section in group.findall("sectiondef"):
            for member in section.findall("memberdef"):
                if member.find("location").get("file") != header or member.get("id") in class_members:
                    section.remove(member)
                    continue
                # Breathe renders a group's members without their namespace
                # (`wait_for`); name them `aio::wait_for` as C++ does.
                qualified = member.find("qualifiedname")
                if qualified is not None and "::" in (qualified.text or ""):
                    member.find("name").text = qualified.text
            if not section.findall("memberdef"):
                group.remove(section)
        tree.write(path, encoding="UTF-8", xml_declaration=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--html", required=True)
    parser.add_argument("--xml", required=True)
    parser.add_argument("--src", required=True, help="the Sphinx source dir (with conf.py)")
    parser.add_argument("--umbrella", required=True)
    parser.add_argument("--also", action="append", default=[], help="a public header aio.h does not include")
    parser.add_argument("--filter", required=True)
    parser.add_argument("headers", nargs="*")
    args = parser.parse_args()

    headers = public_headers(args.umbrella, set(args.headers) | {args.umbrella}, args.also)
    if len(headers) < 2:
        sys.exit(f"build_site: found no public headers from {args.umbrella}")
    with tempfile.TemporaryDirectory() as tmp:
        doxyfile = os.path.join(tmp, "Doxyfile")
        write_doxyfile(doxyfile, headers, os.path.abspath(args.xml), args.filter, os.path.join(tmp, "doxygen.log"))
        result = subprocess.run(["/usr/bin/doxygen", doxyfile], capture_output=True, text=True)
        if result.returncode != 0 or not os.path.exists(os.path.join(args.xml, "index.xml")):
            sys.stderr.write(result.stdout + result.stderr)
            sys.exit("build_site: doxygen failed")
        tidy_groups(args.xml)
        env = dict(os.environ, AIO_DOXYGEN_XML=os.path.abspath(args.xml), AIO_PUBLIC_HEADERS=" ".join(headers))
        command = ["/usr/bin/sphinx-build", "-q", "-W", "--keep-going", "-b", "html",
                   "-d", os.path.join(tmp, "doctrees"), args.src, args.html]
        result = subprocess.run(command, env=env)
        if result.returncode != 0:
            sys.exit("build_site: sphinx-build failed (warnings are errors)")


if __name__ == "__main__":
    main()
