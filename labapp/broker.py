"""The embedded (filesystem) broker, made safe to poll often.

Without Redis, `runlab` uses Kombu's filesystem transport: each message is a file in var/broker/out that
workers poll for. Kombu polls once a second by default, so every console command waited ~0.5 s (up to
1 s, and 1.4 s and more while other jobs were queued) before a worker even saw it: the slow "first
commands" of issue 9 (bench/console_first_command.py). Settings poll every 50 ms instead.

Polling that often exposed a race in Kombu's `_put`: it creates the message file, then writes it; a
worker that lists the folder in between moves and reads an empty file, and its JSONDecodeError is an
"Unrecoverable error" that stops the worker. Here a message is written under a name no queue matches,
then renamed into place (atomic on one file system), so a reader only ever sees complete messages.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic


def make_filesystem_puts_atomic() -> None:
    try:
        from kombu.transport import filesystem
        from kombu.utils.encoding import str_to_bytes
        from kombu.utils.json import dumps
    except ImportError:  # pragma: no cover - kombu is a dependency of Celery
        return
    channel = filesystem.Channel
    if getattr(channel._put, "atomic", False):
        return

    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # "<n>_<uuid>.<queue>.msg.part": no queue's pattern matches it
        try:
            with open(partial, "wb", buffering=0) as out:
                out.write(str_to_bytes(dumps(payload)))
            os.rename(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc

    _put.atomic = True
    channel._put = _put
