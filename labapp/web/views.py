"""Pages: home, sign up / in / out, course, modules, lessons and the lab catalogue. Lab pages live in
lab_views.py, quizzes and the practice exam in quiz_views.py, diagrams in asset_views.py."""

from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from labapp.courses.models import LessonProgress
from labapp.quizzes.services import best_quiz_scores, open_exam

from . import selectors
from .access import get_course, get_lesson, get_module, learner_required
from .forms import SignUpForm


def home(request):
    return render(
        request,
        "home.html",
        {
            "courses": selectors.course_overview(request.user),
            "continue_target": selectors.continue_target(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(next_url or "home")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


@learner_required
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


@learner_required
def lesson_page(request, course_slug, module_slug, lesson_slug):
    lesson = get_lesson(course_slug, module_slug, lesson_slug)
    # Opening a lesson marks it read.
    LessonProgress.objects.get_or_create(user=request.user, lesson=lesson)
    body_html, toc = selectors.with_table_of_contents(lesson.body_html)
    module = lesson.module
    return render(
        request,
        "courses/lesson.html",
        {
            "lesson": lesson,
            "module": module,
            "course": module.course,
            "body_html": body_html,
            "toc": toc,
            "nav": selectors.lesson_navigation(lesson),
            **selectors.module_contents(module, request.user),
        },
    )


@learner_required
def course_page(request, course_slug):
    course = get_course(course_slug)
    modules = selectors.course_progress(course, request.user)
    return render(
        request,
        "courses/course.html",
        {
            "course": course,
            "modules": modules,
            "continue_target": selectors.course_continue_target(course, request.user),
            "totals": {
                key: sum(m[key] for m in modules)
                for key in ("lessons_total", "lessons_read", "labs_total", "labs_passed", "questions")
            },
            "open_exam": open_exam(request.user, course),
        },
    )


@learner_required
def lab_catalogue(request):
    module_slug = request.GET.get("module", "").strip()
    service = request.GET.get("service", "").strip()
    return render(request, "labs/catalogue.html", selectors.lab_catalogue(request.user, module_slug, service))
