import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from labapp.courses.loader import load_courses, scan

FIXTURES = Path(__file__).parent / "fixtures"
LAB = "demo/basics/labs/hello-lab.yaml"


@pytest.fixture
def root(tmp_path) -> Path:
    dest = tmp_path / "courses"
    shutil.copytree(FIXTURES, dest)
    return dest


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text()
    assert old in content, old
    path.write_text(content.replace(old, new, 1))


def labs(result):
    return {lab.slug for c in result.courses for m in c.modules for lab in m.labs}


def messages(result):
    return [str(e) for e in result.errors]


def test_real_courses_load_without_errors():
    result = scan(settings.COURSES_DIR)
    assert messages(result) == []
    assert {"iam-users-groups", "s3-versioning", "ec2-security-group"} <= labs(result)
    course = result.courses[0]
    assert course.slug == "aws-developer"
    slugs = [m.slug for m in course.modules]
    assert slugs[:2] == ["iam", "ec2"] and "s3" in slugs
    assert course.title == "AWS Certified Developer – Associate (DVA-C02)"


def test_fixture_loads(root):
    result = scan(root)
    assert messages(result) == []
    assert result.counts() == {"courses": 1, "modules": 1, "lessons": 2, "labs": 1, "questions": 2}
    lessons = result.courses[0].modules[0].lessons
    assert [(lesson.order, lesson.slug) for lesson in lessons] == [(1, "hello"), (2, "second")]
    assert lessons[0].toc[0] == {"level": 1, "id": "hello-world", "title": "Hello world"}
    assert lessons[0].toc[1]["id"] == "hello-world-2"


def test_bad_yaml_syntax_names_file_and_line(root):
    lab = root / LAB
    edit(lab, "minutes: 10", "minutes: [10")
    result = scan(root)
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.path.endswith("labs/hello-lab.yaml") and "invalid YAML" in error.message
    assert error.line is not None and error.line >= line_of(lab, "minutes: [10")
    # the rest still loads
    assert result.counts()["lessons"] == 2 and labs(result) == set()


def test_schema_violation_points_at_the_key(root):
    lab = root / LAB
    edit(lab, "points: 2", "points: 0")
    result = scan(root)
    [error] = result.errors
    assert error.line == line_of(lab, "points: 0")
    assert "tasks[0].points" in error.message and "minimum" in error.message
    assert str(error).startswith(f"courses/{LAB}:{error.line}: ")


def test_unknown_field_points_at_the_field(root):
    lab = root / LAB
    edit(lab, "minutes: 10", "minutes: 10\ndifficulty: hard")
    [error] = scan(root).errors
    assert error.line == line_of(lab, "difficulty: hard") and "unknown field 'difficulty'" in error.message


def test_unknown_check_kind(root):
    lab = root / LAB
    edit(lab, "kind: s3.bucket_versioning", "kind: s3.bucket_versionning")
    result = scan(root)
    [error] = result.errors
    assert error.line == line_of(lab, "kind: s3.bucket_versionning")
    assert "unknown check kind 's3.bucket_versionning'" in error.message
    assert result.counts()["lessons"] == 2


def test_check_params_validated_against_the_kind(root):
    lab = root / LAB
    edit(lab, 'bucket: "{{ bucket }}"\nresources', 'bucket: "{{ bucket }}"\n        stauts: Enabled\nresources')
    [error] = scan(root).errors
    assert error.line == line_of(lab, "stauts: Enabled")
    assert "s3.bucket_versioning has no parameter 'stauts'" in error.message


def test_duplicate_uuid(root):
    lesson = root / "demo/basics/lessons/02-second.md"
    edit(lesson, "44444444-4444-4444-8444-444444444444", "33333333-3333-4333-8333-333333333333")
    result = scan(root)
    [error] = result.errors
    assert error.path.endswith("02-second.md") and error.line == 2
    assert "already used by courses/demo/basics/lessons/01-hello.md:2" in error.message
    assert result.counts()["lessons"] == 1 and labs(result) == {"hello-lab"}


def test_undeclared_placeholder(root):
    lab = root / LAB
    edit(lab, "Enable versioning on `{{ bucket }}`.", "Enable versioning on `{{ bucket }}`.\n\n  Region: {{ region }}.")
    [error] = scan(root).errors
    assert error.line == line_of(lab, "{{ region }}")
    assert error.message == "{{ region }} is not a declared parameter"


