"""`manage.py emulator`: run moto behind our patches on the Unix socket, with no network."""

from django.conf import settings
from django.core.management.base import BaseCommand

from labapp.sandbox import emulator


class Command(BaseCommand):
    help = "Run the AWS emulator (moto) on settings.LAB_EMULATOR_SOCKET inside an empty network namespace."

    def add_arguments(self, parser):
        parser.add_argument("--socket", default=None, help="Unix socket path (default: LAB_EMULATOR_SOCKET)")

    def handle(self, *args, **options):
        emulator.serve(
            options["socket"] or settings.LAB_EMULATOR_SOCKET,
            allow_network=settings.LAB_EMULATOR_ALLOW_NETWORK,
            log=lambda line: self.stdout.write(line) or self.stdout.flush(),
        )
