"""Template tags that put the classroom into pages owned by other apps (the lab page, the home page)
without those apps' views knowing about classes: each tag queries what it shows."""

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from labapp.classroom import selectors, services
from labapp.classroom.models import Submission

register = template.Library()


@register.inclusion_tag("classroom/_submit_control.html", takes_context=True)
def submit_control(context):
    """The "Submit for grading" control of the lab page, one per class that assigned this lab: the button
    while a session is running, the submission's status once submitted (the session is then handed in)."""
    request = context.get("request")
    lab = context.get("lab")
    session = context.get("session")
    if request is None or lab is None or not request.user.is_authenticated:
        return {"items": []}
    if session is not None and (session.user_id != request.user.pk or not session.is_live):
        session = None
    assignments = services.open_lab_assignments(request.user, lab)
    if not assignments:
        return {"items": []}
    submitted = {
        s.assignment_id: s
        for s in Submission.objects.filter(learner=request.user, assignment__in=assignments).select_related("attempt")
    }
    from django.utils import timezone

    now = timezone.now()
    items = [{"assignment": a, "submission": submitted.get(a.pk), "open": a.opens_at <= now,
              "due_at": services.due_for(a, request.user)} for a in assignments]
    # The last check of the running session, for the warning before submitting with failing tasks.
    from labapp.web.selectors import check_summary, last_graded_check

    last_check = check_summary(last_graded_check(session)) if session is not None else None
    return {"items": items, "session": session, "csrf_token": context.get("csrf_token"), "now": now,
            "last_check": last_check}


@register.inclusion_tag("classroom/_my_assignments.html", takes_context=True)
def my_assignments(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"items": [], "show": False}
    from labapp.classroom.access import is_teaching

    return {"items": selectors.learner_assignments(user), "show": True, "teaching": is_teaching(user),
            "csp_nonce": context.get("csp_nonce")}


@register.simple_tag
def teaches(user) -> bool:
    """Whether the header shows the instructor area: instructors, and teaching assistants of any class."""
    from labapp.classroom.access import is_teaching

    return bool(user.is_authenticated and is_teaching(user))


@register.filter
def utc_time(value, fmt="j M Y, H:i"):
    """A moment as UTC text in a <time> element: "6 Dec 2026, 17:00 UTC". static/js/localtime.js adds the
    same moment in the viewer's time zone beside it; without JavaScript the UTC text is all there is."""
    if not value:
        return ""
    value = timezone.localtime(value, timezone.UTC) if timezone.is_aware(value) else value
    return format_html('<time datetime="{}" data-local-time>{} UTC</time>', value.isoformat(),
                       date_format(value, fmt))
