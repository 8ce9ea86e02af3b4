"""`manage.py gradebook <class> --csv`: the gradebook CSV of the web export, for scheduled exports."""

from django.core.management.base import BaseCommand, CommandError

from labapp.classroom.export import gradebook_csv
from labapp.classroom.models import Classroom
from labapp.classroom.selectors import gradebook


class Command(BaseCommand):
    help = "Print a class's gradebook: with --csv, exactly the CSV the web export gives."

    def add_arguments(self, parser):
        parser.add_argument("classroom", help="the class: its id, its join code, or its exact name")
        parser.add_argument("--csv", action="store_true", help="print CSV (one row per learner)")
        parser.add_argument("--tasks", action="store_true", help="with --csv: add status and per-task points")

    def handle(self, *args, **options):
        classroom = find_classroom(options["classroom"])
        if options["csv"]:
            self.stdout.write(gradebook_csv(classroom, tasks=options["tasks"]), ending="")
            return
        book = gradebook(classroom)
        self.stdout.write(f"{classroom.name}: {len(book.rows)} learners, {len(book.assignments)} assignments")
        for row in book.rows:
            cells = "  ".join(f"{a.short_title}={c.label}" for a, c in zip(book.assignments, row.cells, strict=True))
            average = "-" if row.average is None else f"{row.average:.0f}%"
            self.stdout.write(f"{row.learner.username:<20} {average:>5}  {cells}")


def find_classroom(ref: str) -> Classroom:
    found = None
    if ref.isdigit():
        found = Classroom.objects.filter(pk=int(ref)).first()
    found = found or Classroom.objects.filter(join_code=ref.upper()).first()
    if found is None:
        named = list(Classroom.objects.filter(name=ref)[:2])
        if len(named) > 1:
            raise CommandError(f"Several classes are named {ref!r}; give its id or join code.")
        found = named[0] if named else None
    if found is None:
        raise CommandError(f"No class has the id, join code or name {ref!r}.")
    return found
