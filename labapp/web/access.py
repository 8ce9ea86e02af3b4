"""Access helpers: each returns the object the learner may see, or raises Http404.

A learner sees only their own sessions and attempts; anything else is "not found", never "forbidden",
so ids of other learners' work are not even confirmed to exist.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404
from django_htmx.http import HttpResponseClientRedirect

from labapp.courses.models import Course, Lab, Lesson, Module
from labapp.labs.models import Attempt, LabSession
from labapp.quizzes.models import ExamAttempt, Question
from labapp.runner.models import Run


def learner_required(view):
    """login_required, except that a signed-out visitor asking for course content that does not exist gets
    404, and an HTMX request (a polling panel) of a signed-out learner makes the
    whole page go to the sign-in page instead of swapping the sign-in form into a panel."""
    wrapped = login_required(view)

    @wraps(view)
    def inner(request, *args, **kwargs):
        if not request.user.is_authenticated:
            require_public_content(kwargs)
            if getattr(request, "htmx", False):
                page = request.htmx.current_url_abs_path or request.get_full_path()
                return HttpResponseClientRedirect(redirect_to_login(page).url)
        return wrapped(request, *args, **kwargs)

    return inner


def require_public_content(kwargs: dict) -> None:
    """Raise Http404 when the course, module, lesson or lab a URL names does not exist. Course content is
    public, so a signed-out visitor may be told it is not there rather than sent to sign in for nothing;
    private things (sessions, attempts, runs) are never confirmed or denied before signing in."""
    course_slug, module_slug = kwargs.get("course_slug"), kwargs.get("module_slug")
    if kwargs.get("lesson_slug"):
        get_lesson(course_slug, module_slug, kwargs["lesson_slug"])
    elif module_slug:
        get_module(course_slug, module_slug)
    elif course_slug:
        get_course(course_slug)
    if kwargs.get("slug"):  # the lab routes
        get_lab(kwargs["slug"])


def get_course(course_slug: str) -> Course:
    return get_object_or_404(Course, slug=course_slug)


def get_module(course_slug: str, module_slug: str) -> Module:
    return get_object_or_404(
        Module.objects.select_related("course"), course__slug=course_slug, slug=module_slug
    )


def get_lesson(course_slug: str, module_slug: str, lesson_slug: str) -> Lesson:
    return get_object_or_404(
        Lesson.objects.select_related("module__course"),
        module__course__slug=course_slug,
        module__slug=module_slug,
        slug=lesson_slug,
    )


def get_lab(slug: str) -> Lab:
    return get_object_or_404(Lab.objects.select_related("module__course"), slug=slug)


def get_session_for_user(request, session_id) -> LabSession:
    return get_object_or_404(
        LabSession.objects.select_related("lab__module__course"), pk=session_id, user=request.user
    )


def get_run_for_user(request, run_id) -> Run:
    """A console command or script run of one of the learner's sessions."""
    return get_object_or_404(Run.objects.select_related("session"), pk=run_id, session__user=request.user)


def get_attempt_for_user(request, attempt_id: int) -> Attempt:
    return get_object_or_404(
        Attempt.objects.select_related("session__lab__module__course"),
        pk=attempt_id,
        session__user=request.user,
    )


def get_question(module: Module, question_uuid) -> Question:
    return get_object_or_404(Question.objects.select_related("lesson__module__course", "lab"),
                             module=module, uuid=question_uuid)


def get_exam_for_user(request, attempt_id) -> ExamAttempt:
    return get_object_or_404(ExamAttempt.objects.select_related("course"), pk=attempt_id, user=request.user)
