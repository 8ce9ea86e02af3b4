"""The lab page's workbench: the AWS CLI console and the boto3 script runner, as the browser sees them.

A command or script is recorded as a Run and handed to a worker; the page gets a pending entry that
polls its own URL (204 until the run ends, then the output). Here the worker's part is played by the
runner's own claim/execute with a pool that returns a prepared outcome, so these tests are about what
the learner sees; tests/web/test_browser.py runs the real thing (Celery, bubblewrap, the AWS CLI).
"""

import re

from labapp.labs.models import LabSession
from labapp.runner import services as runner
from labapp.runner.models import Run, ScriptDraft
from labapp.runner.sandbox import Outcome

from .conftest import make_session

HTMX = {"HTTP_HX_REQUEST": "true"}


class PreparedPool:
    """Stands in for the sandbox pool: returns the outcome given, records the jobs it was handed."""

    def __init__(self, stdout=b"", stderr=b"", exit_code=0, duration_ms=87.0, limit=None, message=""):
        self.outcome = Outcome(stdout=stdout, stderr=stderr, exit_code=exit_code, duration_ms=duration_ms,
                               limit=limit, message=message)
        self.jobs = []

    def run(self, job, limits, should_stop=None):
        self.jobs.append(job)
        return self.outcome


def finish(run_id, pool):
    """What the worker does with a queued run: claim it once, run it, store the output."""
    run, state = runner.claim(str(run_id), "test-worker:1")
    assert state == "claimed"
    return runner.execute(run, "test-worker:1", pool=pool)


def run_id_in(html: str) -> str:
    return re.search(r'id="run-([0-9a-f-]{36})"', html).group(1)


def type_command(client, session, command, **extra):
    return client.post(f"/sessions/{session.pk}/console/", {"command": command}, **extra)


def test_a_ready_lab_has_a_labelled_console_and_script_editor(alice_client, session, no_gateway):
    html = alice_client.get("/labs/web-test-lab/").content.decode()
    assert 'id="workbench"' in html
    # Console: a labelled input, output in a live log region.
    assert '<label for="console-input"' in html and "AWS CLI command" in html
    # role=log sits on a div (an <ol> may not carry it), with the entries in a list inside.
    assert re.search(r'<div id="console-log"[^>]*role="log"[^>]*aria-live="polite"', html)
    assert '<ol id="console-entries"' in html
    # Script runner: a labelled textarea with a starter script, output in a live region.
    assert '<label for="script-source"' in html
    assert "s3 = boto3.client(&quot;s3&quot;)" in html
    assert re.search(r'id="script-output"[^>]*aria-live="polite"', html)
    assert "Ctrl</kbd>+<kbd>Enter</kbd> runs it" in html


