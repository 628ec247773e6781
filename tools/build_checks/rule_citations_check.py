#!/usr/bin/env python3
"""Checks that aio's citations of asyncio's behaviour rules lead somewhere.

Comments and tests say "rule 10" or "rules 32-35": the numbers of
docs/design/asyncio_rules.md, where each rule has the anchor rule-N. This fails
when a source file cites a rule the page does not have, or cites rules without
naming the page, so that a newcomer reading "rule 29" can always find it.
Usage: rule_citations_check.py ROOT DIRECTORY...
"""

import os
import re
import sys

RULES_PAGE = "docs/design/asyncio_rules.md"
CITATION = re.compile(r"\brules? (\d+)(?:\s*(?:-|–|and|,)\s*(\d+))*")
NUMBER = re.compile(r"\d+")


def cited_numbers(text):
    for match in CITATION.finditer(text):
        span = match.group(0)
        numbers = [int(n) for n in NUMBER.findall(span)]
        if "-" in span or "–" in span:
            low, high = numbers[0], numbers[-1]
            yield from range(low, high + 1)
        else:
            yield from numbers


def main(argv):
    root = argv[1]
    with open(os.path.join(root, RULES_PAGE)) as page:
        anchors = {int(n) for n in re.findall(r"^\(rule-(\d+)\)=", page.read(), re.MULTILINE)}
    if not anchors:
        print("%s defines no (rule-N)= anchors" % RULES_PAGE)
        return 1
    problems = []
    for directory in argv[2:]:
        for folder, _, files in os.walk(os.path.join(root, directory)):
            for name in sorted(files):
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.join(folder, name)
                with open(path, errors="replace") as source:
                    text = source.read()
                numbers = sorted(set(cited_numbers(text)))
                if not numbers:
                    continue
                relative = os.path.relpath(path, root)
                missing = [n for n in numbers if n not in anchors]
                if missing:
                    problems.append("%s cites rule(s) %s, which %s does not have"
                                    % (relative, ", ".join(map(str, missing)), RULES_PAGE))
                if RULES_PAGE not in text:
                    problems.append("%s cites asyncio rules but does not name %s" % (relative, RULES_PAGE))
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print("every rule cited in %s is in %s" % (", ".join(argv[2:]), RULES_PAGE))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
