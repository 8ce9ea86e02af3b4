"""Every change to classes, memberships, assignments, submissions and regrades goes through here.

Views, the management command and Celery tasks stay thin. Errors a user can act on are raised as
ClassroomError with a message written for them.
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.utils import timezone

from labapp.labs import services as lab_services
from labapp.labs.models import ApiCall, Attempt, LabSession

from .models import Assignment, Classroom, Extension, Membership, RegradeItem, RegradeRun, Submission, new_join_code

log = logging.getLogger(__name__)
User = get_user_model()

ROSTER_MAX_BYTES = 1_000_000
ROSTER_MAX_ROWS = 5000


class ClassroomError(Exception):
    """Something the user asked for that cannot be done; the message says why, in their terms."""


# --- Who may teach ------------------------------------------------------------------------------


def can_create_classes(user) -> bool:
    """Instructors are staff accounts (the demo "instructor"), or accounts given the permission."""
    return user.is_authenticated and (user.is_staff or user.has_perm("classroom.add_classroom"))


# --- Classes and members -----------------------------------------------------------------------


def create_classroom(user, name: str, description: str = "") -> Classroom:
    if not can_create_classes(user):
        raise ClassroomError("Only instructors can create classes.")
    with transaction.atomic():
        classroom = Classroom.objects.create(name=name.strip(), description=description.strip(), created_by=user)
        Membership.objects.create(
            classroom=classroom, user=user, role=Membership.Role.INSTRUCTOR, via=Membership.Via.CREATED
        )
    return classroom


def reset_join_code(classroom: Classroom) -> Classroom:
    classroom.join_code = new_join_code()
    classroom.save(update_fields=["join_code"])
    return classroom


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def join_by_code(user, code: str) -> tuple[Membership, bool]:
    """Join the class with this code as a learner. Returns (membership, created)."""
    classroom = Classroom.objects.filter(join_code=normalise_code(code)).first()
    if classroom is None:
        raise ClassroomError("No class has that code. Check it with your instructor; codes are 8 letters and digits.")
    existing = Membership.objects.filter(classroom=classroom, user=user).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            return Membership.objects.create(classroom=classroom, user=user, via=Membership.Via.CODE), True
    except IntegrityError:  # a double click: the other request created it
        return Membership.objects.get(classroom=classroom, user=user), False


def add_member(classroom: Classroom, username: str, role: str) -> Membership:
    user = User.objects.filter(username=username.strip()).first()
    if user is None:
        raise ClassroomError(f"There is no account with the username “{username.strip()}”.")
    membership, created = Membership.objects.get_or_create(
        classroom=classroom, user=user, defaults={"role": role, "via": Membership.Via.ADDED}
    )
    if not created and membership.role != role:
        set_role(membership, role)
    return membership


def set_role(membership: Membership, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise ClassroomError("Unknown role.")
    if membership.role == Membership.Role.INSTRUCTOR and role != Membership.Role.INSTRUCTOR:
        _keep_one_instructor(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


def remove_member(membership: Membership) -> None:
    if membership.role == Membership.Role.INSTRUCTOR:
        _keep_one_instructor(membership)
    membership.delete()


def _keep_one_instructor(membership: Membership) -> None:
    others = Membership.objects.filter(classroom_id=membership.classroom_id, role=Membership.Role.INSTRUCTOR)
    if not others.exclude(pk=membership.pk).exists():
        raise ClassroomError("A class needs at least one instructor; add another before changing this one.")


# --- Roster import ------------------------------------------------------------------------------


@dataclass
class RosterReport:
    added: list[str] = field(default_factory=list)  # existing accounts added as learners
    created: list[tuple[str, str]] = field(default_factory=list)  # (username, one-time password)
    already: list[str] = field(default_factory=list)
    failed: list[tuple[int, str, str]] = field(default_factory=list)  # (line, the row as written, why)

    @property
    def ok(self) -> bool:
        return not self.failed


def import_roster(classroom: Classroom, data: bytes | str) -> RosterReport:
    """Add the learners of a CSV roster (header: username, email, name; any order, extra columns ignored).

    A username with an account is added (its email must match when the row gives one); a new username
    gets an account with a one-time password, shown once in the report for the instructor to hand out,
    since the platform sends no email. Every bad row is reported with its line and why; good rows are
    added either way, so fixing the file and importing it again adds only what was missing."""
    if isinstance(data, bytes):
        if len(data) > ROSTER_MAX_BYTES:
            raise ClassroomError(f"The file is larger than {ROSTER_MAX_BYTES // 1000} kB; split it.")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ClassroomError(
                f"The file is not UTF-8 text (byte {exc.start + 1}); save it as “CSV UTF-8” and try again."
            ) from None
    else:
        text = data
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ClassroomError("The file is empty; the first line must be the header username,email,name.") from None
    except csv.Error as exc:
        raise ClassroomError(f"Line 1 is not valid CSV: {exc}.") from None
    columns = [name.strip().lower() for name in header]
    if "username" not in columns:
        raise ClassroomError(
            f"Line 1 must be a header naming the columns, with at least “username” (found: {', '.join(header) or 'nothing'})."
        )
    index = {name: columns.index(name) for name in ("username", "email", "name") if name in columns}
    report = RosterReport()
    seen: dict[str, int] = {}
    validate_username = UnicodeUsernameValidator()
    rows = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.failed.append((reader.line_num, "", f"not valid CSV: {exc}"))
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        rows += 1
        if rows > ROSTER_MAX_ROWS:
            report.failed.append((line, "", f"more than {ROSTER_MAX_ROWS} rows; the rest was not read"))
            break
        written = ",".join(row)

        def cell(name):
            position = index.get(name)
            return row[position].strip() if position is not None and position < len(row) else ""

        username, email, name = cell("username"), cell("email"), cell("name")
        if not username:
            report.failed.append((line, written, "the username is empty"))
            continue
        try:
            validate_username(username)
        except ValidationError:
            report.failed.append((line, written, "the username may contain only letters, digits and @ . + - _"))
            continue
        if len(username) > 150:
            report.failed.append((line, written, "the username is longer than 150 characters"))
            continue
        if username.lower() in seen:
            report.failed.append((line, written, f"the username appears again (first on line {seen[username.lower()]})"))
            continue
        seen[username.lower()] = line
        if email:
            try:
                validate_email(email)
            except ValidationError:
                report.failed.append((line, written, f"“{email}” is not an email address"))
                continue
        if len(name) > 300:
            report.failed.append((line, written, "the name is longer than 300 characters"))
            continue
        try:
            outcome = _roster_row(classroom, username, email, name)
        except ClassroomError as exc:
            report.failed.append((line, written, str(exc)))
            continue
        kind, value = outcome
        getattr(report, kind).append(value)
    return report


def _roster_row(classroom: Classroom, username: str, email: str, name: str):
    user = User.objects.filter(username__iexact=username).first()
    if user is not None:
        if email and user.email and user.email.lower() != email.lower():
            raise ClassroomError(
                f"the account “{user.username}” has a different email address; check that this is the same person"
            )
        membership = Membership.objects.filter(classroom=classroom, user=user).first()
        if membership is not None:
            if membership.role != Membership.Role.LEARNER:
                raise ClassroomError(f"“{user.username}” is a {membership.get_role_display().lower()} of this class")
            return "already", user.username
        Membership.objects.create(classroom=classroom, user=user, via=Membership.Via.ROSTER)
        return "added", user.username
    if email and (owner := User.objects.filter(email__iexact=email).first()):
        raise ClassroomError(f"{email} belongs to the account “{owner.username}”; use that username")
    first, _, last = name.partition(" ")
    password = secrets.token_urlsafe(9)
    with transaction.atomic():
        user = User.objects.create_user(username, email, password, first_name=first[:150], last_name=last[:150])
        Membership.objects.create(classroom=classroom, user=user, via=Membership.Via.ROSTER)
    return "created", (user.username, password)


# --- Assignments and deadlines ------------------------------------------------------------------


def create_assignment(classroom: Classroom, *, lab=None, module=None, opens_at, due_at, time_limit_minutes=None):
    if due_at <= opens_at:
        raise ClassroomError("The due date must be after the opening date.")
    kind = Assignment.Kind.LAB if lab is not None else Assignment.Kind.QUIZ
    if (lab is None) == (module is None):
        raise ClassroomError("Choose a lab or a module quiz.")
    if Assignment.objects.filter(classroom=classroom).filter(Q(lab=lab) if lab else Q(module=module)).exists():
        raise ClassroomError("That is already assigned in this class; change its dates instead.")
    return Assignment.objects.create(
        classroom=classroom, kind=kind, lab=lab, module=module, opens_at=opens_at, due_at=due_at,
        time_limit_minutes=time_limit_minutes or None,
    )


def update_assignment(assignment: Assignment, *, opens_at, due_at, time_limit_minutes=None) -> Assignment:
    if due_at <= opens_at:
        raise ClassroomError("The due date must be after the opening date.")
    assignment.opens_at, assignment.due_at = opens_at, due_at
    assignment.time_limit_minutes = time_limit_minutes or None
    assignment.save(update_fields=["opens_at", "due_at", "time_limit_minutes"])
    return assignment


def grant_extension(assignment: Assignment, learner, due_at: datetime, reason: str, by) -> Extension:
    if not Membership.objects.filter(classroom_id=assignment.classroom_id, user=learner,
                                     role=Membership.Role.LEARNER).exists():
        raise ClassroomError("Extensions are for learners of this class.")
    if due_at <= assignment.due_at:
        raise ClassroomError("An extension must end after the assignment's due date.")
    extension, _ = Extension.objects.update_or_create(
        assignment=assignment, learner=learner, defaults={"due_at": due_at, "reason": reason.strip(), "granted_by": by}
    )
    return extension


def due_for(assignment: Assignment, learner) -> datetime:
    extension = Extension.objects.filter(assignment=assignment, learner=learner).first()
    return extension.due_at if extension else assignment.due_at


def lateness(assignment: Assignment, due_at: datetime, started_at: datetime | None, finished_at: datetime) -> str:
    """Why a piece of work is late, or "" when it is on time (used for labs and quizzes alike)."""
    if finished_at > due_at:
        return "after the due date"
    if assignment.time_limit_minutes and started_at is not None:
        if (finished_at - started_at).total_seconds() > assignment.time_limit_minutes * 60:
            return f"over the {assignment.time_limit_minutes}-minute time limit"
    return ""


# --- Submissions ----------------------------------------------------------------------------------


def open_lab_assignments(user, lab) -> list[Assignment]:
    """The learner's assignments of this lab (any class), for the "Submit for grading" control."""
    return list(
        Assignment.objects.filter(
            kind=Assignment.Kind.LAB, lab=lab,
            classroom__memberships__user=user, classroom__memberships__role=Membership.Role.LEARNER,
        ).select_related("classroom", "lab").order_by("due_at")
    )


