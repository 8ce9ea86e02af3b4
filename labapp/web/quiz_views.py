"""Module quizzes (immediate feedback) and the timed practice exam (feedback only at the end).

Answers are plain POST forms that htmx enhances: with htmx the answered question (and the score) is
swapped in place; without JavaScript the form posts and the page reloads at that question. The exam's
deadline lives on the ExamAttempt; the page's timer only displays it.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from labapp.quizzes import services
from labapp.quizzes.services import AnswerRefused

from .access import get_course, get_exam_for_user, get_module, get_question, learner_required

# --- Module quiz ----------------------------------------------------------------------------


def quiz_item(number: int, question, answer, seed: str) -> dict:
    return {
        "number": number,
        "question": question,
        "answer": answer,
        "choices": services.shown_choices(question, seed, answer.selected if answer else []),
    }


def quiz_context(request, module) -> dict:
    questions = services.module_questions(module)
    attempt = services.current_quiz_attempt(request.user, module)
    seed = services.quiz_choice_seed(request.user, module, attempt)
    answers = {a.question_id: a for a in attempt.answers.all()} if attempt else {}
    answered = sum(1 for q in questions if q.pk in answers)
    return {
        "module": module,
        "course": module.course,
        "items": [quiz_item(n, q, answers.get(q.pk), seed) for n, q in enumerate(questions, 1)],
        "attempt": attempt,
        "answered": answered,
        "correct": sum(1 for q in questions if q.pk in answers and answers[q.pk].correct),
        "total": len(questions),
        "finished": bool(attempt and attempt.finished_at),
        "best": services.best_quiz_scores(request.user, [module]).get(module.pk),
    }


@learner_required
@require_GET
def quiz_page(request, course_slug, module_slug):
    module = get_module(course_slug, module_slug)
    return render(request, "quizzes/quiz.html", quiz_context(request, module))


@learner_required
@require_POST
def answer_quiz(request, course_slug, module_slug, question_uuid):
    module = get_module(course_slug, module_slug)
    question = get_question(module, question_uuid)
    error = ""
    try:
        services.answer_quiz(request.user, module, question, request.POST.getlist("choice"))
    except AnswerRefused as refused:
        error = str(refused)
    quiz_url = reverse("quiz", args=[course_slug, module_slug])
    if not request.htmx:
        if error:
            messages.error(request, f"Question {question.order + 1}: {error}")
        return redirect(f"{quiz_url}#q-{question.uuid}")
    ctx = quiz_context(request, module)
    item = next(i for i in ctx["items"] if i["question"].pk == question.pk)
    return render(request, "quizzes/quiz.html#quiz_answer", {**ctx, "item": item, "error": error, "oob": True})


@learner_required
@require_POST
def retake_quiz(request, course_slug, module_slug):
    module = get_module(course_slug, module_slug)
    services.retake_quiz(request.user, module)
    return redirect("quiz", course_slug, module_slug)


# --- Practice exam --------------------------------------------------------------------------


@learner_required
@require_GET
def exam_home(request, course_slug):
    course = get_course(course_slug)
    from labapp.quizzes.models import ExamAttempt, Question

    available = Question.objects.filter(module__course=course).count()
    return render(
        request,
        "quizzes/exam_home.html",
        {
            "course": course,
            "available": available,
            "exam_size": min(available, services.EXAM_QUESTIONS),
            "full_size": services.EXAM_QUESTIONS,
            "minutes": services.EXAM_MINUTES,
            "open_exam": services.open_exam(request.user, course),
            "past": ExamAttempt.objects.filter(user=request.user, course=course, finished_at__isnull=False)[:20],
        },
    )


@learner_required
@require_POST
def start_exam(request, course_slug):
    course = get_course(course_slug)
    try:
        attempt = services.start_exam(request.user, course)
    except AnswerRefused as refused:
        messages.error(request, str(refused))
        return redirect("exam", course_slug)
    return redirect("exam-attempt", attempt.pk)


def exam_item(number: int, question, attempt) -> dict:
    selected = attempt.answers.get(str(question.pk), [])
    return {
        "number": number,
        "question": question,
        "selected": selected,
        "flagged": question.pk in attempt.flagged,
        "choices": services.shown_choices(question, attempt.choice_seed, selected),
    }


def exam_items(attempt) -> list[dict]:
    return [exam_item(n, q, attempt) for n, q in enumerate(services.exam_questions(attempt), 1)]


def exam_counts(attempt) -> dict:
    status = services.exam_status(attempt)
    return {"status": status, "total": status.total, "answered": len(status.answered)}


@learner_required
@require_GET
def exam_page(request, attempt_id):
    attempt = services.refresh_exam(get_exam_for_user(request, attempt_id))
    if attempt.is_finished:
        return redirect("exam-results", attempt.pk)
    items = exam_items(attempt)
    return render(
        request,
        "quizzes/exam.html",
        {
            "attempt": attempt,
            "course": attempt.course,
            "items": items,
            "short": len(items) < services.EXAM_QUESTIONS,
            "full_size": services.EXAM_QUESTIONS,
            **exam_counts(attempt),
        },
    )


def posted_question(request) -> int:
    try:
        return int(request.POST.get("question", ""))
    except ValueError:
        return -1


def exam_change_response(request, attempt, question_id: int, error: str, partial: str, **extra):
    """After an answer or a flag: to the results if the exam is over; without htmx back to the question;
    with htmx the changed fragment, plus the progress and the question's palette button out of band."""
    attempt.refresh_from_db()
    if attempt.is_finished:
        messages.error(request, error or "This exam is finished.")
        results = reverse("exam-results", args=[attempt.pk])
        if request.htmx:
            return HttpResponseClientRedirect(results)
        return redirect(results)
    page = reverse("exam-attempt", args=[attempt.pk])
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(f"{page}#q-{question_id}" if question_id in attempt.question_ids else page)
    questions = {q.pk: (n, q) for n, q in enumerate(services.exam_questions(attempt), 1)}
    if question_id not in questions:
        return render(request, "quizzes/exam.html#exam_error", {"error": error}, status=400)
    number, question = questions[question_id]
    context = {"attempt": attempt, "item": exam_item(number, question, attempt), "error": error, "oob": True,
               **exam_counts(attempt), **extra}
    return render(request, f"quizzes/exam.html#{partial}", context)


