"""Every link and image in a lesson resolves (other lessons, #anchors, labs, images/<name>.svg), and relative
ones are rewritten to their routes at load time. Also: the real course content passes `loadcourses --check`."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from labapp.courses.loader import scan

FIXTURES = Path(__file__).parent / "fixtures"
SECOND = "demo/basics/lessons/02-second.md"


@pytest.fixture
def root(tmp_path) -> Path:
    dest = tmp_path / "courses"
    shutil.copytree(FIXTURES, dest)
    return dest


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def lesson(result, slug):
    return next(le for c in result.courses for m in c.modules for le in m.lessons if le.slug == slug)


def test_relative_links_and_images_are_rewritten_to_routes(root):
    result = scan(root)
    assert result.errors == []
    html = lesson(result, "second").body_html
    assert '<img src="/course-assets/demo/basics/images/flow.svg" alt="A client sends a request to S3">' in html
    assert 'href="/courses/demo/basics/lessons/hello/#hello-world-2"' in html
    assert 'href="#diagram"' in html and 'href="/labs/hello-lab/"' in html
    assert 'href="/courses/demo/basics/lessons/hello/"' in html  # ../basics/01-hello


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("(01-hello#hello-world-2)", "(01-hello#nope)", "lesson 01-hello has no heading #nope"),
        ("(01-hello#hello-world-2)", "(03-missing)", "module basics has no lesson '03-missing'"),
        ("(#diagram)", "(#nowhere)", "lesson 02-second has no heading #nowhere (headings: diagram)"),
        ("(/labs/hello-lab/)", "(/labs/no-lab/)", "there is no lab 'no-lab'"),
        ("(../basics/01-hello)", "(../other/01-hello)", "does not resolve to a lesson, lab or image"),
        ("(images/flow.svg)", "(images/missing.svg)", "demo/basics/images/missing.svg does not exist"),
        ("(images/flow.svg)", "(images/flow.gif)", "only .svg and .png files"),
        ("(images/flow.svg)", "(https://example.com/x.svg)", "images must be files of the course"),
    ],
)
def test_broken_links_name_file_and_line(root, old, new, message):
    path = root / SECOND
    content = path.read_text()
    assert old in content
    path.write_text(content.replace(old, new, 1))
    result = scan(root)
    [error] = result.errors
    assert error.path == f"courses/{SECOND}"
    assert error.line == line_of(path, new.strip("()"))
    assert message in error.message
    # The lesson still loads; only the problem is reported.
    assert lesson(result, "second").title == "Second lesson"


def test_external_links_are_left_alone(root):
    html = lesson(scan(root), "hello").body_html
    assert 'href="https://aws.amazon.com/s3/"' in html


def test_real_courses_pass_the_content_check(capsys):
    """CI: the courses/ folder validates (schema, uuids, questions, links, labs, images)."""
    result = scan(settings.COURSES_DIR)
    assert [str(e) for e in result.errors] == []
    call_command("loadcourses", "--check")  # exits non-zero on any problem
    assert "; 0 problem(s)" in capsys.readouterr().out
