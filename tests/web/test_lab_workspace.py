"""The lab page as a workspace, server side: extending a session (and the gateway honouring it), the best
result and earlier sessions' scores, "Lab complete" with the next step, the warning before submitting with
failing tasks, the ended-session banner, the live labs on the home page, and the smaller fixes."""

import json
import re
import time
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from labapp.courses.models import Lab, Lesson, Module
from labapp.labs import services
from labapp.labs.models import LabSession

from .conftest import LAB_DEFINITION, add_attempt, make_session

HTMX = {"HTTP_HX_REQUEST": "true"}
FULL = [
    {"id": "versioning", "title": "Turn on versioning", "points": 2, "max_points": 2, "passed": True, "feedback": ""},
    {"id": "versions", "title": "Upload two versions", "points": 3, "max_points": 3, "passed": True, "feedback": ""},
]


def page_of(client, lab) -> str:
    return client.get(reverse("lab", args=[lab.slug])).content.decode()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- Extending a session ----------------------------------------------------------------------


def test_extend_adds_time_and_the_panel_shows_it(alice_client, session, settings, django_capture_on_commit_callbacks):
    settings.LAB_SESSION_MINUTES = 120
    before = session.expires_at
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(reverse("session-extend", args=[session.pk]), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    session.refresh_from_db()
    assert session.expires_at == before + timedelta(minutes=30)
    assert f"until {session.expires_at:%H:%M} UTC" in text_of(html)
    assert 'id="session-panel"' in html and "data-extended" in html
    # The gateway is told to forget the key's cached expiry once the new one is committed.
    assert callbacks, "no on-commit callback: the gateway would keep the old expiry for a few seconds"


def test_extend_is_capped_at_twice_the_session_length(alice_client, alice, lab, settings):
    settings.LAB_SESSION_MINUTES = 60
    session = make_session(alice, lab)
    cap = session.created_at + timedelta(minutes=120)
    for _ in range(6):
        alice_client.post(reverse("session-extend", args=[session.pk]))
    session.refresh_from_db()
    assert session.expires_at == cap
    response = alice_client.post(reverse("session-extend", args=[session.pk]), follow=True)
    assert "cannot be extended further" in response.content.decode()
    session.refresh_from_db()
    assert session.expires_at == cap
    assert "Extend by" not in page_of(alice_client, lab)


def test_extend_refuses_an_ended_session_and_anothers(alice_client, bob_client, session):
    assert bob_client.post(reverse("session-extend", args=[session.pk])).status_code == 404
    LabSession.objects.filter(pk=session.pk).update(status=LabSession.Status.ENDED)
    before = LabSession.objects.get(pk=session.pk).expires_at
    response = alice_client.post(reverse("session-extend", args=[session.pk]), follow=True)
    assert "already ended" in response.content.decode()
    assert LabSession.objects.get(pk=session.pk).expires_at == before


def test_extend_needs_post_and_csrf(session, alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get(reverse("session-extend", args=[session.pk])).status_code == 405
    assert client.post(reverse("session-extend", args=[session.pk])).status_code == 403


def test_expiry_warning_is_rendered_when_little_time_is_left(alice_client, session, lab):
    assert re.search(r"data-expiry-warning\s+hidden", page_of(alice_client, lab))
    LabSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() + timedelta(minutes=7))
    page = page_of(alice_client, lab)
    assert not re.search(r"data-expiry-warning\s+hidden", page)
    assert "Your sandbox ends soon" in page and "data-extend-form" in page


def test_the_timer_is_not_inside_a_live_region(alice_client, session, lab):
    page = page_of(alice_client, lab)
    panel = page.split('id="session-panel"')[1].split(">")[0]
    assert "aria-live" not in panel
    assert 'id="lab-announcer"' in page and 'role="status"' in page


@pytest.mark.django_db(transaction=True)
def test_an_extended_session_key_keeps_working_past_its_old_expiry(sandbox_stack, settings):
    """End to end through the gateway: the session's key and an IAM user key made in the sandbox, both
    used (so cached with the old expiry), keep working after it once the session is extended; the reaper
    leaves the session alone."""
    import boto3
    from botocore.exceptions import ClientError

    from tests.sandbox.helpers import LEARNER_CONFIG, make_sandbox

    settings.LAB_SESSION_MINUTES = 120
    box = make_sandbox(sandbox_stack.url)
    expires = timezone.now() + timedelta(seconds=3)
    LabSession.objects.filter(pk=box.session.pk).update(expires_at=expires)
    s3 = box.client("s3")
    s3.list_buckets()
    user_key = box.client("iam").create_access_key(UserName=_user(box))["AccessKey"]
    user_s3 = boto3.client("s3", endpoint_url=box.gateway_url, region_name="us-east-1",
                           aws_access_key_id=user_key["AccessKeyId"],
                           aws_secret_access_key=user_key["SecretAccessKey"], config=LEARNER_CONFIG)
    user_s3.list_buckets()

    box.session.refresh_from_db()
    extended = services.extend_session(box.session)
    assert extended.expires_at > expires + timedelta(minutes=20)
    time.sleep(max(0.0, (expires - timezone.now()).total_seconds()) + 0.5)
    try:
        s3.list_buckets()
        user_s3.list_buckets()
    except ClientError as exc:  # pragma: no cover - the failure this test exists for
        pytest.fail(f"the extended session's keys were refused: {exc.response['Error']}")
    assert services.expire_sessions() == 0
    assert LabSession.objects.get(pk=box.session.pk).status == LabSession.Status.READY


def _user(box) -> str:
    """An IAM user allowed to list buckets (IAM decides what a user's keys may do, as on AWS)."""
    name = "dev" + uuid.uuid4().hex[:6]
    iam = box.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="list", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}))
    return name


