"""Creates (or resets the password of) a demo learner and a demo instructor, and says how to sign in."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERS = [
    # username, password environment variable, default password, is instructor
    ("learner", "LAB_DEMO_LEARNER_PASSWORD", "learn-aws-2026", False),
    ("instructor", "LAB_DEMO_INSTRUCTOR_PASSWORD", "teach-aws-2026", True),
]


class Command(BaseCommand):
    help = "Create the demo learner and instructor accounts (not in production)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("demo users are for local use; refusing with LAB_PRODUCTION=1")
        User = get_user_model()
        lines = []
        for username, env_name, default, instructor in DEMO_USERS:
            password = os.environ.get(env_name, default)
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = user.is_superuser = instructor
            user.set_password(password)
            user.save()
            role = "instructor (also Django admin)" if instructor else "learner"
            lines.append(f"  {role:<32} username {username!r:<14} password {password!r}")
        self.stdout.write("Demo accounts:\n" + "\n".join(lines))
