"""The only code that changes quiz and exam state.

Module quizzes: one answer per question per attempt, with immediate feedback; an attempt finishes when
every question is answered; retaking starts a new attempt and the best score is kept.

Practice exam: EXAM_QUESTIONS questions drawn across the course's modules in proportion to each
module's pool (largest remainders), stored on the attempt; a deadline EXAM_MINUTES after the start,
stored on the attempt too. Answers after the deadline are refused and the attempt finishes itself.

Both show each question's choices in an order of their own (choice_order) and store answers as choice
ids, so neither grading nor review depends on the order shown.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from . import choice_order, domains
from .models import ExamAttempt, Question, QuizAnswer, QuizAttempt

EXAM_QUESTIONS = 65
EXAM_MINUTES = 130


class AnswerRefused(Exception):
    """The answer was not recorded; the message says why, in the learner's terms."""


# --- selections -----------------------------------------------------------------------------------


def parse_selection(question: Question, raw_values, *, exact: bool) -> list[str]:
    """Choice ids from form values (choice tokens); with exact=True the learner must pick exactly
    `answers` choices."""
    known = choice_order.ids_by_token(question)
    selected = set()
    for value in raw_values:
        if value not in known:
            raise AnswerRefused("That choice is not one of this question's choices.")
        selected.add(known[value])
    if question.type == Question.Type.SINGLE and len(selected) > 1:
        raise AnswerRefused("Choose one answer.")
    if exact and len(selected) != question.answers:
        raise AnswerRefused("Choose one answer." if question.answers == 1 else
                            f"Choose {question.answers} answers; you chose {len(selected)}.")
    return sorted(selected)


# --- module quizzes -------------------------------------------------------------------------------


def module_questions(module) -> list[Question]:
    return list(Question.objects.filter(module=module).select_related("lesson__module__course", "lab")
                .order_by("order", "id"))


def current_quiz_attempt(user, module) -> QuizAttempt | None:
    return QuizAttempt.objects.filter(user=user, module=module).order_by("-started_at", "-id").first()


def quiz_choice_seed(user, module, attempt: QuizAttempt | None) -> str:
    """The seed that orders the choices on the quiz page: the attempt's, or (before the first answer
    creates an attempt) the one the next attempt will be given."""
    if attempt is not None:
        return attempt.choice_seed
    return choice_order.quiz_seed(user.pk, module.pk, QuizAttempt.objects.filter(user=user, module=module).count())


def new_quiz_attempt(user, module) -> QuizAttempt:
    seed = quiz_choice_seed(user, module, None)
    return QuizAttempt.objects.create(user=user, module=module, total=Question.objects.filter(module=module).count(),
                                      choice_seed=seed)


def shown_choices(question: Question, seed: str, selected=()) -> list[dict]:
    """The question's choices as this attempt shows them: id, form token, html, correct, chosen."""
    return [{**choice, "token": choice_order.token(question, choice["id"]), "chosen": choice["id"] in selected}
            for choice in choice_order.ordered_choices(question, seed)]


def answer_quiz(user, module, question: Question, raw_values) -> QuizAnswer:
    """Record the learner's answer in their current attempt (a new one if there is none or the last one
    is finished). A question already answered in this attempt keeps its first answer."""
    selected = parse_selection(question, raw_values, exact=True)
    with transaction.atomic():
        attempt = current_quiz_attempt(user, module)
        if attempt is None or attempt.finished_at is not None:
            attempt = new_quiz_attempt(user, module)
        existing = attempt.answers.filter(question=question).first()
        if existing:
            return existing
        answer = QuizAnswer.objects.create(attempt=attempt, question=question, selected=selected,
                                           correct=question.is_correct(selected))
        attempt.correct = attempt.answers.filter(correct=True).count()
        attempt.total = max(attempt.total, Question.objects.filter(module=module).count())
        answered = attempt.answers.count()
        if answered >= attempt.total:
            attempt.finished_at = timezone.now()
        attempt.save(update_fields=["correct", "total", "finished_at"])
        return answer


def retake_quiz(user, module) -> QuizAttempt:
    return new_quiz_attempt(user, module)