# --- Results: best, earlier sessions, Lab complete --------------------------------------------


def test_best_result_and_earlier_session_scores(alice_client, alice, lab):
    first = make_session(alice, lab, status=LabSession.Status.ENDED)
    add_attempt(first, score=2, max_score=5)
    second = make_session(alice, lab, status=LabSession.Status.EXPIRED)
    add_attempt(second, score=5, max_score=5, results=FULL)
    make_session(alice, lab, status=LabSession.Status.ENDED)  # never checked
    text = text_of(page_of(alice_client, lab))
    passed_on = timezone.now().strftime("%-d %b")
    assert f"Passed on {passed_on}, 5/5" in text
    history = text.split("Earlier sessions")[1]
    assert "2/5" in history and "5/5" in history and "not checked" in history


def test_best_result_when_not_yet_passed(alice_client, alice, lab):
    add_attempt(make_session(alice, lab, status=LabSession.Status.ENDED), score=3, max_score=5)
    add_attempt(make_session(alice, lab, status=LabSession.Status.ENDED), score=1, max_score=5)
    assert f"Best: 3/5 on {timezone.now():%-d %b}" in text_of(page_of(alice_client, lab))


def test_full_marks_show_lab_complete_with_the_next_lab(alice_client, session, lab, module):
    following = Lab.objects.create(uuid=uuid.uuid4(), module=module, slug="next-lab", title="Replicate a bucket",
                                   order=lab.order + 1, minutes=10, definition=LAB_DEFINITION, source_path="x.yaml")
    add_attempt(session, score=5, max_score=5, results=FULL)
    response = alice_client.get(reverse("panel-tasks", args=[session.pk]), {"cursor": "x"}, **HTMX)
    html = response.content.decode()
    banner = html.split("data-lab-complete")[1].split("</div>")[0]
    assert "Lab complete: 5 / 5" in text_of(banner)
    assert reverse("lab", args=[following.slug]) in banner and "Replicate a bucket" in banner
    assert 'role="status"' in html.split("data-lab-complete")[0].rsplit("<div", 1)[1]
    assert "Lab complete." in html  # the short line lab.js announces