def test_unknown_setup_operation_generator_and_lister(root):
    lab = root / LAB
    edit(lab, "call: s3.create_bucket", "call: s3.make_bucket")
    edit(lab, "generate: bucket_name", "generate: bucket_nam")
    edit(lab, "resources: [s3.buckets]", "resources: [s3.bucketz]")
    errors = scan(root).errors
    text = "\n".join(map(str, errors))
    assert "s3 has no boto3 operation 'make_bucket'" in text
    assert "unknown generator 'bucket_nam'" in text
    assert "unknown resource lister 's3.bucketz'" in text
    assert {e.line for e in errors} == {line_of(lab, "make_bucket"), line_of(lab, "bucket_nam"),
                                        line_of(lab, "s3.bucketz")}


def test_duplicate_task_ids_and_slug_mismatch(root):
    lab = root / LAB
    content = lab.read_text()
    task = content[content.index("  - id: versioning"):content.index("resources:")]
    lab.write_text(content.replace("resources:", task + "resources:").replace("slug: hello-lab", "slug: hello"))
    text = "\n".join(map(str, scan(root).errors))
    assert "task id 'versioning' is used twice" in text
    assert "slug 'hello' must equal the file name 'hello-lab'" in text


def test_lesson_front_matter_errors(root):
    lesson = root / "demo/basics/lessons/02-second.md"
    edit(lesson, "title: Second lesson", "titel: Second lesson")
    errors = {e.message: e.line for e in scan(root).errors}
    assert errors == {
        "(top level): 'title' is a required property": 2,
        "titel: unknown field 'titel' (allowed: minutes, summary, title, uuid)": 3,
    }


def test_broken_module_skips_only_that_module(root):
    edit(root / "demo/basics/module.yaml", 'title: "Basics"', "title: [")
    result = scan(root)
    assert len(result.errors) == 1 and "module.yaml" in result.errors[0].path
    assert result.counts()["courses"] == 1 and result.counts()["modules"] == 0


@pytest.mark.django_db
def test_load_upserts_by_uuid(root):
    from labapp.courses.models import Course, Lab, Lesson, Module

    result = load_courses(root)
    assert result.ok and result.written == {"courses": 1, "modules": 1, "lessons": 2, "labs": 1, "questions": 2}
    lab = Lab.objects.get(slug="hello-lab")
    assert lab.max_score == 2 and lab.module.slug == "basics" and lab.definition["parameters"]["bucket"]
    lesson = Lesson.objects.get(slug="hello")
    assert "<script" not in lesson.body_html and 'class="callout exam-tip"' in lesson.body_html
    # Rename the lab and the lesson: same rows.
    edit(root / LAB, "title: Hello lab", "title: Hello again")
    (root / "demo/basics/lessons/01-hello.md").rename(root / "demo/basics/lessons/01-hi.md")
    load_courses(root)
    assert Lab.objects.get(pk=lab.pk).title == "Hello again"
    assert Lesson.objects.get(pk=lesson.pk).slug == "hi"
    assert (Course.objects.count(), Module.objects.count(), Lesson.objects.count(), Lab.objects.count()) == (1, 1, 2, 1)


@pytest.mark.django_db
def test_command_reports_errors_and_still_loads(root, capsys):
    from labapp.courses.models import Lab, Lesson

    edit(root / LAB, "points: 2", "points: -1")
    with pytest.raises(SystemExit) as exit_info:
        call_command("loadcourses", "--dir", str(root))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert f"courses/{LAB}:" in err and "tasks[0].points" in err
    assert Lesson.objects.count() == 2 and Lab.objects.count() == 0


@pytest.mark.django_db
def test_command_check_writes_nothing(root, capsys):
    from labapp.courses.models import Course

    call_command("loadcourses", "--check", "--dir", str(root))
    assert "checked: 1 courses" in capsys.readouterr().out
    assert Course.objects.count() == 0


@pytest.mark.django_db
def test_real_courses_load_into_the_database():
    from labapp.courses.models import Lab, Module

    result = load_courses(settings.COURSES_DIR)
    assert messages(result) == []
    slugs = list(Module.objects.filter(course__slug="aws-developer").values_list("slug", flat=True))
    assert slugs[:2] == ["iam", "ec2"] and "s3" in slugs
    assert set(Lab.objects.values_list("slug", flat=True)) >= {"iam-users-groups", "s3-versioning", "ec2-security-group"}
    assert load_courses(settings.COURSES_DIR).written == result.written  # idempotent
