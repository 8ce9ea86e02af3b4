"""Serving the gateway app on a threaded HTTP/1.1 keep-alive server (SDKs reuse connections)."""

from __future__ import annotations

import logging
import os

from django.conf import settings
from labapp.sandbox.httpserver import ConnectionLimits, make_tcp_server

from . import errors
from .app import GatewayApp

log = logging.getLogger(__name__)


def build_app() -> GatewayApp:
    return GatewayApp(
        socket_path=settings.LAB_EMULATOR_SOCKET,
        internal_token=settings.LAB_INTERNAL_TOKEN,
        regions=settings.LAB_REGIONS,
        max_body=settings.LAB_GATEWAY_MAX_BODY,
        rate_per_second=settings.LAB_GATEWAY_RATE_PER_SECOND,
        burst=settings.LAB_GATEWAY_RATE_BURST,
    )


# Where the platform's own calls come from (web, worker, `manage.py lab`: setup, grading, panels, each
# keeping a few keep-alive connections per sandbox): a class's worth of those would otherwise use up the
# per-address cap, and provisioning would fail with SlowDown. Learners' consoles reach the gateway from
# an address of their own (runner.sandbox.Relay), remote learners from theirs; both stay capped.
PLATFORM_ADDRESSES = frozenset({"127.0.0.1", "::1"})


def connection_limits() -> ConnectionLimits:
    return ConnectionLimits(
        max_connections=settings.LAB_GATEWAY_MAX_CONNECTIONS,
        max_per_client=settings.LAB_GATEWAY_MAX_CONNECTIONS_PER_CLIENT,
        uncapped_clients=PLATFORM_ADDRESSES,
        header_timeout=settings.LAB_GATEWAY_HEADER_TIMEOUT,
        overload_body=errors.overloaded_body(),
    )


def _start_profiler():
    """LAB_GATEWAY_PROFILE=<file>: profile every thread of this process (development only). Uses yappi
    (wall clock, per thread) when installed, else cProfile; the statistics are written on shutdown."""
    path = os.environ.get("LAB_GATEWAY_PROFILE", "")
    if not path:
        return None
    try:
        import yappi
    except ImportError:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        return lambda: (profiler.disable(), profiler.dump_stats(path))
    yappi.set_clock_type(os.environ.get("LAB_GATEWAY_PROFILE_CLOCK", "cpu"))
    yappi.start()

    def stop():
        yappi.stop()
        yappi.get_func_stats().save(path, type="pstat")
        with open(path + ".threads.txt", "w") as out:
            yappi.get_thread_stats().print_all(out=out)

    return stop


def serve(host: str | None = None, port: int | None = None, log_line=print) -> None:
    host = host or settings.LAB_GATEWAY_HOST
    port = port or settings.LAB_GATEWAY_PORT
    stop_profiler = _start_profiler()
    app = build_app()
    server = make_tcp_server(host, port, app, connection_limits())
    log_line(f"gateway: listening on http://{host}:{port}, emulator at unix://{settings.LAB_EMULATOR_SOCKET}")
    try:
        server.serve_forever()
    finally:
        app.journal.flush(timeout=5)
        server.server_close()
        if stop_profiler:
            stop_profiler()
