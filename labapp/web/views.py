"""Pages: home, sign up / in / out, course, modules, lessons and the lab catalogue. Lab pages live in
lab_views.py, quizzes and the practice exam in quiz_views.py, diagrams in asset_views.py.

Course, module and lesson pages are public (reading needs no account; progress is kept for signed-in
learners). Labs, quizzes and the exam need an account: their views use `learner_required`."""

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from labapp.classroom.access import is_teaching
from labapp.classroom.views import instructor_dashboard
from labapp.courses.models import Course, LessonProgress
from labapp.quizzes.services import best_quiz_scores, open_exam

from . import selectors
from .access import get_course, get_lesson, get_module, learner_required
from .forms import SignUpForm


def home(request):
    """The learner home; someone who teaches lands on the instructor dashboard instead (with a link to
    this page as `?view=learner`, since instructors read the course too)."""
    user = request.user
    if user.is_authenticated and request.GET.get("view") != "learner" and is_teaching(user):
        return instructor_dashboard(request)
    return render(
        request,
        "home.html",
        {
            "courses": selectors.course_overview(user),
            "continue_target": selectors.continue_target(user),
        },
    )


def safe_next(request, url: str) -> str:
    """`url` if it stays on this site (a path such as an invite link), else ""."""
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return url
    return ""


@require_http_methods(["GET", "POST"])
def signup(request):
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if request.user.is_authenticated:
        return redirect(next_url or "home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        welcome(request, user)
        # Back to where the visitor was going: an invite link lands in the class's join confirmation.
        return redirect(next_url or "home")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


def welcome(request, user) -> None:
    """A one-time welcome with where to start: the first lesson of the first course."""
    course = Course.objects.order_by("title").first()
    lessons = selectors.course_lessons(course) if course else []
    if not lessons:
        messages.success(request, f"Welcome, {user.get_username()}! Your account is ready.")
        return
    first = lessons[0]
    url = reverse("lesson", args=[course.slug, first.module.slug, first.slug])
    # format_html escapes the values; the message keeps its safe markup through the message storage.
    messages.success(request, format_html(
        'Welcome, {}! Your account is ready. Start here: <a href="{}" data-start-here>{}</a>, the first lesson of '
        "{}. Each lesson leads to hands-on labs in your own sandbox.",
        user.get_username(), url, first.title, course.title,
    ))


def module_page(request, course_slug, module_slug):
    module = get_module(course_slug, module_slug)
    return render(
        request,
        "courses/module.html",
        {
            "module": module,
            "course": module.course,
            "question_count": module.questions.count(),
            "best_quiz": best_quiz_scores(request.user, [module]).get(module.pk),
            **selectors.module_contents(module, request.user),
        },
    )


def _lesson_context(request, lesson) -> dict:
    module = lesson.module
    return {
        "lesson": lesson,
        "module": module,
        "course": module.course,
        "nav": selectors.lesson_navigation(lesson),
        "read": request.user.is_authenticated
        and LessonProgress.objects.filter(user=request.user, lesson=lesson).exists(),
    }


def lesson_page(request, course_slug, module_slug, lesson_slug):
    """Opening a lesson does not mark it read: the learner does, with the button at its end (or, with
    JavaScript, by scrolling to the end; see static/js/lesson.js)."""
    lesson = get_lesson(course_slug, module_slug, lesson_slug)
    body_html, toc = selectors.with_table_of_contents(lesson.body_html)
    return render(
        request,
        "courses/lesson.html",
        {
            **_lesson_context(request, lesson),
            "body_html": body_html,
            "toc": toc,
            **selectors.module_contents(lesson.module, request.user),
        },
    )


@learner_required
@require_POST
def lesson_read(request, course_slug, module_slug, lesson_slug):
    """Mark a lesson read (or, with read=0, unread again). HTMX gets the end-of-lesson box back; a plain
    form post returns to the end of the lesson."""
    lesson = get_lesson(course_slug, module_slug, lesson_slug)
    if request.POST.get("read", "1") == "0":
        LessonProgress.objects.filter(user=request.user, lesson=lesson).delete()
    else:
        LessonProgress.objects.get_or_create(user=request.user, lesson=lesson)
    if getattr(request, "htmx", False):
        return render(request, "courses/lesson.html#read-state", _lesson_context(request, lesson))
    return redirect(reverse("lesson", args=[course_slug, module_slug, lesson_slug]) + "#lesson-end")


def course_page(request, course_slug):
    course = get_course(course_slug)
    modules = selectors.course_progress(course, request.user)
    signed_in = request.user.is_authenticated
    continue_target = selectors.course_continue_target(course, request.user)
    if not signed_in:
        lessons = selectors.course_lessons(course)
        if lessons:
            continue_target = {"kind": "lesson", "lesson": lessons[0], "title": lessons[0].title, "first": True}
    return render(
        request,
        "courses/course.html",
        {
            "course": course,
            "modules": modules,
            "continue_target": continue_target,
            "totals": {
                key: sum(m[key] for m in modules)
                for key in ("lessons_total", "lessons_read", "labs_total", "labs_passed", "questions")
            },
            "open_exam": open_exam(request.user, course) if signed_in else None,
        },
    )


@learner_required
def lab_catalogue(request):
    module_slug = request.GET.get("module", "").strip()
    service = request.GET.get("service", "").strip()
    return render(request, "labs/catalogue.html", selectors.lab_catalogue(request.user, module_slug, service))
