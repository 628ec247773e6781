#!/usr/bin/python3
"""Checks a built site: links and anchors, the search index, the API reference.

  check_site.py links SITE_HTML
      Walks every generated page and fails on a link to a file that is not in
      the site or to an anchor (#id) that the target page does not define.
      External links (http:, https:, mailto:) are listed, not fetched: the
      build machine is offline.
  check_site.py search SITE_HTML NAME...
      Fails unless Sphinx's search index (searchindex.js, what the search box
      uses) has an object for each NAME, e.g. aio::wait_for.
  check_site.py reference SITE_HTML DOXYGEN_XML
      Fails unless every public class and function Doxygen found in the public
      headers has an entry in the site (a C++ object in the search index), and
      lists those without a contract comment.
"""
import html
import html.parser
import json
import os
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []  # (attribute value, line)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if key in attrs and attrs[key] is not None:
                if tag == "link" and attrs.get("rel") in ("preconnect", "dns-prefetch"):
                    continue
                self.links.append((attrs[key], self.getpos()[0]))


def _parse(path, cache):
    if path not in cache:
        page = _Page()
        with open(path, encoding="utf-8", errors="replace") as f:
            page.feed(f.read())
        cache[path] = page
    return cache[path]


def check_links(root):
    root = os.path.abspath(root)
    cache, errors, external, checked = {}, [], set(), 0
    pages = []
    for directory, _, files in os.walk(root):
        pages += [os.path.join(directory, name) for name in files if name.endswith(".html")]
    if not pages:
        return [f"no HTML pages under {root}"], 0, external
    for page_path in sorted(pages):
        page = _parse(page_path, cache)
        relative = os.path.relpath(page_path, root)
        for link, line in page.links:
            parsed = urllib.parse.urlsplit(link)
            if parsed.scheme in ("http", "https", "mailto"):
                external.add(link)
                continue
            if parsed.scheme in ("data", "javascript") or link.startswith("//"):
                continue
            if parsed.scheme:
                errors.append(f"{relative}:{line}: unexpected link scheme: {link}")
                continue
            checked += 1
            target = page_path if not parsed.path else os.path.normpath(
                os.path.join(os.path.dirname(page_path), urllib.parse.unquote(parsed.path)))
            if os.path.isdir(target):
                target = os.path.join(target, "index.html")
            if not target.startswith(root + os.sep):
                errors.append(f"{relative}:{line}: link leaves the site: {link}")
                continue
            if not os.path.isfile(target):
                errors.append(f"{relative}:{line}: broken link: {link}")
                continue
            fragment = urllib.parse.unquote(parsed.fragment)
            if fragment and target.endswith(".html") and fragment not in _parse(target, cache).ids:
                errors.append(f"{relative}:{line}: no anchor #{fragment} in {os.path.relpath(target, root)}: {link}")
    return errors, checked, external


def load_search_index(root):
    with open(os.path.join(root, "searchindex.js"), encoding="utf-8") as f:
        text = f.read()
    match = re.fullmatch(r"\s*Search\.setIndex\((.*)\)\s*", text, re.S)
    if not match:
        raise SystemExit("searchindex.js is not Search.setIndex({...})")
    return json.loads(match.group(1))


def normalize(name):
    """A C++ name as both sides write it: the index HTML-escapes it and Doxygen
    spaces template arguments ('aio::Caught< void, E >')."""
    return re.sub(r"\s+", "", html.unescape(name))


def indexed_objects(index):
    """The full names of the objects in the index ('aio::wait_for', ...),
    normalized."""
    names = set()
    for prefix, entries in index["objects"].items():
        for entry in entries:
            name = entry[4] if len(entry) > 4 else entry[-1]
            names.add(normalize(f"{prefix}.{name}" if prefix else name))
    return names


def check_search(root, wanted):
    names = indexed_objects(load_search_index(root))
    return [f"search index has no object {name}" for name in wanted if normalize(name) not in names], len(names)


def check_reference(root, xml_dir):
    names = indexed_objects(load_search_index(root))
    errors, undocumented, count = [], [], 0
    index = ET.parse(os.path.join(xml_dir, "index.xml")).getroot()
    for compound in index.findall("compound"):
        kind, name = compound.get("kind"), compound.find("name").text
        if kind in ("class", "struct") and name.startswith("aio::") and "::internal" not in name:
            expected = [name]
        elif kind == "group":
            expected = []
        else:
            continue
        path = os.path.join(xml_dir, compound.get("refid") + ".xml")
        definition = ET.parse(path).getroot().find("compounddef")
        if definition.get("prot", "public") != "public":
            continue  # a private nested class (an awaiter, a timer node)
        if expected:
            if not "".join(definition.find("briefdescription").itertext()).strip() and \
               not "".join(definition.find("detaileddescription").itertext()).strip():
                undocumented.append(name)
        for member in definition.iter("memberdef"):
            if member.get("kind") != "function" or member.get("prot") != "public":
                continue
            qualified = member.find("qualifiedname")
            member_name = qualified.text if qualified is not None else member.find("name").text
            if kind == "group" and "::" not in member_name:
                member_name = "aio::" + member_name
            if "::internal" in member_name or not member_name.startswith("aio::"):
                continue
            expected.append(member_name)
            if re.search(r"=\s*(delete|default)\s*$", member.find("argsstring").text or ""):
                continue  # a deleted or defaulted member says all there is to say
            if not "".join(member.find("briefdescription").itertext()).strip() and \
               not "".join(member.find("detaileddescription").itertext()).strip():
                undocumented.append(member_name)
        for name in expected:
            count += 1
            if normalize(name) not in names:
                errors.append(f"no reference entry for {name}")
    return sorted(set(errors)), count, sorted(set(undocumented))


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    command, root = sys.argv[1], sys.argv[2]
    if command == "links":
        errors, checked, external = check_links(root)
        for link in sorted(external):
            print(f"external (not fetched): {link}")
        print(f"checked {checked} internal links and anchors")
    elif command == "search":
        errors, count = check_search(root, sys.argv[3:])
        print(f"the search index has {count} objects")
    elif command == "reference":
        errors, count, undocumented = check_reference(root, sys.argv[3])
        for name in undocumented:
            print(f"no contract comment: {name}")
        print(f"checked {count} public classes and functions, {len(undocumented)} without a comment")
    else:
        raise SystemExit(__doc__)
    for error in errors:
        print(f"FAIL: {error}", file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