def submit(user, session: LabSession, assignment: Assignment) -> Submission:
    """Freeze the learner's work on this lab as the assignment's submission and queue its grading.

    The grading is an Attempt of kind "submit", graded by the worker like any check; the journal of the
    submission is the session's calls up to `submitted_at`. The session is handed in: the learner's keys
    stop working and the sandbox is kept as submitted, for regrades (labs.services.hand_in)."""
    if session.user_id != user.pk or assignment.kind != Assignment.Kind.LAB or assignment.lab_id != session.lab_id:
        raise ClassroomError("This lab session does not belong to that assignment.")
    if not Membership.objects.filter(classroom_id=assignment.classroom_id, user=user,
                                     role=Membership.Role.LEARNER).exists():
        raise ClassroomError("You are not a learner in that class.")
    now = timezone.now()
    if now < assignment.opens_at:
        raise ClassroomError(f"This assignment opens on {assignment.opens_at:%d %b %Y at %H:%M} UTC.")
    if Submission.objects.filter(assignment=assignment, learner=user).exists():
        raise ClassroomError("You have already submitted this lab for grading.")
    if session.status != LabSession.Status.READY:
        raise ClassroomError("Your sandbox must be running to submit: start the lab (or wait until it is ready).")
    due_at = due_for(assignment, user)
    started_at = _first_start(user, assignment) or session.created_at
    try:
        with transaction.atomic():
            attempt = lab_services.request_check(session, kind=Attempt.Kind.SUBMIT)
            submission = Submission.objects.create(
                assignment=assignment, learner=user, session=session, attempt=attempt, submitted_at=now,
                started_at=started_at, due_at=due_at, late_reason=lateness(assignment, due_at, started_at, now),
                late=bool(lateness(assignment, due_at, started_at, now)),
            )
            lab_services.hand_in(session)
            return submission
    except lab_services.LabError as exc:
        raise ClassroomError(str(exc)) from None
    except IntegrityError:  # two submit clicks raced; the first one won
        raise ClassroomError("You have already submitted this lab for grading.") from None


