from django import forms

from labapp.courses.models import Lab, Module

from .models import Membership

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ClassroomForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="For example “Developer Associate, spring cohort”.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class JoinForm(forms.Form):
    code = forms.CharField(max_length=32, label="Class code", help_text="8 letters and digits, from your instructor.")


def assignable_choices():
    labs = [(f"lab:{lab.pk}", f"Lab: {lab.title}") for lab in Lab.objects.select_related("module").order_by(
        "module__course__title", "module__order", "order", "title")]
    quizzes = [(f"quiz:{m.pk}", f"Quiz: {m.title}") for m in Module.objects.filter(questions__isnull=False)
               .distinct().order_by("course__title", "order")]
    return [("", "Choose a lab or a quiz"), ("Labs", labs), ("Module quizzes", quizzes)]


class AssignmentForm(forms.Form):
    item = forms.ChoiceField(label="Lab or quiz")
    opens_at = forms.DateTimeField(label="Opens (UTC)", widget=DATETIME_WIDGET)
    due_at = forms.DateTimeField(label="Due (UTC)", widget=DATETIME_WIDGET)
    time_limit_minutes = forms.IntegerField(
        label="Time limit (minutes)", required=False, min_value=1, max_value=10_000,
        help_text="From the learner's first start to submitting; later submissions are marked late.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = assignable_choices()

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
    opens_at = forms.DateTimeField(label="Opens (UTC)", widget=DATETIME_WIDGET)
    due_at = forms.DateTimeField(label="Due (UTC)", widget=DATETIME_WIDGET)
    time_limit_minutes = forms.IntegerField(label="Time limit (minutes)", required=False,
                                            min_value=1, max_value=10_000)


class ExtensionForm(forms.Form):
    learner = forms.ChoiceField()
    due_at = forms.DateTimeField(label="New due date (UTC)", widget=DATETIME_WIDGET)
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
