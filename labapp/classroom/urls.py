from django.urls import path

from . import views

app_name = "classroom"

urlpatterns = [
    # Instructors and teaching assistants
    path("classes/", views.class_list, name="classes"),
    path("classes/<int:class_id>/", views.class_page, name="class"),
    path("classes/<int:class_id>/code/", views.reset_code, name="reset-code"),
    path("classes/<int:class_id>/roster/", views.roster, name="roster"),
    path("classes/<int:class_id>/roster/import/", views.roster_import, name="roster-import"),
    path("classes/<int:class_id>/members/", views.member_add, name="member-add"),
    path("classes/<int:class_id>/members/<int:member_id>/", views.member_change, name="member-change"),
    path("classes/<int:class_id>/assignments/", views.assignment_create, name="assignment-create"),
    path("classes/<int:class_id>/assignments/<int:assignment_id>/", views.assignment_page, name="assignment"),
    path("classes/<int:class_id>/assignments/<int:assignment_id>/dates/", views.assignment_dates,
         name="assignment-dates"),
    path("classes/<int:class_id>/assignments/<int:assignment_id>/extensions/", views.extension_grant,
         name="extension-grant"),
    path("classes/<int:class_id>/assignments/<int:assignment_id>/extensions/<int:extension_id>/remove/",
         views.extension_remove, name="extension-remove"),
    path("classes/<int:class_id>/assignments/<int:assignment_id>/regrade/", views.regrade_start,
         name="regrade-start"),
    path("classes/<int:class_id>/regrades/<int:run_id>/", views.regrade_page, name="regrade"),
    path("classes/<int:class_id>/regrades/<int:run_id>/progress/", views.regrade_progress, name="regrade-progress"),
    path("classes/<int:class_id>/gradebook/", views.gradebook_page, name="gradebook"),
    path("classes/<int:class_id>/gradebook.csv", views.gradebook_export, name="gradebook-csv"),
    path("classes/<int:class_id>/gradebook/<int:assignment_id>/<int:user_id>/", views.cell_page, name="cell"),
    # Learners
    path("join/", views.join, name="join"),
    path("join/<str:code>/", views.join_link, name="join-link"),
    path("assignments/<int:assignment_id>/submit/", views.submit_lab, name="submit"),
    path("assignments/<int:assignment_id>/submission/", views.submission_status, name="submission-status"),
]