def _first_start(user, assignment: Assignment):
    """The learner's first lab session for this assignment (since it opened): the time-limit clock."""
    return LabSession.objects.filter(
        user=user, lab_id=assignment.lab_id, created_at__gte=assignment.opens_at
    ).aggregate(first=Min("created_at"))["first"]


def submission_journal(submission: Submission):
    """The frozen journal: what the learner (and the lab's setup) did up to the submission."""
    return ApiCall.objects.filter(
        session_id=submission.session_id, source__in=[ApiCall.Source.LEARNER, ApiCall.Source.SETUP],
        at__lte=submission.submitted_at,
    ).order_by("id")


# --- Regrade --------------------------------------------------------------------------------------


def start_regrade(assignment: Assignment, by) -> RegradeRun:
    """Regrade every graded submission of a lab assignment with the lab's current checks, in the worker."""
    if assignment.kind != Assignment.Kind.LAB:
        raise ClassroomError("Only lab assignments are graded by checks; quizzes need no regrade.")
    submissions = list(
        Submission.objects.filter(assignment=assignment, attempt__status=Attempt.Status.GRADED).select_related("attempt")
    )
    if not submissions:
        raise ClassroomError("There are no graded submissions to regrade yet.")
    now = timezone.now()
    with transaction.atomic():
        run = RegradeRun.objects.create(assignment=assignment, requested_by=by)
        items = RegradeItem.objects.bulk_create(
            RegradeItem(run=run, submission=s, old_score=s.score, old_max_score=s.max_score, enqueued_at=now)
            for s in submissions
        )
        from .tasks import regrade_submission

        for item in items:
            lab_services._send_on_commit(regrade_submission, item.pk)
    return run