def test_a_command_shows_pending_then_its_output_escaped(alice_client, session, no_gateway,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = type_command(alice_client, session, "aws s3 ls", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    run_id = run_id_in(html)
    assert 'data-run-status="queued"' in html and 'data-command="aws s3 ls"' in html
    assert f'hx-get="/runs/{run_id}/"' in html and "Running…" in html
    assert len(queued) == 1  # handed to a worker once the row is committed

    # Polling an unfinished run costs nothing: 204, htmx leaves the entry alone.
    assert alice_client.get(f"/runs/{run_id}/", **HTMX).status_code == 204

    hostile = b'<script>alert(1)</script>\n<div hx-get="/logout/" hx-trigger="load">x</div>\n'
    pool = PreparedPool(stdout=hostile, stderr=b"<img src=x onerror=alert(2)>", exit_code=255)
    finish(run_id, pool)
    assert pool.jobs[0]["argv"] == ["aws", "s3", "ls"]

    entry = alice_client.get(f"/runs/{run_id}/", **HTMX)
    assert entry.status_code == 200
    html = entry.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html and "<img" not in html
    assert 'hx-get="/logout/"' not in html  # the learner's text is text, not an attribute
    assert "hx-get" not in re.search(r"<li [^>]*>", html).group(0)  # finished: the entry stops polling
    assert "exit status 255" in html and "87 ms" in html and 'data-run-status="done"' in html


def test_anything_but_an_aws_command_is_refused_at_once_and_never_run(alice_client, session,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        html = type_command(alice_client, session, "cat /etc/passwd; aws s3 ls", **HTMX).content.decode()
    assert queued == []  # no worker involved
    assert "Only aws commands run here" in html and "Refused: nothing was run." in html
    run = Run.objects.get(session=session)
    assert run.status == Run.Status.DONE and run.refused and run.exit_code == 2
    # An unbalanced quote is refused with the reason, not run.
    html = type_command(alice_client, session, "aws s3 ls 's3://unterminated", **HTMX).content.decode()
    assert "Could not read that command: No closing quotation." in html


def test_history_comes_back_with_the_page_oldest_first(alice_client, session, no_gateway):
    for command in ["aws s3 ls", "aws iam list-users --output table", "aws sts get-caller-identity"]:
        run_id = run_id_in(type_command(alice_client, session, command, **HTMX).content.decode())
        finish(run_id, PreparedPool(stdout=f"output of {command}\n".encode()))
    html = alice_client.get("/labs/web-test-lab/").content.decode()
    assert re.findall(r'data-command="([^"]+)"', html) == [
        "aws s3 ls", "aws iam list-users --output table", "aws sts get-caller-identity"
    ]
    assert "output of aws iam list-users --output table" in html


def test_limits_and_infrastructure_failures_are_explained(alice_client, session):
    run_id = run_id_in(type_command(alice_client, session, "aws s3 ls", **HTMX).content.decode())
    finish(run_id, PreparedPool(exit_code=-9, limit="memory", message="stopped: memory limit 512 MB"))
    html = alice_client.get(f"/runs/{run_id}/", **HTMX).content.decode()
    assert "stopped: memory limit 512 MB" in html and 'data-limit="memory"' in html

    run_id = run_id_in(type_command(alice_client, session, "aws s3 ls", **HTMX).content.decode())
    runner.fail_infra(Run.objects.get(pk=run_id))
    html = alice_client.get(f"/runs/{run_id}/", **HTMX).content.decode()
    assert "Not run:" in html and "it was not run again" in html


def test_a_runaway_learner_cannot_queue_without_limit(alice_client, session):
    for _ in range(runner.MAX_UNFINISHED_RUNS):
        assert type_command(alice_client, session, "aws s3 ls", **HTMX).status_code == 200
    response = type_command(alice_client, session, "aws s3 ls", **HTMX)
    assert response["HX-Retarget"] == "#console-status"
    assert "still running" in response.content.decode()
    assert Run.objects.filter(session=session).count() == runner.MAX_UNFINISHED_RUNS


def test_a_script_run_is_saved_and_shows_its_trace_and_run_time(alice_client, session, no_gateway):
    source = 'import boto3\nraise RuntimeError("<b>boom</b>")\n'
    response = alice_client.post(f"/sessions/{session.pk}/script/", {"source": source}, **HTMX)
    html = response.content.decode()
    run_id = run_id_in(html)
    assert 'data-run-status="queued"' in html
    assert ScriptDraft.objects.get(session=session).source == source

    trace = b'Traceback (most recent call last):\n  File "script.py", line 2\nRuntimeError: <b>boom</b>\n'
    pool = PreparedPool(stderr=trace, exit_code=1, duration_ms=143.4)
    finish(run_id, pool)
    assert pool.jobs[0]["mode"] == "script" and pool.jobs[0]["source"] == source
    html = alice_client.get(f"/runs/{run_id}/", **HTMX).content.decode()
    assert "Traceback (most recent call last)" in html and "RuntimeError: &lt;b&gt;boom&lt;/b&gt;" in html
    assert "exit status 1" in html and "143 ms" in html

    # The page shows the saved script and its last result after a reload.
    page = alice_client.get("/labs/web-test-lab/").content.decode()
    assert "raise RuntimeError(&quot;&lt;b&gt;boom&lt;/b&gt;&quot;)" in page
    assert "Traceback (most recent call last)" in page


def test_the_editor_saves_as_the_learner_types(alice_client, session, no_gateway):
    response = alice_client.post(f"/sessions/{session.pk}/script/save/", {"source": "print('draft')\n"}, **HTMX)
    assert "Saved at" in response.content.decode()
    assert "print(&#x27;draft&#x27;)" in alice_client.get("/labs/web-test-lab/").content.decode()
    too_long = "#" * (runner.MAX_SCRIPT_CHARS + 1)
    response = alice_client.post(f"/sessions/{session.pk}/script/save/", {"source": too_long}, **HTMX)
    assert "Not saved" in response.content.decode()
    assert ScriptDraft.objects.get(session=session).source == "print('draft')\n"  # nothing lost


def test_an_empty_script_is_explained(alice_client, session):
    response = alice_client.post(f"/sessions/{session.pk}/script/", {"source": "  \n"}, **HTMX)
    assert response["HX-Retarget"] == "#script-status"
    assert "The script is empty" in response.content.decode()
    assert not Run.objects.exists()


def test_another_learner_can_neither_run_in_nor_read_a_session(bob_client, session):
    alice_run = runner.submit(session, Run.Kind.CLI, "aws s3 ls")
    assert type_command(bob_client, session, "aws s3 ls", **HTMX).status_code == 404
    assert bob_client.post(f"/sessions/{session.pk}/script/", {"source": "print(1)"}, **HTMX).status_code == 404
    assert bob_client.post(f"/sessions/{session.pk}/script/save/", {"source": "x"}, **HTMX).status_code == 404
    assert bob_client.get(f"/runs/{alice_run.pk}/", **HTMX).status_code == 404
    assert bob_client.get(f"/sessions/{session.pk}/panels/workbench/", **HTMX).status_code == 404
    assert Run.objects.filter(session=session).count() == 1 and not ScriptDraft.objects.exists()


def test_the_workbench_appears_once_the_sandbox_is_ready(alice_client, alice, lab, no_gateway):
    session = make_session(alice, lab, status=LabSession.Status.PROVISIONING)
    html = alice_client.get("/labs/web-test-lab/").content.decode()
    assert "The console opens as soon as your sandbox is ready." in html
    assert f'hx-get="/sessions/{session.pk}/panels/workbench/?cursor=provisioning"' in html
    url = f"/sessions/{session.pk}/panels/workbench/?cursor=provisioning"
    assert alice_client.get(url, **HTMX).status_code == 204
    LabSession.objects.filter(pk=session.pk).update(status=LabSession.Status.READY)
    html = alice_client.get(url, **HTMX).content.decode()
    assert 'id="console-input"' in html and "hx-trigger=\"every 1s\"" not in html.split('id="tab-console"')[0]


def test_an_ended_session_runs_nothing(alice_client, session):
    LabSession.objects.filter(pk=session.pk).update(status=LabSession.Status.ENDED)
    response = type_command(alice_client, session, "aws s3 ls", **HTMX)
    assert "This lab session has ended." in response.content.decode()
    assert not Run.objects.exists()


def test_without_javascript_the_forms_post_and_come_back_to_the_console(alice_client, session, no_gateway):
    response = type_command(alice_client, session, "aws s3 ls")
    assert response.status_code == 302 and response["Location"] == "/labs/web-test-lab/#console"
    page = alice_client.get("/labs/web-test-lab/").content.decode()
    assert 'data-command="aws s3 ls"' in page


def test_workbench_requests_need_the_csrf_token(alice, session):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert type_command(client, session, "aws s3 ls").status_code == 403
    assert client.post(f"/sessions/{session.pk}/script/", {"source": "print(1)"}).status_code == 403
    assert not Run.objects.exists()
