from datetime import timedelta

from django import forms
from django.utils import timezone

from labapp.courses.models import Lab, Module

from .models import Membership

# Date inputs are in UTC (the server's time zone), said in the label and the help text; with JavaScript,
# static/js/localtime.js shows beside each the same moment in the viewer's own time zone.
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local", "data-utc-input": ""}, format="%Y-%m-%dT%H:%M")
UTC_HELP = "In UTC (Coordinated Universal Time), not your own time zone."


class ClassroomForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="For example “Developer Associate, spring cohort”.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class JoinForm(forms.Form):
    code = forms.CharField(max_length=32, label="Class code", help_text="8 letters and digits, from your instructor.")


def assignable_choices():
    """One <optgroup> per module (in course order): its labs, then its quiz. The module's name is the
    group label, so an item is found where the course teaches it."""
    modules = list(Module.objects.select_related("course").order_by("course__title", "order", "title"))
    several_courses = len({m.course_id for m in modules}) > 1
    with_quiz = set(Module.objects.filter(questions__isnull=False).values_list("pk", flat=True).distinct())
    labs = {}
    for lab in Lab.objects.order_by("order", "title"):
        labs.setdefault(lab.module_id, []).append((f"lab:{lab.pk}", f"Lab: {lab.title}"))
    groups = [("", "Choose a lab or a quiz")]
    for m in modules:
        items = labs.get(m.pk, []) + ([(f"quiz:{m.pk}", f"Quiz: {m.title}")] if m.pk in with_quiz else [])
        if items:
            groups.append((f"{m.course.title}: {m.title}" if several_courses else m.title, items))
    return groups


def _now_to_the_minute():
    return timezone.now().replace(second=0, microsecond=0)


class AssignmentForm(forms.Form):
    item = forms.ChoiceField(label="Lab or quiz", help_text="Grouped by module, in course order.")
    opens_at = forms.DateTimeField(label="Opens (UTC)", widget=DATETIME_WIDGET, help_text=UTC_HELP)
    due_at = forms.DateTimeField(label="Due (UTC)", widget=DATETIME_WIDGET, help_text=UTC_HELP)
    time_limit_minutes = forms.IntegerField(
        label="Time limit (minutes)", required=False, min_value=1, max_value=10_000,
        help_text="From the learner's first start to submitting; later submissions are marked late.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = assignable_choices()
        # Defaults for a new assignment: open now, due in a week.
        now = _now_to_the_minute()
        self.fields["opens_at"].initial = now
        self.fields["due_at"].initial = now + timedelta(days=7)

    def clean(self):
        data = super().clean()
        if data.get("opens_at") and data.get("due_at") and data["due_at"] <= data["opens_at"]:
            self.add_error("due_at", "The due date must be after the opening date.")
        item = data.get("item") or ""
        kind, _, pk = item.partition(":")
        data["lab"] = Lab.objects.filter(pk=pk).first() if kind == "lab" and pk.isdigit() else None
        data["module"] = Module.objects.filter(pk=pk).first() if kind == "quiz" and pk.isdigit() else None
        if item and data["lab"] is None and data["module"] is None:
            self.add_error("item", "Choose a lab or a quiz from the list.")
        return data


class AssignmentDatesForm(forms.Form):
    opens_at = forms.DateTimeField(label="Opens (UTC)", widget=DATETIME_WIDGET, help_text=UTC_HELP)
    due_at = forms.DateTimeField(label="Due (UTC)", widget=DATETIME_WIDGET, help_text=UTC_HELP)
    time_limit_minutes = forms.IntegerField(label="Time limit (minutes)", required=False,
                                            min_value=1, max_value=10_000)


class ExtensionForm(forms.Form):
    learner = forms.ChoiceField()
    due_at = forms.DateTimeField(label="New due date (UTC)", widget=DATETIME_WIDGET, help_text=UTC_HELP)
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, learners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["learner"].choices = [("", "Choose a learner")] + [
            (str(u.pk), f"{u.get_full_name() or u.username} ({u.username})") for u in learners
        ]


class RosterForm(forms.Form):
    file = forms.FileField(label="Roster CSV", help_text="Header line: username,email,name (email and name optional).")


class AddMemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Membership.Role.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
