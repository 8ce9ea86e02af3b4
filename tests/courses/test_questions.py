"""Practice questions in courses/<course>/<module>/questions.yaml: schema, semantic rules, file:line errors."""

import shutil
from pathlib import Path

import pytest

from labapp.courses.loader import load_courses, scan

FIXTURES = Path(__file__).parent / "fixtures"
QUESTIONS = "demo/basics/questions.yaml"


@pytest.fixture
def root(tmp_path) -> Path:
    dest = tmp_path / "courses"
    shutil.copytree(FIXTURES, dest)
    return dest


def line_of(path: Path, text: str, after: int = 0) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if i > after and text in line)


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text()
    assert old in content, old
    path.write_text(content.replace(old, new, 1))


def questions(result):
    return [q for c in result.courses for m in c.modules for q in m.questions]


def test_questions_load_rendered_and_linked(root):
    result = scan(root)
    assert result.errors == []
    first, second = questions(result)
    assert first.type == "single" and first.answers == 1 and first.lab == "hello-lab"
    assert first.anchor == "hello-world" and first.lesson_slug == "hello"
    assert "<strong>objects</strong>" in first.prompt_html
    assert first.choices[0] == {"id": "a", "html": "Amazon S3", "correct": True}
    assert [c["correct"] for c in second.choices] == [True, True, False]
    # A relative lesson link in an explanation points at the lesson's page.
    assert 'href="/courses/demo/basics/lessons/hello/#hello-world-2"' in second.explanation_html


def test_wrong_number_of_correct_choices_names_file_and_line(root):
    path = root / QUESTIONS
    edit(path, "      - text: Amazon EBS\n", "      - text: Amazon EBS\n        correct: true\n")
    result = scan(root)
    [error] = result.errors
    assert error.path.endswith("basics/questions.yaml")
    assert error.line == line_of(path, "choices:")
    assert "2 choice(s) are marked correct: true, but answers is 1" in error.message
    assert str(error).startswith(f"courses/{QUESTIONS}:{error.line}: ")
    # the other question still loads
    assert [q.uuid[-1] for q in questions(result)] == ["2"]


def test_single_needs_one_answer_and_multiple_two(root):
    path = root / QUESTIONS
    edit(path, "type: multiple\n    answers: 2", "type: multiple\n    answers: 1")
    edit(path, "    answers: 1\n    prompt: |\n      Which service", "    answers: 2\n    prompt: |\n      Which service")
    messages = {e.line: e.message for e in scan(root).errors}
    single_answers = line_of(path, "answers: 2")
    multiple_answers = line_of(path, "answers: 1")
    assert "a single-answer question has answers: 1, not 2" in messages[single_answers]
    assert "multiple-answer question has answers: 2 or more" in messages[multiple_answers]


def test_lesson_anchor_and_lab_must_exist(root):
    path = root / QUESTIONS
    edit(path, "lesson: 01-hello#hello-world", "lesson: 01-hello#no-such-heading")
    edit(path, "lab: hello-lab", "lab: no-such-lab")
    edit(path, "    lesson: 01-hello\n", "    lesson: 07-missing\n")
    errors = scan(root).errors
    by_line = {e.line: e.message for e in errors}
    assert "lesson 01-hello has no heading #no-such-heading (headings: hello-world, hello-world-2)" in \
        by_line[line_of(path, "#no-such-heading")]
    assert "there is no lab 'no-such-lab'" in by_line[line_of(path, "no-such-lab")]
    assert "module basics has no lesson '07-missing' (lessons: 01-hello, 02-second)" in \
        by_line[line_of(path, "07-missing")]
    assert questions(scan(root)) == []


def test_question_uuids_are_unique_across_all_content(root):
    path = root / QUESTIONS
    edit(path, "66666666-6666-4666-8666-666666666662", "33333333-3333-4333-8333-333333333333")  # lesson 01's
    [error] = scan(root).errors
    assert error.line == line_of(path, "33333333-3333")
    assert "already used by courses/demo/basics/lessons/01-hello.md:2" in error.message


def test_schema_errors_point_at_the_field_and_skip_the_file(root):
    path = root / QUESTIONS
    edit(path, "    lab: hello-lab", "    lab: hello-lab\n    difficulty: hard")
    result = scan(root)
    [error] = result.errors
    assert error.line == line_of(path, "difficulty: hard")
    assert "questions[0].difficulty: unknown field 'difficulty'" in error.message
    assert questions(result) == []
    # everything else still loads
    assert result.counts()["lessons"] == 2 and result.counts()["labs"] == 1


