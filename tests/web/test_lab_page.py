"""The lab page, its actions and its live panels: ownership, CSRF, cursors, escaping."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from labapp.labs.models import Attempt, LabSession

from .conftest import add_attempt, add_call, client_for, make_session

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
BUTTONS = ["Start lab", "Check my progress", "Reset lab", "End lab"]


def button_labels(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", label).strip() for label in re.findall(r"<button[^>]*>(.*?)</button>", html, re.S)]


def attributes(html: str) -> list[tuple[str, str, str]]:
    """(tag, attribute, value) for every attribute of every element, as a browser would parse them."""
    from html.parser import HTMLParser

    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, "", ""))
            found.extend((tag, name, value or "") for name, value in attrs)

    Parser().feed(html)
    return found


# --- The page -------------------------------------------------------------------------------


def test_lab_page_before_start_offers_start_lab(alice_client, lab):
    page = alice_client.get(reverse("lab", args=[lab.slug])).content.decode()
    assert "Start lab" in button_labels(page)
    assert "Check my progress" not in button_labels(page)
    assert "{{ bucket }}" in page  # generic instructions before a session exists
    assert "Turn on versioning" in page  # tasks are listed up front


def test_live_lab_page_shows_everything(alice_client, session, no_gateway, settings):
    settings.LAB_GATEWAY_URL = "http://gateway.test:4566"
    add_call(session, "CreateBucket", source="setup")
    add_attempt(session)
    response = alice_client.get(reverse("lab", args=[session.lab.slug]))
    page = response.content.decode()
    labels = button_labels(page)
    for label in ["Check my progress", "Reset lab", "End lab"]:
        assert label in labels
    # Credentials and snippets
    assert session.access_key_id in page and session.secret_access_key in page
    assert 'data-credential="endpoint-url">http://gateway.test:4566<' in page
    assert f"export AWS_ACCESS_KEY_ID={session.access_key_id} AWS_SECRET_ACCESS_KEY={session.secret_access_key}" in page
    assert f"aws configure set aws_access_key_id {session.access_key_id}" in page
    assert "boto3.Session(" in page
    # Lab values and instructions rendered with them
    bucket = session.params["bucket"]
    assert f'data-param="bucket">{bucket}<' in page
    assert f"<code>{bucket}</code>" in page
    # Timer, tasks, score, hint, resources, journal
    assert "data-expires-at=" in page
    assert "Score: <strong data-score>2 / 5</strong>" in page
    assert "Versioning is Enabled." in page and "<summary>Hint" in page
    assert "S3 buckets" in page and "site-bucket" in page
    assert no_gateway == [["s3.buckets"]]
    assert 'data-action="CreateBucket"' in page
    # Live panels poll every second from their own URLs
    assert page.count('hx-trigger="every 1s"') == 4
    assert 'aria-live="polite"' in page


def test_all_four_button_labels_are_exact(alice_client, lab, session, no_gateway):
    labels = button_labels(alice_client.get(reverse("lab", args=[lab.slug])).content.decode())
    labels += button_labels(Client().get(reverse("home")).content.decode())
    session.status = LabSession.Status.ENDED
    session.save()
    labels += button_labels(alice_client.get(reverse("lab", args=[lab.slug])).content.decode())
    for label in BUTTONS:
        assert label in labels


def test_provisioning_session_hides_credentials_and_disables_check(alice_client, alice, lab, no_gateway):
    make_session(alice, lab, status=LabSession.Status.PROVISIONING)
    page = alice_client.get(reverse("lab", args=[lab.slug])).content.decode()
    assert "Preparing your sandbox" in page
    assert 'data-credential="access-key-id"' not in page
    assert re.search(r"<button[^>]*disabled>Check my progress</button>", page)
    assert no_gateway == []  # nothing to list yet


def test_resource_errors_show_inline_never_500(alice_client, session, monkeypatch):
    import labapp.grading.resources as resources

    def broken(kinds, client_factory):
        raise ConnectionRefusedError("gateway down")

    monkeypatch.setattr(resources, "list_resources", broken)
    response = alice_client.get(reverse("lab", args=[session.lab.slug]))
    assert response.status_code == 200
    assert "Could not list resources (ConnectionRefusedError)" in response.content.decode()


def test_lister_errors_per_table_are_shown(alice_client, session, monkeypatch):
    import labapp.grading.resources as resources

    monkeypatch.setattr(
        resources, "list_resources",
        lambda kinds, factory: [{"kind": "s3.buckets", "title": "S3 buckets", "columns": [], "rows": [],
                                 "error": "AccessDenied"}],
    )
    page = alice_client.get(reverse("lab", args=[session.lab.slug])).content.decode()
    assert "Error: AccessDenied" in page


def test_sandbox_derived_text_is_escaped(alice_client, session, monkeypatch):
    import labapp.grading.resources as resources

    evil = "<script>alert(1)</script>"
    monkeypatch.setattr(
        resources, "list_resources",
        lambda kinds, factory: [{"kind": "s3.buckets", "title": "S3 buckets", "columns": ["Name"],
                                 "rows": [[evil], ['x" hx-get="/x']], "error": None}],
    )
    add_call(session, "PutObject", params={"Key": evil, "Bucket": 'b" hx-get=/x'}, error_code="<b>Bad</b>",
             status=400)
    add_attempt(session, results=[{"id": "versioning", "title": "t", "points": 0, "max_points": 2,
                                   "passed": False, "feedback": evil}])
    for response in [
        alice_client.get(reverse("lab", args=[session.lab.slug])),
        alice_client.get(reverse("panel-journal", args=[session.pk]), {"after": 0}, **HTMX),
        alice_client.get(reverse("panel-resources", args=[session.pk]), {"cursor": "stale"}, **HTMX),
        alice_client.get(reverse("panel-tasks", args=[session.pk]), {"cursor": "stale"}, **HTMX),
    ]:
        page = response.content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        # The text shows, but never becomes an element or an attribute.
        assert all(not value.startswith("/x") for _, name, value in attributes(page) if name == "hx-get")
        scripts = {value for tag, name, value in attributes(page) if tag == "script" and name == "src"}
        assert len(scripts) == sum(1 for tag, name, _ in attributes(page) if tag == "script" and name == "")
        assert all(src.startswith("/static/") for src in scripts)
    journal = alice_client.get(reverse("panel-journal", args=[session.pk]), {"after": 0}, **HTMX).content.decode()
    assert "Bucket=b&quot; hx-get=/x" in journal
    assert "&lt;b&gt;Bad&lt;/b&gt;" in journal and "is-error" in journal


# --- Ownership ------------------------------------------------------------------------------


def test_another_learners_session_attempt_and_panels_are_404(bob_client, session, no_gateway):
    attempt = add_attempt(session)
    urls = [
        reverse("session", args=[session.pk]),
        reverse("attempt", args=[attempt.pk]),
        reverse("panel-session", args=[session.pk]),
        reverse("panel-tasks", args=[session.pk]),
        reverse("panel-resources", args=[session.pk]),
        reverse("panel-journal", args=[session.pk]),
    ]
    for url in urls:
        assert bob_client.get(url).status_code == 404, url
        assert bob_client.get(url, **HTMX).status_code == 404, url
    for name in ["session-check", "session-reset", "session-end"]:
        assert bob_client.post(reverse(name, args=[session.pk])).status_code == 404, name
    session.refresh_from_db()
    assert session.status == LabSession.Status.READY
    assert session.attempts.count() == 1
    # bob's own lab page shows no trace of alice's session
    page = bob_client.get(reverse("lab", args=[session.lab.slug])).content.decode()
    assert session.access_key_id not in page and str(session.pk) not in page


def test_owner_sees_own_attempt_and_finished_session(alice_client, session):
    attempt = add_attempt(session)
    assert alice_client.get(reverse("attempt", args=[attempt.pk])).status_code == 200
    # A live session's page is the lab page
    assert alice_client.get(reverse("session", args=[session.pk]))["Location"] == reverse("lab", args=["web-test-lab"])


def test_anonymous_panel_requests(session):
    url = reverse("panel-tasks", args=[session.pk])
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = Client().get(url, **HTMX, HTTP_HX_CURRENT_URL="http://testserver/labs/web-test-lab/")
    assert response["HX-Redirect"].startswith(reverse("login") + "?next=")


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["session-check", "session-reset", "session-end"])
def test_posts_without_csrf_token_are_refused(alice, session, name):
    client = client_for(alice, enforce_csrf_checks=True)
    url = reverse(name, args=[session.pk])
    assert client.post(url).status_code == 403
    assert client.post(url, **HTMX).status_code == 403
    session.refresh_from_db()
    assert session.status == LabSession.Status.READY
    assert not session.attempts.exists()


def test_start_without_csrf_token_is_refused(alice, lab):
    client = client_for(alice, enforce_csrf_checks=True)
    assert client.post(reverse("lab-start", args=[lab.slug]), **HTMX).status_code == 403
    assert not LabSession.objects.exists()


def test_htmx_post_with_csrf_header_is_accepted(alice, session):
    client = client_for(alice, enforce_csrf_checks=True)
    page = client.get(reverse("lab", args=[session.lab.slug])).content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = client.post(reverse("session-check", args=[session.pk]), **HTMX, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert "Checking…" in response.content.decode()
    assert session.attempts.get().status == Attempt.Status.QUEUED


# --- Actions --------------------------------------------------------------------------------


def test_start_lab_creates_a_session_and_is_idempotent(alice_client, alice, lab):
    url = reverse("lab-start", args=[lab.slug])
    assert alice_client.get(url).status_code == 405
    response = alice_client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("lab", args=[lab.slug])
    alice_client.post(url)
    session = LabSession.objects.get(user=alice)
    assert session.status == LabSession.Status.PROVISIONING
    assert session.params["bucket"]


def test_check_without_htmx_redirects_back(alice_client, session):
    response = alice_client.post(reverse("session-check", args=[session.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("lab", args=[session.lab.slug])
    assert session.attempts.count() == 1
    alice_client.post(reverse("session-check", args=[session.pk]))
    assert session.attempts.count() == 1  # one pending check per session


def test_check_on_a_provisioning_session_explains(alice_client, alice, lab):
    session = make_session(alice, lab, status=LabSession.Status.PROVISIONING)
    response = alice_client.post(reverse("session-check", args=[session.pk]), **HTMX)
    assert "The lab is not ready yet." in response.content.decode()
    response = alice_client.post(reverse("session-check", args=[session.pk]), follow=True)
    assert "The lab is not ready yet." in response.content.decode()


def test_end_lab(alice_client, session):
    response = alice_client.post(reverse("session-end", args=[session.pk]))
    assert response["Location"] == reverse("session", args=[session.pk])
    session.refresh_from_db()
    assert session.status == LabSession.Status.ENDED
    page = alice_client.get(reverse("session", args=[session.pk])).content.decode()
    assert "finished session" in page and "every 1s" not in page
    assert session.secret_access_key not in page


def test_reset_lab_gives_a_fresh_session(alice_client, alice, session):
    response = alice_client.post(reverse("session-reset", args=[session.pk]))
    assert response["Location"] == reverse("lab", args=[session.lab.slug])
    session.refresh_from_db()
    assert session.status == LabSession.Status.ENDED
    fresh = LabSession.objects.get(user=alice, status=LabSession.Status.PROVISIONING)
    assert fresh.access_key_id != session.access_key_id


# --- Live panels and cursors ----------------------------------------------------------------


def cursor_in(html: str, name: str = "cursor") -> str:
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    url = unescape(re.search(r'hx-get="([^"]+)"', html).group(1))
    return parse_qs(urlsplit(url).query)[name][0]


def test_journal_panel_appends_only_new_rows(alice_client, session):
    url = reverse("panel-journal", args=[session.pk])
    first = add_call(session, "CreateBucket", source="setup")
    page = alice_client.get(reverse("lab", args=[session.lab.slug])).content.decode()
    assert f'after={first.pk}"' in page
    assert alice_client.get(url, {"after": first.pk}, **HTMX).status_code == 204
    add_call(session, "ListBuckets", source="platform", mutating=False)  # hidden from the learner
    assert alice_client.get(url, {"after": first.pk}, **HTMX).status_code == 204
    second = add_call(session, "PutBucketVersioning")
    response = alice_client.get(url, {"after": first.pk}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-action="PutBucketVersioning"' in html and "CreateBucket" not in html
    assert cursor_in(html, "after") == str(second.pk)
    assert alice_client.get(url, {"after": second.pk}, **HTMX).status_code == 204


def test_tasks_panel_cursor(alice_client, session):
    url = reverse("panel-tasks", args=[session.pk])
    page = alice_client.get(reverse("lab", args=[session.lab.slug])).content.decode()
    cursor = cursor_in(page.split('id="tasks-panel"')[1])
    assert cursor == "ready.0.-"
    assert alice_client.get(url, {"cursor": cursor}, **HTMX).status_code == 204
    attempt = add_attempt(session, status=Attempt.Status.QUEUED)
    response = alice_client.get(url, {"cursor": cursor}, **HTMX)
    assert response.status_code == 200 and "Checking…" in response.content.decode()
    cursor = cursor_in(response.content.decode())
    assert alice_client.get(url, {"cursor": cursor}, **HTMX).status_code == 204
    Attempt.objects.filter(pk=attempt.pk).update(
        status=Attempt.Status.GRADED, score=2, max_score=5,
        results=[{"id": "versioning", "title": "t", "points": 2, "max_points": 2, "passed": True, "feedback": ""}],
    )
    html = alice_client.get(url, {"cursor": cursor}, **HTMX).content.decode()
    assert 'data-task="versioning" data-passed="true"' in html and "2 / 5" in html


def test_resources_panel_relists_only_after_a_mutation(alice_client, session, no_gateway):
    url = reverse("panel-resources", args=[session.pk])
    page = alice_client.get(reverse("lab", args=[session.lab.slug])).content.decode()
    cursor = cursor_in(page.split('id="resources-panel"')[1])
    assert len(no_gateway) == 1
    add_call(session, "ListBuckets", mutating=False)
    add_call(session, "GetBucketVersioning", source="platform", mutating=False)
    assert alice_client.get(url, {"cursor": cursor}, **HTMX).status_code == 204
    assert len(no_gateway) == 1  # idle polls never reach the gateway
    add_call(session, "PutBucketVersioning", mutating=True)
    response = alice_client.get(url, {"cursor": cursor}, **HTMX)
    assert response.status_code == 200 and "site-bucket" in response.content.decode()
    assert len(no_gateway) == 2
    assert alice_client.get(url, {"cursor": cursor_in(response.content.decode())}, **HTMX).status_code == 204


def test_session_panel_shows_ready_and_stops_when_ended(alice_client, alice, lab):
    session = make_session(alice, lab, status=LabSession.Status.PROVISIONING)
    url = reverse("panel-session", args=[session.pk])
    page = alice_client.get(reverse("lab", args=[lab.slug])).content.decode()
    cursor = cursor_in(page.split('id="session-panel"')[1])
    assert alice_client.get(url, {"cursor": cursor}, **HTMX).status_code == 204
    LabSession.objects.filter(pk=session.pk).update(status=LabSession.Status.READY)
    html = alice_client.get(url, {"cursor": cursor}, **HTMX).content.decode()
    assert 'data-credential="access-key-id"' in html and "every 1s" in html
    LabSession.objects.filter(pk=session.pk).update(status=LabSession.Status.ENDED)
    response = alice_client.get(url, {"cursor": cursor_in(html)}, **HTMX)
    assert response.status_code == 286  # htmx stops polling
    html = response.content.decode()
    assert "every 1s" not in html
    # The stale tab says the session ended; starting again is offered on the lab page, not in this panel.
    assert "This session has ended" in html and 'data-session-status="ended"' in html
    assert "Start lab" not in button_labels(html)


def test_panels_of_a_finished_session_stop_polling(alice_client, session):
    LabSession.objects.filter(pk=session.pk).update(status=LabSession.Status.ENDED)
    for name, params in [("panel-tasks", {"cursor": "ready.0.-"}), ("panel-journal", {"after": 0}),
                         ("panel-resources", {"cursor": "ready.0"})]:
        response = alice_client.get(reverse(name, args=[session.pk]), params, **HTMX)
        assert response.status_code == 286, name
        assert "every 1s" not in response.content.decode(), name


def test_panel_responses_carry_csp(alice_client, session):
    response = alice_client.get(reverse("panel-tasks", args=[session.pk]), {"cursor": "x"}, **HTMX)
    assert "Content-Security-Policy" in response


def test_a_failed_sandbox_is_explained_on_the_lab_page(alice_client, alice, lab):
    make_session(alice, lab, status=LabSession.Status.FAILED, error="Setup step 1 failed: BucketAlreadyExists")
    page = alice_client.get(reverse("lab", args=[lab.slug])).content.decode()
    assert "could not be prepared" in page and "BucketAlreadyExists" in page
    assert "Start lab" in button_labels(page)


def test_idle_polls_are_cheap(alice_client, session, django_assert_max_num_queries, no_gateway):
    add_call(session, "CreateBucket", source="setup")
    page = alice_client.get(reverse("lab", args=[session.lab.slug])).content.decode()
    polls = [
        (reverse("panel-session", args=[session.pk]), {"cursor": cursor_in(page.split('id="session-panel"')[1])}),
        (reverse("panel-tasks", args=[session.pk]), {"cursor": cursor_in(page.split('id="tasks-panel"')[1])}),
        (reverse("panel-resources", args=[session.pk]),
         {"cursor": cursor_in(page.split('id="resources-panel"')[1])}),
        (reverse("panel-journal", args=[session.pk]), {"after": cursor_in(page.split('class="poller"')[1], "after")}),
    ]
    calls_before = len(no_gateway)
    for url, params in polls:
        # Django's session + user, then the lab session, then one cursor query.
        with django_assert_max_num_queries(4):
            response = alice_client.get(url, params, **HTMX)
        assert response.status_code == 204, url
        assert response.content == b""
    assert len(no_gateway) == calls_before


def test_pages_with_credentials_are_not_cached(alice_client, session, no_gateway):
    for url in [reverse("lab", args=[session.lab.slug]), reverse("panel-session", args=[session.pk])]:
        assert "no-store" in alice_client.get(url)["Cache-Control"]


def test_anonymous_start_is_sent_to_sign_in(lab):
    response = Client().post(reverse("lab-start", args=[lab.slug]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