@learner_required
@require_POST
def answer_exam(request, attempt_id):
    attempt = get_exam_for_user(request, attempt_id)
    question_id = posted_question(request)
    error = ""
    try:
        services.answer_exam(attempt, question_id, request.POST.getlist("choice"))
    except AnswerRefused as refused:
        error = str(refused)
    return exam_change_response(request, attempt, question_id, error, "exam_answer_saved", saved=not error)


@learner_required
@require_POST
def flag_exam(request, attempt_id):
    attempt = get_exam_for_user(request, attempt_id)
    question_id = posted_question(request)
    error = ""
    try:
        services.flag_exam_question(attempt, question_id, request.POST.get("flag") == "on")
    except AnswerRefused as refused:
        error = str(refused)
    return exam_change_response(request, attempt, question_id, error, "exam_flag_changed")


@learner_required
@require_GET
def exam_review_page(request, attempt_id):
    """Before finishing: how many questions are unanswered and flagged, with links back to each."""
    attempt = services.refresh_exam(get_exam_for_user(request, attempt_id))
    if attempt.is_finished:
        return redirect("exam-results", attempt.pk)
    return render(
        request,
        "quizzes/exam_review.html",
        {"attempt": attempt, "course": attempt.course, "items": exam_items(attempt), **exam_counts(attempt)},
    )


@learner_required
@require_POST
def finish_exam(request, attempt_id):
    attempt = services.refresh_exam(get_exam_for_user(request, attempt_id))
    services.finish_exam(attempt)
    return redirect("exam-results", attempt.pk)


@learner_required
@require_GET
def exam_results(request, attempt_id):
    attempt = services.refresh_exam(get_exam_for_user(request, attempt_id))
    if not attempt.is_finished:
        return redirect("exam-attempt", attempt.pk)
    review = services.exam_review(attempt)
    percent = round(100 * (attempt.score or 0) / attempt.max_score) if attempt.max_score else 0
    return render(
        request,
        "quizzes/exam_results.html",
        {"attempt": attempt, "course": attempt.course, "percent": percent, **review},
    )