def test_the_last_lab_of_a_module_leads_to_the_next_module(alice_client, session, module, course):
    later = Module.objects.create(uuid=uuid.uuid4(), course=course, slug="dynamo", title="DynamoDB", order=2)
    Lesson.objects.create(uuid=uuid.uuid4(), module=later, slug="tables", title="Tables and keys", order=1,
                          body_markdown="x", body_html="<p>x</p>")
    add_attempt(session, score=5, max_score=5, results=FULL)
    page = page_of(alice_client, session.lab)
    assert "Tables and keys" in page
    assert reverse("lesson", args=[course.slug, later.slug, "tables"]) in page


def test_partial_marks_show_no_completion_and_a_short_check_line(alice_client, session, lab):
    add_attempt(session)
    page = page_of(alice_client, lab)
    assert "data-lab-complete" not in page
    assert "Checked: 2 of 5 points" in page
    assert 'data-check-line="Checked: 2 of 5 points. 1 of 2 tasks not passing yet."' in page


# --- Ended sessions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, reason",
    [(LabSession.Status.EXPIRED, "its time ran out"), (LabSession.Status.ENDED, "End lab"),
     (LabSession.Status.SUBMITTED, "handed in")],
)
def test_a_finished_session_says_why_when_and_its_last_score(alice_client, session, status, reason):
    add_attempt(session)
    LabSession.objects.filter(pk=session.pk).update(status=status, ended_at=timezone.now())
    html = alice_client.get(reverse("panel-session", args=[session.pk]), {"cursor": "x"}, **HTMX).content.decode()
    text = text_of(html)
    assert "This session has ended" in text and reason in text and "Last score: 2/5" in text
    assert f'data-session-status="{status}"' in html
    page = alice_client.get(reverse("session", args=[session.pk])).content.decode()
    panel = page.split('id="session-panel"')[1].split("</section>")[0]
    assert "Start lab" not in panel  # the finished-session page offers a new session in its header
    assert "Start a new session" in page.split('id="session-panel"')[0]


def test_a_reset_elsewhere_points_to_the_running_session(alice_client, alice, session, lab):
    LabSession.objects.filter(pk=session.pk).update(status=LabSession.Status.ENDED, ended_at=timezone.now())
    make_session(alice, lab)
    html = alice_client.get(reverse("panel-session", args=[session.pk]), {"cursor": "x"}, **HTMX).content.decode()
    assert "reset" in text_of(html) and "Go to your running session" in html


# --- Submitting for grading -------------------------------------------------------------------


@pytest.fixture
def assigned(alice, lab):
    from labapp.classroom.models import Assignment, Classroom, Membership
    from tests.web.conftest import make_user

    teacher = make_user("teacher")
    room = Classroom.objects.create(name="Cohort 1", created_by=teacher)
    Membership.objects.create(classroom=room, user=alice, role=Membership.Role.LEARNER)
    return Assignment.objects.create(classroom=room, kind=Assignment.Kind.LAB, lab=lab,
                                     opens_at=timezone.now() - timedelta(days=1),
                                     due_at=timezone.now() + timedelta(days=6))


def test_submit_warns_about_failing_tasks_and_looks_secondary(alice_client, session, lab, assigned):
    add_attempt(session)
    page = page_of(alice_client, lab)
    form = page.split("data-submit-form")[1].split(">")[0]
    assert "1 of 2 tasks are not passing in your last check" in text_of(form.replace("&#x27;", "'"))
    assert "Submit anyway?" in form
    button = re.search(r'<button[^>]*>Submit for grading</button>', page).group(0)
    assert "secondary" in button and "primary" not in button
    check = re.search(r'<button[^>]*>Check my progress</button>', page).group(0)
    assert "primary" in check


def test_submit_without_a_check_warns_too(alice_client, session, lab, assigned):
    form = page_of(alice_client, lab).split("data-submit-form")[1].split(">")[0]
    assert "You have not checked your progress" in form


