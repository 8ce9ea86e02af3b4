"""`manage.py loadcourses [--check] [--dir PATH]`: mirror the course files into the database.

Every problem is printed to stderr as `file:line: message`; valid files still load. Exits non-zero when
any file had a problem. With --check nothing is written (for CI and authors). Checked: every file's
schema, uuids unique across all content, labs' check kinds and placeholders, questions (the number of
correct choices, the lesson, its #anchor and the lab exist), and every link and image in the lessons.
"""

import sys

from django.core.management.base import BaseCommand

from labapp.courses.loader import load_courses
from labapp.courses.markdown import write_pygments_css


class Command(BaseCommand):
    help = "Validate the course files and load them into the database (upsert by uuid)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="validate only; write nothing")
        parser.add_argument("--dir", help="courses folder (default: settings.COURSES_DIR)")

    def handle(self, *args, check, dir=None, **options):  # noqa: A002
        result = load_courses(dir, write=not check)
        for error in result.errors:
            self.stderr.write(str(error))
        counts = result.counts()
        summary = ", ".join(f"{n} {k}" for k, n in counts.items())
        if check:
            self.stdout.write(f"checked: {summary}; {len(result.errors)} problem(s)")
        else:
            write_pygments_css()
            self.stdout.write(f"loaded: {summary}; {len(result.errors)} problem(s)")
        if result.errors:
            sys.exit(1)