def best_quiz_scores(user, modules=None) -> dict[int, dict]:
    """{module id: {"correct", "total", "percent"}} of the learner's best finished attempt per module."""
    if not user.is_authenticated:
        return {}
    attempts = QuizAttempt.objects.filter(user=user)
    if modules is not None:
        attempts = attempts.filter(module__in=modules)
    best: dict[int, dict] = {}
    # Only finished attempts (every question answered) have a score: a half-done attempt's "1 of 12" is
    # not a result, and neither is one abandoned by a retake.
    for attempt in attempts.exclude(total=0).filter(finished_at__isnull=False):
        percent = round(100 * attempt.correct / attempt.total)
        current = best.get(attempt.module_id)
        if current is None or percent > current["percent"]:
            best[attempt.module_id] = {"correct": attempt.correct, "total": attempt.total, "percent": percent,
                                       "finished": True}
    return best


# --- practice exam --------------------------------------------------------------------------------


def draw_exam_questions(course, count: int = EXAM_QUESTIONS, rng: random.Random | None = None) -> list[int]:
    """Question pks: all of them (shuffled) if there are at most `count`, else `count` drawn at random with
    each module's share proportional to its number of questions (largest-remainder rounding)."""
    rng = rng or random.SystemRandom()
    pools: dict[int, list[int]] = {}
    for pk, module_id in Question.objects.filter(module__course=course).order_by("id").values_list("pk", "module_id"):
        pools.setdefault(module_id, []).append(pk)
    total = sum(len(pool) for pool in pools.values())
    if total <= count:
        chosen = [pk for pool in pools.values() for pk in pool]
    else:
        exact = {m: count * len(pool) / total for m, pool in pools.items()}
        quota = {m: int(share) for m, share in exact.items()}
        spare = count - sum(quota.values())
        for m in sorted(exact, key=lambda m: (exact[m] - quota[m], rng.random()), reverse=True)[:spare]:
            quota[m] += 1
        chosen = [pk for m, pool in pools.items() for pk in rng.sample(pool, quota[m])]
    rng.shuffle(chosen)
    return chosen


def open_exam(user, course) -> ExamAttempt | None:
    attempt = ExamAttempt.objects.filter(user=user, course=course, finished_at__isnull=True).first()
    if attempt is not None and refresh_exam(attempt).is_finished:
        return None
    return attempt


def start_exam(user, course, rng: random.Random | None = None) -> ExamAttempt:
    """The learner's unfinished exam in this course, or a new one. Raises AnswerRefused without questions."""
    with transaction.atomic():
        attempt = open_exam(user, course)
        if attempt is not None:
            return attempt
        question_ids = draw_exam_questions(course, rng=rng)
        if not question_ids:
            raise AnswerRefused("This course has no practice questions yet.")
        now = timezone.now()
        return ExamAttempt.objects.create(user=user, course=course, started_at=now,
                                          deadline=now + timedelta(minutes=EXAM_MINUTES),
                                          question_ids=question_ids, max_score=len(question_ids),
                                          choice_seed=choice_order.new_seed())


def refresh_exam(attempt: ExamAttempt) -> ExamAttempt:
    """Finish the attempt if its deadline has passed."""
    if not attempt.is_finished and timezone.now() >= attempt.deadline:
        finish_exam(attempt, timed_out=True)
    return attempt


def answer_exam(attempt: ExamAttempt, question_id: int, raw_values) -> list[str]:
    """Store (or change) an answer. Refused once the exam is finished or its deadline has passed."""
    if refresh_exam(attempt).is_finished and attempt.timed_out:
        raise AnswerRefused("Time is up: the exam has ended and this answer was not recorded.")
    with transaction.atomic():
        locked = ExamAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.is_finished:
            raise AnswerRefused("This exam is finished; answers can no longer change.")
        if timezone.now() >= locked.deadline:  # the deadline passed a moment ago
            raise AnswerRefused("Time is up: the exam has ended and this answer was not recorded.")
        if question_id not in locked.question_ids:
            raise AnswerRefused("That question is not part of this exam.")
        question = Question.objects.get(pk=question_id)
        selected = parse_selection(question, raw_values, exact=False)
        answers = dict(locked.answers)
        if selected:
            answers[str(question_id)] = selected
        else:
            answers.pop(str(question_id), None)
        locked.answers = answers
        locked.save(update_fields=["answers"])
    attempt.answers = answers
    return selected


