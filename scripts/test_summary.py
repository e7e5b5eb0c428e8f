#!/usr/bin/env python
"""Summarise the JUnit reports of scripts/test.sh: one line per layer, then the totals.

Usage: python scripts/test_summary.py artifacts/test-reports
The last line reads ``N passed, N failed, N skipped`` over every layer that ran.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ORDER = ("unit", "notebooks", "browser", "pdf", "env")


def layer_counts(report: Path) -> dict[str, float]:
    """Passed, failed (failures + errors), skipped and seconds of one JUnit report."""
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    seconds = sum(float(s.get("time", 0.0)) for s in suites)
    return {"passed": tests - failed - skipped, "failed": failed, "skipped": skipped, "seconds": seconds}


def main(directory: str) -> int:
    reports = {p.stem: p for p in Path(directory).glob("*.xml")}
    total = {"passed": 0, "failed": 0, "skipped": 0}
    print("layer        passed  failed  skipped   seconds")
    for name in sorted(reports, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
        c = layer_counts(reports[name])
        print(f"{name:<12} {c['passed']:>6}  {c['failed']:>6}  {c['skipped']:>7}  {c['seconds']:>8.1f}")
        for key in total:
            total[key] += int(c[key])
    print(f"{total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "artifacts/test-reports"))
