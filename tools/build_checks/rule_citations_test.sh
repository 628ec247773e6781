#!/usr/bin/env bash
# Every "rule N" in aio's library sources is a rule of docs/design/asyncio_rules.md.
set -euo pipefail
python3 tools/build_checks/rule_citations_check.py . async sync net subprocess
