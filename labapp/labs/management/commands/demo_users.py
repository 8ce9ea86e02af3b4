"""Creates (or resets the password of) a demo learner and a demo instructor, and says how to sign in."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERS = [
    # username, the setting holding its password, is instructor
    ("learner", "LAB_DEMO_LEARNER_PASSWORD", False),
    ("instructor", "LAB_DEMO_INSTRUCTOR_PASSWORD", True),
]


class Command(BaseCommand):
    help = "Create the demo learner and instructor accounts (not in production)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("demo users are for local use; refusing with LAB_PRODUCTION=1")
        User = get_user_model()
        lines = []
        for username, setting, instructor in DEMO_USERS:
            password = getattr(settings, setting)
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = user.is_superuser = instructor
            user.set_password(password)
            user.save()
            role = "instructor (also Django admin)" if instructor else "learner"
            lines.append(f"  {role:<32} username {username!r:<14} password {password!r}")
        self.stdout.write("Demo accounts:\n" + "\n".join(lines))
