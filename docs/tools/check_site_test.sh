#!/bin/bash
# Runs one check of docs/tools/check_site.py on the built site:
#   check_site_test.sh links|search|reference [ARGS...]
# (the site is the tree artifact //docs:site, docs/site_html in the runfiles).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
check=$1
shift
case "$check" in
  reference) exec /usr/bin/python3 docs/tools/check_site.py reference docs/site_html docs/site_doxygen_xml ;;
  *) exec /usr/bin/python3 docs/tools/check_site.py "$check" docs/site_html "$@" ;;
esac
