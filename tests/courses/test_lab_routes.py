"""Every lab proves its grader both ways: other correct routes score full marks and plausible mistakes do
not (`manage.py lab test` runs them all; tests/labs/test_lab_loop.py runs `lab test` on every lab). Here:
each lab ships enough of them, each named for what it does differently."""

from pathlib import Path

import pytest
import yaml

LABS = sorted((Path(__file__).resolve().parents[2] / "courses").glob("*/*/labs/*.yaml"))


@pytest.mark.parametrize("path", LABS, ids=[p.stem for p in LABS])
def test_lab_has_two_alternatives_and_three_near_misses(path):
    lab = yaml.safe_load(path.read_text())
    alternatives, near_misses = lab.get("alternatives") or [], lab.get("near_misses") or []
    assert len(alternatives) >= 2, "add correct routes other than the reference solution"
    assert len(near_misses) >= 3, "add plausible mistakes that must lose points"
    titles = [route["title"] for route in alternatives + near_misses]
    assert len(set(titles)) == len(titles), "each route says what it does differently"
