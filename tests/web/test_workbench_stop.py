"""The Stop button of a running command or script, as the learner uses it: a pending entry shows a timer
and Stop; Stop ends a queued run at once (it never runs) and asks the worker to kill a running one, whose
entry then says "Stopped by you". Only the run's learner can stop it; a finished run stays as it was."""

import re

from labapp.runner import services as runner
from labapp.runner.models import Run
from labapp.runner.sandbox import Outcome

from .test_workbench import HTMX, PreparedPool, finish, run_id_in, type_command


class StoppablePool:
    """Stands in for the sandbox pool: a run that never ends by itself, only when should_stop says so (as
    Sandbox.run does, it asks every tick). `during(ticks)` plays the learner meanwhile."""

    def __init__(self, during):
        self.during = during

    def run(self, job, limits, should_stop=None):
        assert should_stop is not None, "the worker must pass the Stop check to the sandbox"
        ticks = 0
        while not should_stop():
            self.during(ticks)
            ticks += 1
            assert ticks < 100, "never told to stop"
        return Outcome(stdout=b"tick\ntick\n", stderr=b"", exit_code=137, duration_ms=3120.0, limit="stopped",
                       message="stopped by you")


def stop(client, run_id, **extra):
    return client.post(f"/runs/{run_id}/stop/", **extra)


def test_a_running_script_shows_a_timer_and_a_stop_button(alice_client, session):
    html = alice_client.post(f"/sessions/{session.pk}/script/", {"source": "while True: pass"}, **HTMX).content.decode()
    run_id = run_id_in(html)
    assert "Running…" in html and 'role="timer"' in html and "data-elapsed-since=" in html
    assert re.search(rf'<form method="post" action="/runs/{run_id}/stop/"[^>]*hx-post="/runs/{run_id}/stop/"', html)
    assert ">Stop<" in html and "this script" in html  # the button's name says what it stops


def test_stop_while_queued_means_it_never_runs(alice_client, session):
    run_id = run_id_in(type_command(alice_client, session, "aws s3 ls", **HTMX).content.decode())
    html = stop(alice_client, run_id, **HTMX).content.decode()
    assert "Stopped by you" in html and "before it started" in html
    assert 'data-run-status="done"' in html and "hx-get" not in re.search(r"<li [^>]*>", html).group(0)
    assert runner.claim(run_id, "test-worker:1") == (None, "finished")  # the worker's delivery does nothing


def test_stop_while_running_kills_it_on_the_worker_and_says_so(alice_client, session):
    html = alice_client.post(f"/sessions/{session.pk}/script/", {"source": "while True: print('tick')"},
                             **HTMX).content.decode()
    run_id = run_id_in(html)
    run, state = runner.claim(run_id, "test-worker:1")
    assert state == "claimed"

    def learner(tick):
        if tick == 3:  # the script has been running a while: the learner presses Stop
            html = stop(alice_client, run_id, **HTMX).content.decode()
            assert "Stopping…" in html and f'hx-get="/runs/{run_id}/"' in html  # still polls for the end
            assert ">Stop<" not in html  # pressed once is enough
            assert alice_client.get(f"/runs/{run_id}/", **HTMX).status_code == 204

    runner.execute(run, "test-worker:1", pool=StoppablePool(learner))
    html = alice_client.get(f"/runs/{run_id}/", **HTMX).content.decode()
    assert "Stopped by you" in html and "after 3120 ms" in html and "tick" in html
    assert "exit status" not in html  # not an error of the learner's script


def test_stop_after_the_run_ended_changes_nothing(alice_client, session):
    run_id = run_id_in(type_command(alice_client, session, "aws s3 ls", **HTMX).content.decode())
    finish(run_id, PreparedPool(stdout=b"2026-12-06 bucket-one\n"))
    html = stop(alice_client, run_id, **HTMX).content.decode()
    assert "bucket-one" in html and "exit status 0" in html and "Stopped" not in html
    run = Run.objects.get(pk=run_id)
    assert run.limit == "" and run.status == Run.Status.DONE


def test_only_the_runs_learner_can_stop_it(alice_client, bob_client, session):
    run_id = run_id_in(type_command(alice_client, session, "aws s3 ls", **HTMX).content.decode())
    assert stop(bob_client, run_id, **HTMX).status_code == 404
    assert alice_client.get(f"/runs/{run_id}/stop/").status_code == 405  # a GET (a link, a prefetch) stops nothing
    run = Run.objects.get(pk=run_id)
    assert run.status == Run.Status.QUEUED and not run.stop_requested


def test_without_javascript_stop_posts_and_comes_back_to_the_tool(alice_client, session):
    run_id = run_id_in(alice_client.post(f"/sessions/{session.pk}/script/", {"source": "while True: pass"},
                                         **HTMX).content.decode())
    response = stop(alice_client, run_id)
    assert response.status_code == 302 and response["Location"] == "/labs/web-test-lab/#script"
    assert "Stopped by you" in alice_client.get("/labs/web-test-lab/").content.decode()
