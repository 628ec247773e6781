#!/usr/bin/env python3
"""Checks aio's layering: every #include "..." of an aio header must come from
the including file's own target or a target it depends on directly, and a
public header may include another package's internal/ header only when the
target that owns it is visible to the including package (exported for that
purpose, as //async:task_internal is to //net and //sync).

Bazel 4.2.3 with GCC has no layering check of its own (the sandbox offers every
transitive header), so without this a file can include a header its target
never asked for, and the fine-grained targets stop meaning what they say.

BUILD files are Starlark, which for aio's files is Python: each is executed
with stand-ins for the rules that record name, srcs, hdrs, deps and visibility.
Usage: include_check.py ROOT [PACKAGE ...]; prints each violation and exits 1
if there is any.
"""

import glob as globlib
import os
import re
import sys

RULES_WITH_SOURCES = ("cc_library", "cc_binary", "cc_test")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


class Target:
    def __init__(self, package, name, srcs, hdrs, deps, visibility):
        self.package = package
        self.name = name
        self.label = "//%s:%s" % (package, name)
        self.srcs = srcs
        self.hdrs = hdrs
        self.deps = deps
        self.visibility = visibility


def canonical(label, package):
    """//a/b:c for a label written in `package` (":c", "//a/b", "//a/b:c")."""
    if label.startswith(":"):
        return "//%s%s" % (package, label)
    if label.startswith("//"):
        if ":" not in label:
            return "%s:%s" % (label, label.rsplit("/", 1)[-1])
        return label
    return None  # external repositories: not aio's


def load_package(root, package):
    """Executes root/package/BUILD and returns its targets."""
    targets = []
    package_dir = os.path.join(root, package)

    def files(labels):
        result = []
        for label in labels or []:
            if label.startswith(":") or label.startswith("//"):
                continue  # a generated file or another target: not a source
            result.append(os.path.normpath(os.path.join(package, label)))
        return result

    def rule(kind):
        def record(name=None, srcs=None, hdrs=None, deps=None, visibility=None, **_):
            if kind in RULES_WITH_SOURCES:
                targets.append(Target(package, name, files(srcs), files(hdrs),
                                      [d for d in (canonical(d, package) for d in deps or []) if d],
                                      visibility))
        return record

    def glob(include, exclude=None, **_):
        found = set()
        for pattern in include:
            for path in globlib.glob(os.path.join(package_dir, pattern), recursive=True):
                if os.path.isfile(path):
                    found.add(os.path.relpath(path, package_dir))
        for pattern in exclude or []:
            for path in globlib.glob(os.path.join(package_dir, pattern), recursive=True):
                found.discard(os.path.relpath(path, package_dir))
        return sorted(found)

    def load(bzl, *symbols, **aliases):
        if not bzl.startswith("//"):
            return  # @rules_cc and friends: the rules are stood in for below
        path = os.path.join(root, bzl[2:].replace(":", "/").lstrip("/"))
        scope = {}
        with open(path) as source:
            exec(compile(source.read(), path, "exec"), scope)
        for symbol in symbols:
            namespace[symbol] = scope[symbol]
        for alias, symbol in aliases.items():
            namespace[alias] = scope[symbol]

    class Native:
        def __getattr__(self, kind):
            return rule(kind)

    namespace = {"load": load, "glob": glob, "native": Native(),
                 "package": lambda **_: None, "exports_files": lambda *a, **k: None,
                 "select": lambda conditions: conditions.get("//conditions:default", [])}
    for kind in ("cc_library", "cc_binary", "cc_test", "sh_test", "sh_binary", "py_test",
                 "py_binary", "filegroup", "genrule", "test_suite", "alias", "genquery"):
        namespace[kind] = rule(kind)
    path = os.path.join(package_dir, "BUILD")
    if not os.path.exists(path):
        # The self-test's fixture packages: named so that Bazel does not take
        # them for packages of its own.
        path = os.path.join(package_dir, "BUILD.fixture")
    with open(path) as source:
        exec(compile(source.read(), path, "exec"), namespace)
    return targets


def visible_to(target, package):
    visibility = target.visibility or ["//visibility:private"]
    for entry in visibility:
        if entry == "//visibility:public" or target.package == package:
            return True
        if entry.endswith(":__subpackages__"):
            base = entry[2:-len(":__subpackages__")]
            if base == "" or package == base or package.startswith(base + "/"):
                return True
        if entry.endswith(":__pkg__") and entry[2:-len(":__pkg__")] == package:
            return True
    return False


def check(root, packages):
    targets = {}
    for package in packages:
        for target in load_package(root, package):
            targets[target.label] = target
    owners = {}
    for target in targets.values():
        for header in target.hdrs + [s for s in target.srcs if s.endswith(".h")]:
            owners.setdefault(header, []).append(target)

    problems = []
    for target in targets.values():
        reachable = {target.label} | set(target.deps)
        for source in target.srcs + target.hdrs:
            path = os.path.join(root, source)
            if not os.path.isfile(path):
                continue
            with open(path, errors="replace") as text:
                includes = INCLUDE.findall(text.read())
            for header in includes:
                if header not in owners:
                    continue  # a system or third-party header
                providers = owners[header]
                if not any(p.label in reachable for p in providers):
                    problems.append("%s (in %s) includes \"%s\", which belongs to %s, not a dependency of %s"
                                    % (source, target.label, header,
                                       " or ".join(p.label for p in providers), target.label))
                    continue
                header_package = providers[0].package
                is_public_header = source in target.hdrs and "/internal/" not in "/" + source
                if (is_public_header and "/internal/" in "/" + header and header_package != target.package
                        and not any(visible_to(p, target.package) for p in providers)):
                    problems.append("public header %s includes %s, an internal header of //%s that is not "
                                    "exported to //%s" % (source, header, header_package, target.package))
    return problems


def main(argv):
    if len(argv) < 2:
        print("usage: include_check.py ROOT [PACKAGE ...]", file=sys.stderr)
        return 2
    root = argv[1]
    packages = argv[2:]
    problems = check(root, packages)
    for problem in problems:
        print(problem)
    if problems:
        print("%d layering problem(s): add the dependency, or include the header of a target you "
              "depend on" % len(problems))
        return 1
    print("layering clean: %s" % ", ".join("//" + p for p in packages))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
