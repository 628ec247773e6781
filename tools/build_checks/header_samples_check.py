#!/usr/bin/env python3
"""Every C++ sample in a public header's comments is compiled by a test.

A header's comments show samples as blocks of lines indented by three or more
spaces after the `//`. A block is a C++ sample unless it is part of a list (it
opens with a list marker, `*`, `-` or `1.`, or continues the list item on the
line before it) or none of its lines ends with `;`, `{` or `}` (prose and
Python snippets).

Each sample must appear, line by line (leading and trailing spaces ignored), in
a compiled copy: a region of a file under docs/examples/header_samples that
opens with `// [<header path>]` and closes with `// [end]`. In a sample, `...`
inside a line stands for any text, and a line that is only `...` (with an
optional `;` and comment) stands for any number of lines: the copy fills in
what the sample leaves out. A sample edited without its copy, or a copy that
stops compiling, fails the build's tests.

Usage: header_samples_check.py ROOT [HEADER...]: checks the given headers (all
public headers under ROOT's async, sync, net, subprocess and aio.h by default).
"""
import glob
import os
import re
import sys

SAMPLE_LINE = re.compile(r"^//(   .*)$")
LIST_MARKER = re.compile(r"^([*\-]|\d+\.)\s")
LIST_ITEM = re.compile(r"^//\s*([*\-]|\d+\.)\s")
CODE_END = re.compile(r"[;{}]\s*(//.*)?$")
ANY_LINES = re.compile(r"^\.\.\.;?\s*(//.*)?$")
REGION_OPEN = re.compile(r"^\s*// \[([^\]]+)\]\s*$")
REGION_CLOSE = re.compile(r"^\s*// \[end\]\s*$")


def samples(path):
    """Yields (line number, lines) for each C++ sample block of `path`."""
    lines = open(path, encoding="utf-8").read().split("\n")
    block, start = [], 0
    for number, line in enumerate(lines + [""], 1):
        match = SAMPLE_LINE.match(line)
        if match:
            if not block:
                start = number
            block.append(match.group(1).strip())
            continue
        if block:
            before = lines[start - 2] if start >= 2 else ""
            in_list = LIST_MARKER.match(block[0]) or LIST_ITEM.match(before)
            if not in_list and any(CODE_END.search(text) for text in block):
                yield start, block
            block = []


def regions(root):
    """Maps header path -> list of regions (each a list of stripped lines)."""
    found = {}
    pattern = os.path.join(root, "docs/examples/header_samples/*.cc")
    for path in sorted(glob.glob(pattern)):
        current, name = None, None
        for line in open(path, encoding="utf-8"):
            if current is None:
                match = REGION_OPEN.match(line)
                if match:
                    current, name = [], match.group(1)
            elif REGION_CLOSE.match(line):
                found.setdefault(name, []).append(current)
                current = None
            else:
                current.append(line.strip())
    return found


def line_pattern(text):
    return re.compile(".*".join(re.escape(part) for part in text.split("...")))


def matches_at(sample, copy, s, c):
    """Whether sample[s:] matches a contiguous run of copy starting at c."""
    if s == len(sample):
        return True
    if ANY_LINES.match(sample[s]):
        return any(matches_at(sample, copy, s + 1, k) for k in range(c, len(copy) + 1))
    if c < len(copy) and line_pattern(sample[s]).fullmatch(copy[c]):
        return matches_at(sample, copy, s + 1, c + 1)
    return False


def contains(copy, sample):
    return any(matches_at(sample, copy, 0, c) for c in range(len(copy)))


def main(argv):
    root = argv[1] if len(argv) > 1 else "."
    headers = argv[2:] or sorted(
        os.path.relpath(p, root)
        for area in ("async", "sync", "net", "subprocess")
        for p in glob.glob(os.path.join(root, area, "*.h"))) + ["aio.h"]
    copies = regions(root)
    missing, checked = 0, 0
    for header in headers:
        for start, block in samples(os.path.join(root, header)):
            checked += 1
            if not any(contains(copy, block) for copy in copies.get(header, [])):
                missing += 1
                print(f"{header}:{start}: this sample has no compiled copy in a "
                      f"'// [{header}]' region of docs/examples/header_samples/*.cc:")
                for text in block:
                    print(f"    {text}")
    print(f"{checked} samples checked, {missing} without a compiled copy")
    return 1 if missing or not checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
