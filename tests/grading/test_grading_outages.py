"""An outage while grading is never a grade: the grader raises SandboxUnavailable instead of failing
checks, and the gateway's journal keeps rows it could not write and says so when asked to flush."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from labapp.grading import grader
from labapp.grading.checks import CheckContext
from labapp.sandbox.client import SandboxUnavailable
from labapp.sandbox.gateway.journal import Journal, JournalEntry

DEFINITION = {"tasks": [{"id": "t", "title": "T", "points": 2, "checks": [{"kind": "s3.bucket_versioning", "bucket": "b"}]}]}


def context_raising(error):
    class Client:
        def __getattr__(self, name):
            def call(*args, **kwargs):
                raise error
            return call

    return CheckContext(params={}, client=lambda service: Client(), journal=[])


@pytest.mark.parametrize("error", [
    EndpointConnectionError(endpoint_url="http://127.0.0.1:4566"),
    ClientError({"Error": {"Code": "InternalError", "Message": "boom"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "HeadBucket"),
    ClientError({"Error": {"Code": "ServiceUnavailable"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "HeadBucket"),
])
def test_an_unreachable_or_failing_sandbox_raises_instead_of_grading(error):
    with pytest.raises(SandboxUnavailable):
        grader.grade(DEFINITION, {}, context_raising(error))


def test_the_learners_own_missing_resource_is_still_a_failed_check():
    missing = ClientError({"Error": {"Code": "NoSuchBucket"}, "ResponseMetadata": {"HTTPStatusCode": 404}}, "HeadBucket")
    outcome = grader.grade(DEFINITION, {}, context_raising(missing))
    assert outcome["score"] == 0 and outcome["tasks"][0]["feedback"] == "bucket b does not exist"


def entry(n: int) -> JournalEntry:
    return JournalEntry(session_id="s", at=datetime.now(UTC), source="learner", service="s3", action=f"A{n}",
                        region="us-east-1", status=200, error_code="", params={}, mutating=False, duration_ms=1.0)


def test_the_journal_keeps_rows_while_the_database_is_down_and_flush_says_so(monkeypatch):
    journal = Journal()
    written: list[str] = []
    database_up = False

    def insert(rows):
        if not database_up:
            raise RuntimeError("database unavailable")
        written.extend(row[4] for row in rows)

    monkeypatch.setattr(journal, "_insert", insert)
    monkeypatch.setattr(journal, "_connection_check", lambda: None)
    monkeypatch.setattr(journal, "_drop_connection", lambda: None)
    for n in range(3):
        journal.record(entry(n))
    assert journal.flush(timeout=5) is False  # not written: a grader must not trust this journal
    assert written == []
    database_up = True
    journal.record(entry(3))
    assert journal.flush(timeout=5) is True
    assert written == ["A0", "A1", "A2", "A3"]  # every row, once, in order
