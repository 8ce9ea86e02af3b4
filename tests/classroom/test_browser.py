"""The instructor workspace end to end in headless Chromium, on the real stack: an instructor creates a
class and assigns a lab; a learner signs up, joins with the class code, does part of the lab and submits
it for grading; the instructor sees the grade in the gradebook, opens the cell, and exports the CSV.
"""

import csv
import io
import secrets
import time
from pathlib import Path

import pytest

from tests.browser import chromium, sign_in, sign_up


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_instructor_creates_a_class_learner_joins_and_submits_instructor_sees_grade_and_exports(
    lab_stack, live_server
):
    import boto3
    from botocore.config import Config
    from django.contrib.auth import get_user_model

    teacher_password = "teach " + secrets.token_hex(6)
    get_user_model().objects.create_user("irene", password=teacher_password, is_staff=True)
    learner = "learner" + secrets.token_hex(3)
    learner_password = "a perfectly long passphrase " + secrets.token_hex(4)
    base = live_server.url

    with chromium() as (new_page, problems):
        teacher = new_page(accept_downloads=True)
        student = new_page()
        for page in (teacher, student):
            page.on("dialog", lambda dialog: dialog.accept())  # confirmations ("Submit for grading?")

        # The instructor creates a class and assigns the S3 versioning lab, due tomorrow.
        sign_in(teacher, base, "irene", teacher_password)
        teacher.get_by_role("link", name="Instructor", exact=True).click()
        teacher.get_by_label("Name").fill("Browser cohort")
        teacher.get_by_role("button", name="Create class").click()
        code = teacher.locator("[data-join-code]").text_content().strip()
        assert len(code) == 8
        teacher.get_by_label("Lab or quiz").select_option(label="Lab: Protect a website with S3 versioning")
        teacher.get_by_label("Opens (UTC)").fill(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 3600)))
        teacher.get_by_label("Due (UTC)").fill(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + 86400)))
        teacher.get_by_role("button", name="Assign").click()
        teacher.wait_for_selector("text=Assigned “Protect a website with S3 versioning”")

        # The learner signs up, joins with the code and finds the assignment on the home page.
        sign_up(student, base, learner, learner_password)
        student.goto(f"{base}/join/")
        student.get_by_label("Class code").fill(code.lower())
        student.get_by_role("button", name="Join").click()
        student.wait_for_selector("text=You joined “Browser cohort”")
        row = student.locator("[data-my-assignments] tr[data-assignment]")
        assert row.get_attribute("data-status") == "not_started"
        row.get_by_role("link", name="Protect a website with S3 versioning").click()

        # The learner starts the lab, does its first task with boto3, and submits.
        student.get_by_role("button", name="Start lab", exact=True).click()
        student.wait_for_selector('[data-credential="access-key-id"]', timeout=60_000)
        creds = {name: student.locator(f'[data-credential="{name}"]').text_content().strip()
                 for name in ("access-key-id", "secret-access-key", "region", "endpoint-url")}
        bucket = student.locator('[data-param="bucket"]').text_content().strip()
        boto3.client("s3", aws_access_key_id=creds["access-key-id"],
                     aws_secret_access_key=creds["secret-access-key"], region_name=creds["region"],
                     endpoint_url=creds["endpoint-url"], config=Config(s3={"addressing_style": "path"})
                     ).put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        student.get_by_role("button", name="Submit for grading").click()
        student.wait_for_selector("text=Submitted for grading in “Browser cohort”")
        deadline = time.monotonic() + 60
        while not student.locator("[data-submission-score]").count():
            assert time.monotonic() < deadline, "the submission was not graded"
            time.sleep(0.5)
            student.reload()
        assert student.locator("[data-submission-score]").text_content().strip() == "2/7"

        # The instructor sees the grade, opens the cell, and exports the CSV.
        teacher.get_by_role("link", name="Gradebook").click()
        cell = teacher.locator(f'tr[data-learner="{learner}"] td.cell').first
        assert cell.text_content().strip() == "2/7"
        assert "s-submitted" in cell.get_attribute("class")
        cell.get_by_role("link").click()
        teacher.wait_for_selector('[data-event="submit"]')
        assert teacher.locator('[data-event="call"][data-action="PutBucketVersioning"]').count() == 1
        teacher.go_back()
        with teacher.expect_download() as download:
            teacher.locator('[data-export="csv"]').click()
        rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
        assert rows[0][3] == "s3-versioning (of 7)"
        assert rows[1][0] == learner and rows[1][3] == "2"

    csp = [message for message in problems if "Content Security Policy" in message]
    assert not csp, csp
    assert not problems, problems
