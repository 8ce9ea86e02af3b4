"""`manage.py course stats [--json]`: lessons, labs and questions per module."""

import json
from io import StringIO
from pathlib import Path

from django.core.management import call_command

PRACTICE = Path(__file__).parent.parent / "quizzes" / "fixtures"


def run(*args) -> str:
    out = StringIO()
    call_command("course", "stats", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_stats_json():
    data = json.loads(run("--json", "--dir", str(PRACTICE)))
    assert data == {
        "course": "practice",
        "modules": [
            {"slug": "storage", "title": "Storage", "lessons": 1, "labs": 1, "questions": 30},
            {"slug": "compute", "title": "Compute", "lessons": 1, "labs": 0, "questions": 25},
            {"slug": "network", "title": "Networking", "lessons": 1, "labs": 0, "questions": 15},
        ],
        "totals": {"modules": 3, "lessons": 3, "labs": 1, "questions": 70},
    }


def test_stats_plain_text():
    text = run("--dir", str(PRACTICE))
    lines = text.splitlines()
    assert lines[0] == "Practice course (practice)"
    assert lines[1].split() == ["module", "lessons", "labs", "questions"]
    assert lines[2].split() == ["storage", "1", "1", "30"]
    assert lines[-1].split() == ["total", "3", "1", "70"]


def test_stats_of_the_real_course():
    data = json.loads(run("--json"))
    assert data["course"] == "aws-developer"
    assert {"iam", "ec2", "s3"} <= {m["slug"] for m in data["modules"]}
    assert data["totals"]["lessons"] == sum(m["lessons"] for m in data["modules"])
