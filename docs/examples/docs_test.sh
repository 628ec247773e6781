#!/bin/bash
# Every code sample in docs/ is an include of a compiled example: check that each
# `literalinclude` names an existing file and that its region markers exist, so a
# renamed file or a moved marker fails here instead of leaving an empty sample.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
status=0
count=0
# Pages in subdirectories (docs/tutorial/, docs/design/) include relative to
# their own directory, as Sphinx does.
while IFS= read -r page; do
  while IFS=$'\t' read -r line file; do
    count=$((count + 1))
    path=$(realpath -m --relative-to=. "$(dirname "$page")/$file")
    if [[ ! -f "$path" ]]; then
      echo "FAIL: $page:$line includes $file, which does not exist" >&2
      status=1
      continue
    fi
    while IFS= read -r marker; do
      grep -qF -- "$marker" "$path" || { echo "FAIL: $page:$line: $path has no '$marker'" >&2; status=1; }
    done < <(sed -n "$((line + 1)),$((line + 4))p" "$page" | grep -oE '\[(START|END) [^]]+\]')
  done < <(grep -nE '^```\{literalinclude\} ' "$page" | sed -E 's/^([0-9]+):```\{literalinclude\} (.*)$/\1\t\2/')
  # No pasted samples: a ```cpp block in a page would not be compiled.
  if grep -nE '^```(cpp|c\+\+)$' "$page"; then
    echo "FAIL: $page has a pasted C++ block; include a compiled example instead" >&2
    status=1
  fi
done < <(find -L docs -name '*.md' -not -path 'docs/examples/*' | sort)
((count > 0)) || { echo "FAIL: found no literalinclude at all" >&2; exit 1; }
echo "checked $count includes"
exit $status