def test_after_submitting_the_learner_sees_the_submitted_result_per_task(alice_client, session, lab, assigned):
    from labapp.classroom.models import Submission
    from labapp.labs.models import Attempt

    attempt = add_attempt(session, kind=Attempt.Kind.SUBMIT)
    Submission.objects.create(assignment=assigned, learner=session.user, session=session, attempt=attempt,
                              submitted_at=timezone.now(), started_at=session.created_at, due_at=assigned.due_at)
    LabSession.objects.filter(pk=session.pk).update(status=LabSession.Status.SUBMITTED, ended_at=timezone.now())
    page = page_of(alice_client, lab)
    submitted = page.split("data-submitted-tasks")[1].split("</ul>")[0]
    assert 'data-submitted-task="versioning" data-passed="true"' in submitted
    assert 'data-submitted-task="versions" data-passed="false"' in submitted
    assert "index.html has 1 version" in submitted
    assert reverse("attempt", args=[attempt.pk]) in page


# --- A second live lab, and the home page ------------------------------------------------------


@pytest.fixture
def other_lab(module):
    return Lab.objects.create(uuid=uuid.uuid4(), module=module, slug="iam-lab", title="IAM users and groups", order=5,
                              minutes=10, definition={**LAB_DEFINITION, "parameters": {}}, source_path="y.yaml")


def test_starting_a_second_lab_warns_and_offers_to_end_the_first(alice_client, session, other_lab, lab):
    page = page_of(alice_client, other_lab)
    notice = page.split("data-other-live")[1].split("</div>")[0]
    assert lab.title in notice and reverse("session-end", args=[session.pk]) in notice
    start = page.split(reverse("lab-start", args=[other_lab.slug]))[1].split(">")[0]
    assert "is still running" in start and "keep both" in start
    # "End it" comes back to the lab being started.
    response = alice_client.post(reverse("session-end", args=[session.pk]),
                                 {"next": reverse("lab", args=[other_lab.slug])})
    assert response["Location"] == reverse("lab", args=[other_lab.slug])
    assert LabSession.objects.get(pk=session.pk).status == LabSession.Status.ENDED


def test_end_ignores_a_next_url_elsewhere(alice_client, session):
    response = alice_client.post(reverse("session-end", args=[session.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("session", args=[session.pk])


def test_home_lists_every_live_lab_with_its_time_left(alice_client, alice, session, other_lab, lab):
    make_session(alice, other_lab)
    home = alice_client.get(reverse("home")).content.decode()
    live = home.split("data-live-labs")[1].split("</ul>")[0]
    assert lab.title in live and other_lab.title in live
    assert text_of(live).count("left (until") == 2


# --- Smaller things ----------------------------------------------------------------------------


def test_values_notice_only_for_labs_with_parameters(alice_client, lab, other_lab):
    notice = "Start the lab to see the instructions with your own values"
    assert notice in page_of(alice_client, lab)
    assert notice not in page_of(alice_client, other_lab)


def test_snippets_mask_the_secret_but_copy_the_real_one(alice_client, session, lab, no_gateway):
    page = page_of(alice_client, lab)
    for name in ["configure", "env", "boto3"]:
        shown = page.split(f'data-snippet-shown="{name}">')[1].split("</code>")[0]
        assert session.secret_access_key not in shown, name
        assert "****" in shown, name
        source = page.split(f'id="snippet-{name}"')[1].split("</code>")[0]
        assert session.secret_access_key in source, name
    # The secret itself is only in the "Show secret" box and the hidden copy sources.
    assert page.count(session.secret_access_key) == 4


def test_copy_buttons_say_what_they_copy(alice_client, session, lab, no_gateway):
    labels = re.findall(r'data-copy-label="([^"]+)"', page_of(alice_client, lab))
    assert {"access key ID", "secret access key", "region", "endpoint URL", "environment variables"} <= set(labels)
    assert len(labels) == len(set(labels))


def test_breadcrumbs_start_with_home(alice_client, lab, session):
    page = page_of(alice_client, lab)
    crumbs = page.split('aria-label="Breadcrumb">')[1].split("</nav>")[0]
    assert text_of(crumbs).startswith("Home ›")
    attempt = add_attempt(session)
    crumbs = alice_client.get(reverse("attempt", args=[attempt.pk])).content.decode().split('aria-label="Breadcrumb">')[1]
    assert text_of(crumbs.split("</nav>")[0]).startswith("Home ›")
