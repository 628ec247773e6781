#!/usr/bin/python3
"""Doxygen INPUT_FILTER: reads aio's headers as Doxygen comments.

aio's headers are commented abseil-style, with plain `//` lines (the header
comments are the contract; see docs/design/build.md). Doxygen only reads `///`
comments, so this filter, given a header's path, prints the header with:

- the file's opening comment block copied into the description of a Doxygen
  group named after the header (async/task.h -> async_task), which holds the
  header's declarations and which the API pages render with `doxygengroup`;
- each `//` block that sits directly above a declaration, in namespace, class
  or enum scope, turned into `///` so it documents that declaration.

Comments inside function bodies, section rulers (`// --- x ---`), comments
followed by a blank line and trailing comments stay plain. Indented runs in a
doc comment (usage sketches) become fenced code blocks so they keep their
layout. (Rendering headers with `doxygenfile` instead would repeat the
enclosing namespace once per header, which Sphinx rejects as a duplicate.)
"""
import os
import re
import sys

_COMMENT = re.compile(r"^(\s*)//(?!/)(.*)$")


def _strip_angles(text):
    """Removes balanced <...> groups (template parameters and arguments)."""
    out, depth = [], 0
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    return "".join(out)


def _is_declaration_scope(head):
    """Whether the `{` that ends `head` opens a namespace, class or enum."""
    head = _strip_angles(head)
    if re.search(r"\bnamespace\b", head):
        return True
    if re.search(r'\bextern\s*"C"', head):
        return True
    return bool(re.search(r"\b(class|struct|union|enum)\b", head)) and "(" not in head and "=" not in head


class _Scanner:
    """Tracks which braces are open, line by line, skipping comments and literals."""

    def __init__(self):
        self.stack = []  # True for a declaration scope, False for a body/initializer
        self.head = []  # code since the last ; { or }
        self.in_block_comment = False

    def in_declaration_scope(self):
        return all(self.stack)

    def feed(self, line):
        if not self.in_block_comment and line.lstrip().startswith("#"):
            return  # preprocessor line
        i, n = 0, len(line)
        while i < n:
            ch = line[i]
            if self.in_block_comment:
                end = line.find("*/", i)
                if end < 0:
                    return
                self.in_block_comment = False
                i = end + 2
                continue
            if line.startswith("//", i):
                return
            if line.startswith("/*", i):
                self.in_block_comment = True
                i += 2
                continue
            if line.startswith('R"', i) and (i == 0 or not (line[i - 1].isalnum() or line[i - 1] == "_")):
                match = re.match(r'R"([^(]*)\(', line[i:])
                if match:
                    end = line.find(")" + match.group(1) + '"', i)
                    i = n if end < 0 else end + len(match.group(1)) + 2
                    continue
            if ch == '"' or (ch == "'" and not (i > 0 and line[i - 1].isalnum())):
                j = i + 1
                while j < n and line[j] != ch:
                    j += 2 if line[j] == "\\" else 1
                i = j + 1
                continue
            if ch == "{":
                self.stack.append(self.in_declaration_scope() and _is_declaration_scope("".join(self.head)))
                self.head = []
            elif ch == "}":
                if self.stack:
                    self.stack.pop()
                self.head = []
            elif ch == ";":
                self.head = []
            else:
                self.head.append(ch)
            i += 1
        self.head.append(" ")
        if re.fullmatch(r"\s*(public|private|protected)\s*:\s*", "".join(self.head)):
            self.head = []


def _doc_block(lines):
    """Rewrites one comment block as `///` lines; indented runs (usage
    sketches) become fenced code blocks so they keep their layout."""
    out = []
    in_code = False
    previous = ""
    for indent, text in lines:
        body = text[1:] if text.startswith(" ") else text
        sketch = bool(body.startswith("  ") and body.strip())
        # A sketch is an indented paragraph; an indented line right under text
        # is a list item's continuation.
        if sketch and not in_code and previous.strip():
            sketch = False
        previous = body
        if sketch and not in_code:
            out.append(f"{indent}/// ~~~{{.cpp}}")
            in_code = True
        elif in_code and not sketch:
            out.append(f"{indent}/// ~~~")
            in_code = False
        out.append(f"{indent}/// {body[2:] if sketch else body}".rstrip())
    if in_code:
        out.append(f"{lines[-1][0]}/// ~~~")
    return out


def filter_header(text):
    """Returns the header with its doc comments, and its overview's lines."""
    lines = text.split("\n")
    overview = []
    scanner = _Scanner()
    out = []
    i = 0
    while i < len(lines):
        match = _COMMENT.match(lines[i])
        if not match or not scanner.in_declaration_scope() or scanner.in_block_comment or "".join(scanner.head).strip():
            scanner.feed(lines[i])
            out.append(lines[i])
            i += 1
            continue
        block = []
        j = i
        while j < len(lines):
            m = _COMMENT.match(lines[j])
            if not m or m.group(2).lstrip().startswith("---") or m.group(2).lstrip().startswith("IWYU"):
                break
            block.append((m.group(1), m.group(2)))
            j += 1
        following = lines[j] if j < len(lines) else ""
        is_file_comment = i == 0
        attaches = following.strip() and not following.lstrip().startswith(("#", "}", "public:", "private:", "protected:", "//"))
        if block and is_file_comment:
            # The overview becomes the description of the header's group.
            overview = [line.lstrip()[3:] for line in _doc_block(block)]
            out.extend(lines[i:j])
        elif block and attaches:
            out.extend(_doc_block(block))
        else:
            out.extend(lines[i:j] if block else [lines[i]])
            j = max(j, i + 1)
        i = j
    return "\n".join(out), overview


def group_name(path):
    """The Doxygen group of a header: async/task.h -> async_task."""
    return re.sub(r"[^A-Za-z0-9]", "_", re.sub(r"\.h$", "", path))


def add_group(text, overview, path):
    """Puts the header's declarations in a group named after it, so a page can
    render one header's API with `doxygengroup` (rendering files with
    `doxygenfile` repeats the enclosing namespace once per header). The group
    opens inside each top-level `namespace aio {` so that its members, not the
    namespace, belong to it."""
    name = group_name(path)
    out = []
    depth = 0  # nesting of top-level `namespace aio` blocks
    defined = False
    for line in text.split("\n"):
        if line.startswith("}  // namespace aio") and depth:
            out.append("/** @} */")
            depth -= 1
        out.append(line)
        if line.startswith("namespace aio {"):
            depth += 1
            # /** */ blocks, so they do not merge with a /// block below.
            if defined:
                out.append(f"/** \\addtogroup {name}")
            else:
                out.append(f"/** \\defgroup {name} {path}")
                out.extend(line.replace("*/", "* /") for line in overview)
            out.append("    @{ */")
            defined = True
    return "\n".join(out)


def main():
    path = sys.argv[1]
    with open(path, encoding="utf-8") as header:
        text, overview = filter_header(header.read())
    sys.stdout.write(add_group(text, overview, os.path.relpath(path)))


if __name__ == "__main__":
    main()
