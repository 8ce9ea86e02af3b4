from django.contrib.auth import views as auth_views
from django.urls import path

from . import lab_views, views

urlpatterns = [
    path("", views.home, name="home"),
    # Accounts
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Reading
    path("courses/<slug:course_slug>/<slug:module_slug>/", views.module_page, name="module"),
    path(
        "courses/<slug:course_slug>/<slug:module_slug>/lessons/<slug:lesson_slug>/",
        views.lesson_page,
        name="lesson",
    ),
    # Labs
    path("labs/<slug:slug>/", lab_views.lab_page, name="lab"),
    path("labs/<slug:slug>/start/", lab_views.start_lab, name="lab-start"),
    path("sessions/<uuid:session_id>/", lab_views.session_page, name="session"),
    path("sessions/<uuid:session_id>/check/", lab_views.check_progress, name="session-check"),
    path("sessions/<uuid:session_id>/reset/", lab_views.reset_lab, name="session-reset"),
    path("sessions/<uuid:session_id>/end/", lab_views.end_lab, name="session-end"),
    path("sessions/<uuid:session_id>/panels/session/", lab_views.session_panel, name="panel-session"),
    path("sessions/<uuid:session_id>/panels/tasks/", lab_views.tasks_panel, name="panel-tasks"),
    path("sessions/<uuid:session_id>/panels/resources/", lab_views.resources_panel, name="panel-resources"),
    path("sessions/<uuid:session_id>/panels/journal/", lab_views.journal_panel, name="panel-journal"),
    path("attempts/<int:attempt_id>/", lab_views.attempt_page, name="attempt"),
]