def flag_exam_question(attempt: ExamAttempt, question_id: int, flagged: bool) -> list[int]:
    """Flag a question for review (or remove the flag); refused, like answers, once the exam is over.
    Returns the flagged question pks in exam order."""
    if refresh_exam(attempt).is_finished:
        raise AnswerRefused("This exam is finished; flags can no longer change.")
    with transaction.atomic():
        locked = ExamAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.is_finished or timezone.now() >= locked.deadline:
            raise AnswerRefused("This exam is finished; flags can no longer change.")
        if question_id not in locked.question_ids:
            raise AnswerRefused("That question is not part of this exam.")
        marked = set(locked.flagged) | {question_id} if flagged else set(locked.flagged) - {question_id}
        locked.flagged = [pk for pk in locked.question_ids if pk in marked]
        locked.save(update_fields=["flagged"])
    attempt.flagged = locked.flagged
    return attempt.flagged


@dataclass
class ExamStatus:
    """Where the learner stands before finishing: (number, question pk) pairs, in exam order."""

    total: int
    answered: list[tuple[int, int]]
    unanswered: list[tuple[int, int]]
    flagged: list[tuple[int, int]]


def exam_status(attempt: ExamAttempt) -> ExamStatus:
    numbered = list(enumerate(attempt.question_ids, 1))
    marked = set(attempt.flagged)
    answered = [(n, pk) for n, pk in numbered if attempt.answers.get(str(pk))]
    unanswered = [(n, pk) for n, pk in numbered if not attempt.answers.get(str(pk))]
    flagged = [(n, pk) for n, pk in numbered if pk in marked]
    return ExamStatus(len(numbered), answered, unanswered, flagged)


def finish_exam(attempt: ExamAttempt, *, timed_out: bool = False) -> ExamAttempt:
    if attempt.is_finished:
        return attempt
    questions = Question.objects.in_bulk(attempt.question_ids)
    attempt.score = sum(1 for pk in attempt.question_ids
                        if pk in questions and questions[pk].is_correct(attempt.answers.get(str(pk), [])))
    attempt.max_score = len(attempt.question_ids)
    now = timezone.now()
    attempt.finished_at = min(now, attempt.deadline)
    attempt.timed_out = timed_out
    attempt.save(update_fields=["score", "max_score", "finished_at", "timed_out"])
    return attempt


@dataclass
class ReviewRow:
    number: int
    question: Question
    selected: list[str]
    correct: bool
    choices: list[dict]


def exam_questions(attempt: ExamAttempt) -> list[Question]:
    questions = Question.objects.select_related("module", "lesson__module__course", "lab").in_bulk(attempt.question_ids)
    return [questions[pk] for pk in attempt.question_ids if pk in questions]


def exam_review(attempt: ExamAttempt) -> dict:
    """Every question with the learner's answer, the right one and the explanation; the score by module
    and by exam domain, each domain with the questions missed (wrong or unanswered) in it."""
    rows, by_module, by_domain = [], {}, {}
    for number, question in enumerate(exam_questions(attempt), 1):
        selected = attempt.answers.get(str(question.pk), [])
        correct = question.is_correct(selected)
        choices = shown_choices(question, attempt.choice_seed, selected)
        row = ReviewRow(number, question, selected, correct, choices)
        rows.append(row)
        entry = by_module.setdefault(question.module_id, {"module": question.module, "correct": 0, "total": 0})
        entry["total"] += 1
        entry["correct"] += int(correct)
        domain = domains.domain_of(question.module)
        entry = by_domain.setdefault(domain, {"domain": domain, "correct": 0, "total": 0, "missed": []})
        entry["total"] += 1
        entry["correct"] += int(correct)
        if not correct:
            entry["missed"].append(row)
    modules = sorted(by_module.values(), key=lambda e: (e["module"].order, e["module"].title))
    domain_rows = sorted(by_domain.values(), key=lambda e: e["domain"].number)
    for entry in modules + domain_rows:
        entry["percent"] = round(100 * entry["correct"] / entry["total"]) if entry["total"] else 0
    return {"rows": rows, "by_module": modules, "by_domain": domain_rows,
            "answered": sum(1 for r in rows if r.selected)}
