"""`manage.py course stats [--json] [--course SLUG] [--dir PATH]`: per module, how many lessons, labs and
practice questions a course has, counted from the course files (what `loadcourses` would load).

    {"course": "aws-developer", "modules": [{"slug", "title", "lessons", "labs", "questions"}, ...],
     "totals": {"modules", "lessons", "labs", "questions"}}

Files with problems are left out of the counts; their problems are printed to stderr.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from labapp.courses.loader import scan


def course_stats(course) -> dict:
    modules = [
        {"slug": m.slug, "title": m.title, "lessons": len(m.lessons), "labs": len(m.labs),
         "questions": len(m.questions)}
        for m in course.modules
    ]
    totals = {"modules": len(modules)}
    for key in ("lessons", "labs", "questions"):
        totals[key] = sum(m[key] for m in modules)
    return {"course": course.slug, "title": course.title, "modules": modules, "totals": totals}


class Command(BaseCommand):
    help = "Course information. `course stats`: lessons, labs and questions per module."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        stats = sub.add_parser("stats", help="lessons, labs and questions per module")
        stats.add_argument("--json", action="store_true", help="print one JSON object")
        stats.add_argument("--course", help="course slug (default: the only, or first, course)")
        stats.add_argument("--dir", help="courses folder (default: settings.COURSES_DIR)")

    def handle(self, *args, subcommand, **options):
        if subcommand == "stats":
            return self.stats(options)
        raise CommandError(f"unknown subcommand {subcommand!r}")  # pragma: no cover

    def stats(self, options):
        result = scan(options.get("dir"))
        for error in result.errors:
            self.stderr.write(str(error))
        courses = result.courses
        if options.get("course"):
            courses = [c for c in courses if c.slug == options["course"]]
            if not courses:
                raise CommandError(f"no course {options['course']!r}")
        if not courses:
            raise CommandError("no course found")
        stats = course_stats(courses[0])
        if options["json"]:
            self.stdout.write(json.dumps({k: stats[k] for k in ("course", "modules", "totals")}))
            return
        width = max([len(m["slug"]) for m in stats["modules"]] + [len("module"), len("total")])
        self.stdout.write(f"{stats['title']} ({stats['course']})")
        self.stdout.write(f"{'module':<{width}}  lessons  labs  questions")
        for m in stats["modules"]:
            self.stdout.write(f"{m['slug']:<{width}}  {m['lessons']:>7}  {m['labs']:>4}  {m['questions']:>9}")
        t = stats["totals"]
        self.stdout.write(f"{'total':<{width}}  {t['lessons']:>7}  {t['labs']:>4}  {t['questions']:>9}")
