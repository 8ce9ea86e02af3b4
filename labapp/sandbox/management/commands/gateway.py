"""`manage.py gateway`: the SigV4-checking, account-pinning front of the emulator."""

from django.core.management.base import BaseCommand

from labapp.sandbox.gateway import server


class Command(BaseCommand):
    help = "Run the lab gateway on LAB_GATEWAY_HOST:LAB_GATEWAY_PORT, forwarding to the emulator socket."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=None)
        parser.add_argument("--port", type=int, default=None)

    def handle(self, *args, **options):
        import signal
        import sys

        # SIGTERM from a supervisor: leave through serve()'s finally, which flushes the journal.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        server.serve(options["host"], options["port"], log_line=lambda line: self.stdout.write(line) or self.stdout.flush())
