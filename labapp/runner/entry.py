"""The program that runs INSIDE a runner sandbox (bubblewrap). Standard library + awscli/boto3 only.

Life of one sandbox process:

1. Start a tiny forwarder thread: TCP 127.0.0.1:4566 (the sandbox's private loopback) -> the Unix socket
   /gw/gw.sock bind-mounted from the host, where a per-sandbox relay forwards bytes to the gateway.
2. Warm up: import awscli.clidriver, boto3 and botocore, build an AWS CLI driver and load the service
   models learners use most, then `gc.freeze()`. No credentials exist yet.
3. Write {"ready": true} on the status pipe (fd 3) and block on stdin for ONE job (a JSON document).
4. Apply the job's limits (rlimits) and environment (the session's credentials), run the AWS CLI with
   the job's argv, or exec() the learner's script as `__main__`, flush, and exit. The host discards the
   whole sandbox afterwards; nothing survives into another job.

Nothing here is trusted by the host: the status pipe only carries hints (e.g. "a MemoryError ended
the run"), and the host enforces every limit itself.
"""

import gc
import json
import os
import resource
import socket
import sys
import threading

STATUS_FD = int(os.environ.get("LAB_STATUS_FD", "3"))
GATEWAY_SOCKET = "/gw/gw.sock"
FORWARD_PORT = 4566


def status(**message) -> None:
    try:
        os.write(STATUS_FD, (json.dumps(message) + "\n").encode())
    except OSError:
        pass


# --- 1. forwarder -------------------------------------------------------------------------


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


def _serve(client: socket.socket) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(GATEWAY_SOCKET)
    except OSError:
        client.close()
        upstream.close()
        return
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def start_forwarder() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", FORWARD_PORT))
    listener.listen(64)

    def accept_loop():
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=_serve, args=(client,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True, name="gateway-forwarder").start()


# --- 2. warm-up ---------------------------------------------------------------------------

WARM_SERVICES = ("s3", "iam", "ec2", "sts", "lambda", "dynamodb", "sqs", "sns")
# Commands run once against a dead endpoint at warm-up, so their code paths and models are loaded.
driver = None


def warm_up() -> None:
    global driver
    import logging

    import awscli.clidriver  # noqa: F401
    import boto3  # noqa: F401
    import botocore.session  # noqa: F401
    from awscli.clidriver import create_clidriver

    logging.disable(logging.CRITICAL)
    driver = create_clidriver()
    session = driver.session
    table = driver._get_command_table()  # builds the service command table (lazy per service)
    loader = session.get_component("data_loader")
    for name in WARM_SERVICES:
        try:
            session.get_service_model(name)
            loader.load_data("endpoints")
            loader.load_data("partitions")
            if name in table:
                table[name]._get_command_table()  # the service's operations
        except Exception:
            pass
    try:  # s3 high-level commands (`aws s3 ls`) and their argument tables
        table["s3"]._get_command_table()
        import awscli.customizations.s3.subcommands  # noqa: F401
        import boto3.s3.transfer  # noqa: F401
        import botocore.httpsession  # noqa: F401
        import urllib3  # noqa: F401
    except Exception:
        pass
    logging.disable(logging.NOTSET)
    gc.collect()
    gc.freeze()


# --- 3/4. the job -------------------------------------------------------------------------


def apply_limits(limits: dict) -> None:
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_used = int(used.ru_utime + used.ru_stime) + 1
    pairs = {
        resource.RLIMIT_CPU: cpu_used + int(limits["cpu_seconds"]),
        resource.RLIMIT_AS: int(limits["address_space_bytes"]),
        resource.RLIMIT_FSIZE: int(limits["file_size_bytes"]),
        resource.RLIMIT_NOFILE: int(limits["open_files"]),
        resource.RLIMIT_CORE: 0,
    }
    if limits.get("nproc"):
        pairs[resource.RLIMIT_NPROC] = int(limits["nproc"])
    for which, value in pairs.items():
        # CPU: SIGXCPU at the soft limit (reported as a limit), SIGKILL one second later at the hard one.
        hard = value + 1 if which == resource.RLIMIT_CPU else value
        try:
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):
            pass


class _TextHelpRenderer:
    """`aws ... help` as plain text on stdout: docutils' text writer instead of groff and a pager."""

    def render(self, contents):
        from awscli.help import WindowsHelpRenderer

        text = WindowsHelpRenderer()._convert_doc_content(contents)
        out = sys.stdout
        out.flush()
        out.buffer.write(text if isinstance(text, bytes) else text.encode())
        out.buffer.flush()


def run_cli(argv: list[str]) -> int:
    import awscli.help

    awscli.help.get_renderer = _TextHelpRenderer
    # Help commands built during warm-up already hold a renderer; replace it on the way in.
    original_init = awscli.help.HelpCommand.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.renderer = _TextHelpRenderer()

    awscli.help.HelpCommand.__init__ = init
    return driver.main(argv)


def run_script(source: str) -> int:
    import builtins
    import traceback

    sys.argv = ["script.py"]
    sys.stdout.reconfigure(line_buffering=True)
    namespace = {"__name__": "__main__", "__file__": "script.py", "__builtins__": builtins}
    try:
        code = compile(source, "script.py", "exec")
        exec(code, namespace)  # noqa: S102 - this is the learner's code, inside the sandbox
    except SystemExit as stop:
        if stop.code is None:
            return 0
        if isinstance(stop.code, int):
            return stop.code
        print(stop.code, file=sys.stderr)
        return 1
    except MemoryError:
        status(limit="memory")
        sys.stderr.write("MemoryError\n")
        return 1
    except BaseException as error:  # the learner's exception: show their frames only
        tb = error.__traceback__
        if tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        if isinstance(error, OSError) and error.errno in (27, 28):  # EFBIG (RLIMIT_FSIZE), ENOSPC
            status(limit="disk")
        traceback.print_exception(type(error), error, tb)
        return 1
    return 0


def main() -> None:
    sys.path.extend(sys.argv[1:])  # the read-only site-packages (awscli, boto3, botocore)
    start_forwarder()
    warm_up()
    status(ready=True, pid=os.getpid())
    raw = sys.stdin.buffer.read()
    if not raw:
        os._exit(0)  # the pool discarded this sandbox without a job
    job = json.loads(raw)
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    apply_limits(job["limits"])
    os.environ.clear()
    os.environ.update(job["env"])
    gc.disable() if job.get("mode") == "cli" else None
    try:
        if job["mode"] == "cli":
            code = run_cli(job["argv"][1:])
            code = 0 if code is None else code  # help commands return None
        else:
            code = run_script(job["source"])
    except MemoryError:
        status(limit="memory")
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    status(exit=code if isinstance(code, int) else 1)
    os._exit(code if isinstance(code, int) and 0 <= code < 256 else 1)


if __name__ == "__main__":
    main()
