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

Serve mode (first line `{"mode": "serve"}`, only for trusted callers: `lab test`'s reference solutions):
instead of one job, read one job per line and run each in a fresh process forked from this warm one, in a
fresh working directory; answer each with one JSON line on stdout. See README.md, "serving sandboxes".

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
    sys.argv = ["aws", *argv]  # argparse names the program after argv[0]: "aws: error: ...", not entry.py
    return driver.main(argv)


def run_script(source: str) -> int:
    import builtins
    import traceback

    sys.argv = ["script.py"]
    sys.stdout.reconfigure(line_buffering=True)
    namespace = {"__name__": "__main__", "__file__": "script.py", "__builtins__": builtins}
    # The script is no file, so tracebacks would show no source lines: give linecache the learner's text.
    import linecache

    linecache.cache["script.py"] = (len(source), None, source.splitlines(True), "script.py")
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


def write_files(files: dict) -> None:
    """Files the job asked for, in the working directory: text, or a size in bytes of filler. The host
    checked the names (plain names, no directories); RLIMIT_FSIZE and the tmpfs bound the sizes."""
    for name, content in files.items():
        if "/" in name or name.startswith("."):
            continue
        with open(name, "wb") as out:
            if isinstance(content, str):
                out.write(content.encode())
            else:
                block = (b"aws-developer-lab " * 4096)[:65536]
                left = int(content)
                while left > 0:
                    left -= out.write(block[: min(left, len(block))])


def execute(job: dict) -> int:
    """Run one job in this process: limits, the session's environment, its files, then the CLI or script."""
    apply_limits(job["limits"])
    os.environ.clear()
    os.environ.update(job["env"])
    try:
        write_files(job.get("files") or {})
    except OSError as error:
        if error.errno in (27, 28):  # EFBIG (RLIMIT_FSIZE), ENOSPC
            status(limit="disk")
        sys.stderr.write(f"could not create the job's files: {error.strerror}\n")
        return 1
    gc.disable() if job.get("mode") == "cli" else None
    try:
        if job["mode"] == "cli":
            code = run_cli(job["argv"][1:])
            return 0 if code is None else code  # help commands return None
        return run_script(job["source"])
    except MemoryError:
        status(limit="memory")
        return 1


def _exit_code(code) -> int:
    return code if isinstance(code, int) and 0 <= code < 256 else 1


# --- serve mode: many jobs of one trusted caller, each in a fresh forked process ----------


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def serve_one(job: dict) -> dict:
    """Fork a child from this warm interpreter for one job, in a fresh working directory, and collect its
    output under the job's wall-clock and output limits. The child gets the same `execute` as a one-job
    sandbox; the parent (never the learner's code) reports what happened."""
    import base64
    import selectors
    import shutil
    import signal
    import tempfile
    import time

    global STATUS_FD
    limits = job["limits"]
    wall = float(limits.get("wall_seconds", 20))
    cap = int(limits.get("output_bytes", 256 * 1024))
    workdir = tempfile.mkdtemp(prefix="job-", dir=os.environ.get("HOME", "/tmp"))
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    hint_r, hint_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own process group, output and hint pipes, working directory
        code = 1
        try:
            os.setpgid(0, 0)
            for fd in (out_r, err_r, hint_r):
                os.close(fd)
            null = os.open("/dev/null", os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            STATUS_FD = hint_w
            os.chdir(workdir)
            code = execute(job)
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001 - the parent reports the exit status
            pass
        status(exit=_exit_code(code))
        os._exit(_exit_code(code))
    for fd in (out_w, err_w, hint_w):
        os.close(fd)
    buffers = {out_r: bytearray(), err_r: bytearray(), hint_r: bytearray()}
    sel = selectors.DefaultSelector()
    for fd in buffers:
        sel.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + wall
    limit = None
    while sel.get_map() and limit is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            limit = "time"
            break
        for key, _ in sel.select(min(remaining, 0.5)):
            data = os.read(key.fd, 65536)
            if not data:
                sel.unregister(key.fd)
                continue
            room = (4096 if key.fd == hint_r else cap) - len(buffers[key.fd])
            buffers[key.fd] += data[: max(room, 0)]
            if len(data) > room and key.fd != hint_r:
                limit = "output"
    if limit:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, wait_status = os.waitpid(pid, 0)
    sel.close()
    for fd in buffers:
        os.close(fd)
    shutil.rmtree(workdir, ignore_errors=True)
    code = os.waitstatus_to_exitcode(wait_status)
    return {
        "exit": code if code >= 0 else 128 - code,  # killed by signal N -> 128 + N, as a shell reports it
        "stdout": base64.b64encode(bytes(buffers[out_r])).decode(),
        "stderr": base64.b64encode(bytes(buffers[err_r])).decode(),
        "limit": limit,
        "hints": bytes(buffers[hint_r]).decode(errors="replace"),
    }


def serve() -> None:
    """Read one job per line until stdin closes; answer each with one JSON line on stdout."""
    import warnings

    # fork() with the forwarder's threads running: the child only runs `execute`, which takes none of
    # their locks; Python's warning about it would fill stderr, which nobody reads.
    warnings.simplefilter("ignore", DeprecationWarning)
    stdin = sys.stdin.buffer
    while line := stdin.readline():
        result = serve_one(json.loads(line))
        _write_all(1, (json.dumps(result) + "\n").encode())
    os._exit(0)


def main() -> None:
    sys.path.extend(sys.argv[1:])  # the read-only site-packages (awscli, boto3, botocore)
    start_forwarder()
    warm_up()
    status(ready=True, pid=os.getpid())
    raw = sys.stdin.buffer.readline()  # one JSON document (json.dumps never writes a newline inside one)
    if not raw:
        os._exit(0)  # the pool discarded this sandbox without a job
    job = json.loads(raw)
    if job.get("mode") == "serve":
        serve()
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    code = execute(job)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    status(exit=_exit_code(code))
    os._exit(_exit_code(code))


if __name__ == "__main__":
    main()