def test_broken_yaml_names_the_line(root):
    path = root / QUESTIONS
    edit(path, "type: multiple", "type: [multiple")
    result = scan(root)
    [error] = result.errors
    assert "invalid YAML" in error.message and error.line >= line_of(path, "[multiple")
    assert result.counts()["lessons"] == 2


def test_a_link_in_an_explanation_is_checked(root):
    path = root / QUESTIONS
    edit(path, "[the first lesson](01-hello#hello-world-2)", "[the first lesson](01-hello#nowhere)")
    [error] = scan(root).errors
    assert error.line == line_of(path, "01-hello#nowhere")
    assert "has no heading #nowhere" in error.message


@pytest.mark.django_db
def test_load_writes_questions_with_lesson_and_lab(root):
    from labapp.quizzes.models import Question

    result = load_courses(root)
    assert result.ok and result.written["questions"] == 2
    first = Question.objects.get(uuid="66666666-6666-4666-8666-666666666661")
    assert first.lesson.slug == "hello" and first.anchor == "hello-world" and first.lab.slug == "hello-lab"
    assert first.correct_ids == ["a"] and first.is_correct(["a"]) and not first.is_correct(["b"])
    second = Question.objects.get(uuid="66666666-6666-4666-8666-666666666662")
    assert second.choose_label == "(Choose two.)" and second.lab is None
    edit(root / QUESTIONS, "Which two protect", "Which TWO protect")
    load_courses(root)
    second.refresh_from_db()
    assert "Which TWO protect" in second.prompt_html and Question.objects.count() == 2


def test_choice_ids_are_kept_when_choices_move_and_must_be_unique(root):
    path = root / QUESTIONS
    # Move the key last, giving every choice its id: the key is still "a" (stored answers refer to it).
    edit(path, "      - text: Amazon S3\n        correct: true\n      - text: Amazon EBS\n      - text: Amazon EFS\n",
         "      - id: b\n        text: Amazon EBS\n      - id: c\n        text: Amazon EFS\n"
         "      - id: a\n        text: Amazon S3\n        correct: true\n")
    first, _ = questions(scan(root))
    assert [(c["id"], c["html"], c["correct"]) for c in first.choices] == [
        ("b", "Amazon EBS", False), ("c", "Amazon EFS", False), ("a", "Amazon S3", True)]
    edit(path, "      - id: c\n", "      - id: b\n")
    [error] = scan(root).errors
    assert error.line == line_of(path, "- id: b", after=line_of(path, "- id: b"))
    assert "choice id 'b' is used twice in this question" in error.message


# --- The course's own bank: no answer-blind rule beats chance ---------------------------------------

COURSES = Path(__file__).resolve().parent.parent.parent / "courses"


@pytest.fixture(scope="module")
def course_bank():
    result = scan(COURSES)
    bank = [q for c in result.courses for m in c.modules for q in m.questions]
    assert len(bank) >= 150, [str(e) for e in result.errors if "questions.yaml" in str(e)]
    return bank


def test_the_course_bank_does_not_give_keys_away_by_length(course_bank):
    """A learner who picks by length alone (the longest, the shortest, or any other rank) scores near
    chance: about 25% on single-answer questions, about 10-17% on choose-two ones. Before the rewrite,
    "always the longest" scored 76% on single-answer questions."""
    from labapp.quizzes.guessing import best_length_rank, longest_score, shortest_score

    single = [q for q in course_bank if q.type == "single"]
    double = [q for q in course_bank if q.answers == 2]
    assert len(single) >= 100 and len(double) >= 20

    def mean(score, questions):
        return sum(score(q) for q in questions) / len(questions)

    assert mean(longest_score, single) <= 0.35
    assert mean(shortest_score, single) <= 0.35
    ranks, score = best_length_rank(single)
    assert score <= 0.35, f"always the choice of length rank {ranks[0] + 1} scores {score:.0%}"
    assert mean(longest_score, double) <= 0.25
    ranks, score = best_length_rank(double)
    assert score <= 0.25, f"always the choices of length ranks {[r + 1 for r in ranks]} score {score:.0%}"


def test_the_course_bank_does_not_write_the_key_first(course_bank):
    """The quiz shuffles choices, so the file order no longer reaches learners; authors should still
    not rely on it (a file is also what reviewers and exports read)."""
    from labapp.quizzes.guessing import authored_first_score

    first = sum(authored_first_score(q) for q in course_bank) / len(course_bank)
    assert first <= 0.4, f"the key is written first in {first:.0%} of the questions"
    # Every choice names its id in the file: stored answers refer to it, so reordering must keep it.
    import yaml

    for path in COURSES.glob("*/*/questions.yaml"):
        for question in yaml.safe_load(path.read_text())["questions"]:
            assert all("id" in choice for choice in question["choices"]), (path, question["uuid"])