def claim_regrade_item(item_id: int, owner: str) -> RegradeItem | None:
    now = timezone.now()
    claimed = RegradeItem.objects.filter(
        Q(status=RegradeItem.Status.QUEUED) | Q(status=RegradeItem.Status.RUNNING, lease_until__lt=now), pk=item_id
    ).update(status=RegradeItem.Status.RUNNING, lease_owner=owner, lease_until=now + lab_services.JOB_LEASE)
    if not claimed:
        return None
    return RegradeItem.objects.select_related("submission__session__lab", "submission__attempt").get(pk=item_id)


def regrade(item: RegradeItem, owner: str) -> bool:
    """Run the lab's current checks against the submitted sandbox, with the journal up to the submission.

    A submission hands its sandbox in: kept as submitted (the learner's keys no longer work, so it cannot
    change) for LAB_SUBMISSION_RETENTION_DAYS. When it was released since, or lost with an emulator
    restart, the item is skipped with the reason, and the original result stands (shown as such, never
    as a zero)."""
    from labapp.labs.leases import lease_kept
    from labapp.sandbox import client as sandbox

    submission = item.submission
    session = LabSession.objects.select_related("lab").get(pk=submission.session_id)
    if session.status != LabSession.Status.SUBMITTED:
        return _finish_item(item, owner, RegradeItem.Status.SKIPPED, note=(
            "The submitted sandbox was released after the retention time, so the new checks cannot look at "
            "it; the original result stands."))
    if session.account_id not in sandbox.emulator_stats()["accounts"]:
        # The emulator keeps sandboxes in memory; checks against an emptied account would grade nothing.
        return _finish_item(item, owner, RegradeItem.Status.SKIPPED, note=(
            "The submitted sandbox is gone (the emulator was restarted since), so the new checks cannot look "
            "at it; the original result stands."))
    with lease_kept(RegradeItem, item.pk, owner, lab_services.JOB_LEASE):
        outcome = lab_services.check_sandbox(session, journal_until=submission.submitted_at)
    return _finish_item(item, owner, RegradeItem.Status.DONE, outcome=outcome)


def _finish_item(item: RegradeItem, owner: str, status: str, *, outcome=None, note: str = "") -> bool:
    now = timezone.now()
    fields = {"status": status, "note": note, "finished_at": now, "lease_owner": "", "lease_until": None}
    if outcome is not None:
        fields.update(score=outcome["score"], max_score=outcome["max_score"], results=outcome["tasks"])
    with transaction.atomic():
        stored = RegradeItem.objects.filter(
            pk=item.pk, status=RegradeItem.Status.RUNNING, lease_owner=owner
        ).update(**fields)
        if stored and outcome is not None:
            Submission.objects.filter(pk=item.submission_id).update(
                regraded_score=outcome["score"], regraded_max_score=outcome["max_score"],
                regraded_results=outcome["tasks"], regraded_at=now,
            )
    return bool(stored)


def fail_item(item: RegradeItem, owner: str, error: str) -> bool:
    return _finish_item(item, owner, RegradeItem.Status.FAILED, note=error[:2000])


def release_item(item: RegradeItem, owner: str) -> None:
    RegradeItem.objects.filter(pk=item.pk, status=RegradeItem.Status.RUNNING, lease_owner=owner).update(
        status=RegradeItem.Status.QUEUED, lease_owner="", lease_until=None, enqueued_at=timezone.now()
    )


def requeue_stale_items(run: RegradeRun) -> int:
    """Enqueue again the items of a run whose worker died or whose message was lost.

    Called while an instructor watches the run's progress bar, so a regrade never stalls silently; claims
    are atomic, so an extra message does nothing."""
    from .tasks import regrade_submission

    now = timezone.now()
    stale = list(
        run.items.filter(
            Q(status=RegradeItem.Status.RUNNING, lease_until__lt=now)
            | Q(status=RegradeItem.Status.QUEUED, enqueued_at__lt=now - lab_services.REQUEUE_AFTER)
        ).values_list("pk", flat=True)
    )
    for item_id in stale:
        RegradeItem.objects.filter(pk=item_id).update(enqueued_at=now)
        lab_services._send_on_commit(regrade_submission, item_id)
    return len(stale)
