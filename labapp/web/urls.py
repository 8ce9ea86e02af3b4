from django.contrib.auth import views as auth_views
from django.urls import path

from . import asset_views, lab_views, quiz_views, views, workbench_views

urlpatterns = [
    path("", views.home, name="home"),
    # Accounts
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Reading
    path("courses/<slug:course_slug>/", views.course_page, name="course"),
    path("courses/<slug:course_slug>/exam/", quiz_views.exam_home, name="exam"),
    path("courses/<slug:course_slug>/exam/start/", quiz_views.start_exam, name="exam-start"),
    path("courses/<slug:course_slug>/<slug:module_slug>/", views.module_page, name="module"),
    path(
        "courses/<slug:course_slug>/<slug:module_slug>/lessons/<slug:lesson_slug>/",
        views.lesson_page,
        name="lesson",
    ),
    path(
        "courses/<slug:course_slug>/<slug:module_slug>/lessons/<slug:lesson_slug>/read/",
        views.lesson_read,
        name="lesson-read",
    ),
    # Practice questions
    path("courses/<slug:course_slug>/<slug:module_slug>/quiz/", quiz_views.quiz_page, name="quiz"),
    path("courses/<slug:course_slug>/<slug:module_slug>/quiz/retake/", quiz_views.retake_quiz, name="quiz-retake"),
    path(
        "courses/<slug:course_slug>/<slug:module_slug>/quiz/<uuid:question_uuid>/",
        quiz_views.answer_quiz,
        name="quiz-answer",
    ),
    path("exams/<uuid:attempt_id>/", quiz_views.exam_page, name="exam-attempt"),
    path("exams/<uuid:attempt_id>/answer/", quiz_views.answer_exam, name="exam-answer"),
    path("exams/<uuid:attempt_id>/finish/", quiz_views.finish_exam, name="exam-finish"),
    path("exams/<uuid:attempt_id>/results/", quiz_views.exam_results, name="exam-results"),
    path("exams/<uuid:attempt_id>/flag/", quiz_views.flag_exam, name="exam-flag"),
    path("exams/<uuid:attempt_id>/review/", quiz_views.exam_review_page, name="exam-review"),
    # Diagrams of the lessons (never inlined)
    path(
        "course-assets/<str:course_slug>/<str:module_slug>/images/<str:name>",
        asset_views.course_asset,
        name="course-asset",
    ),
    # Labs
    path("labs/", views.lab_catalogue, name="lab-catalogue"),
    path("labs/<slug:slug>/", lab_views.lab_page, name="lab"),
    path("labs/<slug:slug>/start/", lab_views.start_lab, name="lab-start"),
    path("sessions/<uuid:session_id>/", lab_views.session_page, name="session"),
    path("sessions/<uuid:session_id>/check/", lab_views.check_progress, name="session-check"),
    path("sessions/<uuid:session_id>/reset/", lab_views.reset_lab, name="session-reset"),
    path("sessions/<uuid:session_id>/end/", lab_views.end_lab, name="session-end"),
    path("sessions/<uuid:session_id>/extend/", lab_views.extend_lab, name="session-extend"),
    path("sessions/<uuid:session_id>/panels/session/", lab_views.session_panel, name="panel-session"),
    path("sessions/<uuid:session_id>/panels/tasks/", lab_views.tasks_panel, name="panel-tasks"),
    path("sessions/<uuid:session_id>/panels/resources/", lab_views.resources_panel, name="panel-resources"),
    path("sessions/<uuid:session_id>/panels/journal/", lab_views.journal_panel, name="panel-journal"),
    path("attempts/<int:attempt_id>/", lab_views.attempt_page, name="attempt"),
    # The workbench: AWS CLI console and boto3 script runner
    path("sessions/<uuid:session_id>/panels/workbench/", workbench_views.workbench_panel, name="panel-workbench"),
    path("sessions/<uuid:session_id>/console/", workbench_views.console_run, name="console-run"),
    path("sessions/<uuid:session_id>/script/", workbench_views.script_run, name="script-run"),
    path("sessions/<uuid:session_id>/script/save/", workbench_views.script_save, name="script-save"),
    path("runs/<uuid:run_id>/", workbench_views.run_entry, name="run-entry"),
    path("runs/<uuid:run_id>/stop/", workbench_views.run_stop, name="run-stop"),
]
