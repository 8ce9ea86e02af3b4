"""Host side of one runner sandbox: bubblewrap + seccomp + rlimits + a cgroup v1 slot + a gateway relay.

Nothing in this module imports Django at import time; the settings it reads are passed in (see pool.py),
so it can be tested and benchmarked without a database.

How a sandbox is built (see README.md for the why):

- `bwrap --unshare-all --unshare-user --disable-userns --die-with-parent --new-session --clearenv`, run as
  an unprivileged host user (LAB_RUNNER_UID, default 65534 "nobody") when the worker is root; inside the
  learner is uid 1000 "learner".
- Read-only: the shared libraries (/usr/lib/x86_64-linux-gnu, /usr/lib64), the Python installation and
  the venv's site-packages (bound at /opt/lab/site-packages), and entry.py. Nothing else of the host:
  no /etc (a fake passwd/group/hosts is provided), no project directory, no var/, no database.
- Writable: tmpfs /home/learner (HOME and cwd) and /tmp, each LIMITS.tmpfs_mb.
- /gw: a per-sandbox host directory holding gw.sock, served by `Relay` (host side) which forwards bytes
  to the gateway. Inside, entry.py forwards 127.0.0.1:4566 to it. The network namespace has only `lo`.
- seccomp (pyseccomp): socket() only for AF_UNIX/AF_INET/AF_INET6; ptrace, bpf, keyctl, mount, unshare,
  setns, io_uring, userfaultfd, perf_event_open, ... fail with EPERM.
- cgroup v1 memory/pids/cpu slot under the worker's own cgroup when writable (else rlimits only), joined
  race-free: bwrap blocks on --block-fd until both its pids are in the slot.
"""

from __future__ import annotations

import base64
import errno
import ipaddress
import json
import logging
import os
import select
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

ENTRY = Path(__file__).with_name("entry.py")
SITE_IN_SANDBOX = "/opt/lab/site-packages"
ENTRY_IN_SANDBOX = "/opt/lab/entry.py"
HOME = "/home/learner"
SANDBOX_UID = 1000


STOPPED_BY_YOU = "stopped by you"
# How often a running job asks whether its learner pressed Stop (a database read per tick, in the worker).
STOP_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 20.0
    cpu_seconds: int = 10
    memory_mb: int = 512
    processes: int = 64
    output_bytes: int = 256 * 1024  # per stream
    tmpfs_mb: int = 16
    open_files: int = 256

    def messages(self) -> dict[str, str]:
        return {
            "memory": f"stopped: memory limit {self.memory_mb} MB",
            "time": f"stopped: time limit {self.wall_seconds:g} s",
            "cpu": f"stopped: CPU time limit {self.cpu_seconds} s",
            "output": f"stopped: output limit {self.output_bytes // 1024} KiB",
            "processes": f"stopped: process limit {self.processes}",
            "disk": f"stopped: disk limit {self.tmpfs_mb} MB (your home directory is a small scratch space)",
            "stopped": STOPPED_BY_YOU,
        }


@dataclass
class Outcome:
    """What came out of one sandbox run, before it is turned into a RunResult."""

    stdout: bytes
    stderr: bytes
    exit_code: int
    duration_ms: float
    limit: str | None = None  # memory | time | output | processes | disk | stopped (cpu is reported as time)
    message: str = ""
    infra_error: str = ""
    sandbox_id: str = ""
    pids: list[int] = field(default_factory=list)  # host pids of the sandbox (for tests)
    pidns: str = ""  # the sandbox's pid namespace, e.g. "pid:[4026532xyz]" (for tests)
    cgroup_dirs: list[str] = field(default_factory=list)
    torn_down_at: float = 0.0  # time.time() once torn down (for tests: a process born later is not the sandbox's)


class RunnerUnavailable(RuntimeError):
    """The sandbox could not be built (no bubblewrap, no user namespaces...): an infrastructure failure."""


# --- seccomp ------------------------------------------------------------------------------

DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "bpf", "userfaultfd", "perf_event_open",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "personality", "syslog", "acct", "swapon", "swapoff",
    "reboot", "open_by_handle_at", "name_to_handle_at", "fsopen", "fsmount", "fsconfig", "move_mount",
    "open_tree", "fspick", "mount_setattr", "quotactl", "lookup_dcookie", "vhangup", "clock_settime",
    "settimeofday", "adjtimex", "clock_adjtime",
)
ALLOWED_FAMILIES = (socket.AF_UNIX, socket.AF_INET, socket.AF_INET6)
_seccomp_cache: bytes | None = None


def seccomp_program() -> bytes:
    """The BPF program bwrap loads with --seccomp: default allow, the list above denied."""
    global _seccomp_cache
    if _seccomp_cache is None:
        import tempfile

        import pyseccomp as sc

        filt = sc.SyscallFilter(defaction=sc.ALLOW)
        for name in DENIED_SYSCALLS:
            try:
                filt.add_rule(sc.ERRNO(errno.EPERM), name)
            except Exception:  # a syscall this kernel/libseccomp does not know
                pass
        # socket(family, ...): anything but AF_UNIX/AF_INET/AF_INET6 -> EAFNOSUPPORT. Rules on one syscall
        # are ORed, so express "not in the list" as ranges between the allowed values.
        allowed = sorted(ALLOWED_FAMILIES)  # 1, 2, 10
        filt.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.LT, allowed[0]))
        for low, high in zip(allowed, allowed[1:]):
            for family in range(low + 1, high):
                filt.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.EQ, family))
        filt.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.GT, allowed[-1]))
        filt.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socketpair", sc.Arg(0, sc.NE, socket.AF_UNIX))
        with tempfile.TemporaryFile() as out:
            filt.export_bpf(out)
            out.seek(0)
            _seccomp_cache = out.read()
    return _seccomp_cache


# --- the runtime: what gets mounted -------------------------------------------------------


def _world_traversable(path: Path, readable: bool = True) -> bool:
    path = path.resolve()
    for part in [path, *path.parents]:
        try:
            mode = part.stat().st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH or (readable and part == path and not mode & stat.S_IROTH):
            return False
    return True


# Where host paths are bound, inside a private mount namespace, when the sandbox user cannot reach them
# (see `staging`): a tmpfs over the first of these that is not on the way to any of them. Only that
# namespace sees the tmpfs; the host's directory is never touched.
STAGE_CANDIDATES = ("/mnt", "/media", "/srv", "/opt", "/tmp", "/var/tmp")


@dataclass
class Runtime:
    """Paths and identity shared by every sandbox of one process."""

    python_prefix: Path  # mounted at the same path inside (the interpreter's RUNPATH points there)
    executable: str
    site_packages: Path
    run_dir: Path  # per-sandbox socket directories
    host_uid: int | None  # run bwrap as this host user (None: as ourselves)
    cgroups: "CgroupBase | None"
    # The unprivileged sandbox user cannot reach some of `binds()` (a checkout or pyenv under a 0700 home
    # such as /root): each bwrap is then started through a private mount namespace in which root binds
    # them under `stage_root` first (`staging`). None when every path is reachable as it is.
    stage_root: str | None = None

    @classmethod
    def discover(cls, runtime_dir: Path | None = None, host_uid: int | None = 65534, cgroups: bool = True) -> "Runtime":
        if not shutil.which("bwrap"):
            raise RunnerUnavailable("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
        prefix = Path(sys.base_prefix).resolve()
        executable = str(Path(sys.executable).resolve())
        if not executable.startswith(str(prefix) + "/"):
            executable = str(prefix / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}")
        site = Path(sysconfig.get_paths()["purelib"]).resolve()
        runtime_dir = Path(runtime_dir or Path(os.environ.get("TMPDIR", "/tmp")) / "labrunner")
        runtime_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(runtime_dir, 0o711)
        if os.geteuid() != 0:
            host_uid = None
        run_dir = runtime_dir / "run"
        run_dir.mkdir(exist_ok=True)
        os.chmod(run_dir, 0o711)
        sources = ((prefix, True), (site, True), (ENTRY, True), (run_dir, False))
        stage_root = None
        if host_uid is not None and not all(_world_traversable(path, readable) for path, readable in sources):
            stage_root = _stage_root([path for path, _ in sources])
            if not (shutil.which("unshare") and shutil.which("setpriv") and shutil.which("mount")):
                raise RunnerUnavailable(
                    f"the sandbox user {host_uid} cannot reach {site} or {run_dir}, and util-linux's unshare, "
                    "mount and setpriv are missing to bind them where it can"
                )
        cgroup_base = CgroupBase.discover() if cgroups else None
        return cls(prefix, executable, site, run_dir, host_uid, cgroup_base, stage_root)

    def binds(self, sandbox_dir: Path) -> list[tuple[str, str]]:
        """(host path, path inside the sandbox) for everything of the host a sandbox sees."""
        return [
            (str(self.python_prefix), str(self.python_prefix)),
            (str(self.site_packages), SITE_IN_SANDBOX),
            (str(ENTRY), ENTRY_IN_SANDBOX),
            (str(sandbox_dir), "/gw"),
        ]


def _stage_root(sources: list[Path]) -> str:
    for candidate in STAGE_CANDIDATES:
        root = Path(candidate)
        if root.is_dir() and _world_traversable(root, readable=False) and not any(
            source == root or root in source.parents for source in sources
        ):
            return candidate
    raise RunnerUnavailable(f"no directory among {', '.join(STAGE_CANDIDATES)} to stage the sandbox's files in")


def staging(binds: list[tuple[str, str]], host_uid: int, stage_root: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Start bwrap from a private mount namespace in which root has bound each host path on a tmpfs at
    `stage_root`, where the sandbox user can reach it; then drop to that user. Returns the command to put before bwrap's
    and the binds as bwrap must now name them. Nothing changes on the host: the namespace lives as long as
    bwrap's process (the same process: every step execs the next)."""
    script = ["set -e", f"mount -t tmpfs -o mode=755,size=64k lab-stage {stage_root}"]
    staged = []
    for n, (source, target) in enumerate(binds):
        stage = f"{stage_root}/{n}"
        script.append(f'[ -d "${{{n + 1}}}" ] && mkdir {stage} || touch {stage}')
        script.append(f'mount --bind "${{{n + 1}}}" {stage}')
        staged.append((stage, target))
    script.append(
        f'shift {len(binds)}; exec setpriv --reuid={host_uid} --regid={host_uid} --clear-groups --inh-caps=-all '
        '--bounding-set=-all "$@"'
    )
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script), "lab-stage",
               *(source for source, _ in binds)]
    return command, staged


# --- cgroups (v1) -------------------------------------------------------------------------


class CgroupBase:
    """`labrunner/` directories under this process's own v1 memory, pids and cpu cgroups."""

    CONTROLLERS = ("memory", "pids", "cpu")

    def __init__(self, bases: dict[str, Path]):
        self.bases = bases

    @classmethod
    def discover(cls) -> "CgroupBase | None":
        own: dict[str, str] = {}
        try:
            for line in Path("/proc/self/cgroup").read_text().splitlines():
                _, controllers, path = line.split(":", 2)
                for name in controllers.split(","):
                    own[name] = path
        except OSError:
            return None
        bases = {}
        for name in ("memory", "pids"):
            root = Path("/sys/fs/cgroup") / name
            if name not in own or not (root / "cgroup.procs").exists():
                return None  # no v1 hierarchy for a required controller (cgroup v2 only: rlimits only)
            base = root / own[name].lstrip("/") / "labrunner"
            try:
                base.mkdir(exist_ok=True)
            except OSError:
                return None
            bases[name] = base
        cpu = Path("/sys/fs/cgroup/cpu")
        if "cpu" in own and (cpu / "cgroup.procs").exists():
            try:
                (cpu / own["cpu"].lstrip("/") / "labrunner").mkdir(exist_ok=True)
                bases["cpu"] = cpu / own["cpu"].lstrip("/") / "labrunner"
            except OSError:
                pass
        base = cls(bases)
        base.remove_stale()
        return base

    def remove_stale(self, older_than: float = 120.0) -> None:
        """Remove empty slots left by processes that died without cleaning up (rmdir fails if not empty)."""
        now = time.time()
        for root in self.bases.values():
            for slot in root.glob("sbx-*"):
                try:
                    if now - slot.stat().st_mtime > older_than:
                        slot.rmdir()
                except OSError:
                    pass

    def slot(self, name: str) -> "CgroupSlot":
        return CgroupSlot({c: base / name for c, base in self.bases.items()})


class CgroupSlot:
    def __init__(self, dirs: dict[str, Path]):
        self.dirs = dirs
        for d in dirs.values():
            d.mkdir()

    def write(self, controller: str, name: str, value) -> bool:
        if controller not in self.dirs:
            return False
        try:
            (self.dirs[controller] / name).write_text(str(value))
            return True
        except OSError:
            return False

    def read(self, controller: str, name: str) -> str:
        try:
            return (self.dirs[controller] / name).read_text()
        except (OSError, KeyError):
            return ""

    def set_limits(self, limits: Limits) -> None:
        memory = limits.memory_mb * 1024 * 1024
        self.write("memory", "memory.limit_in_bytes", memory)
        self.write("memory", "memory.memsw.limit_in_bytes", memory)  # no swap (if swap accounting exists)
        self.write("pids", "pids.max", limits.processes)

    def add(self, pid: int) -> None:
        for controller in self.dirs:
            self.write(controller, "cgroup.procs", pid)

    def oom_kills(self) -> int:
        for line in self.read("memory", "memory.oom_control").splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def pids_max_hits(self) -> int:
        for line in self.read("pids", "pids.events").splitlines():
            if line.startswith("max "):
                return int(line.split()[1])
        return 0

    def procs(self) -> list[int]:
        pids: set[int] = set()
        for controller in self.dirs:
            pids.update(int(p) for p in self.read(controller, "cgroup.procs").split())
        return sorted(pids)

    def kill_and_remove(self, timeout: float = 3.0) -> list[int]:
        """SIGKILL whatever is left; remove the directories. Returns pids still alive (should be [])."""
        deadline = time.monotonic() + timeout
        while (left := self.procs()) and time.monotonic() < deadline:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
        for d in self.dirs.values():
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        return self.procs()


# --- host-side gateway relay --------------------------------------------------------------


RELAY_BUSY_RESPONSE = (
    b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nRetry-After: 1\r\nConnection: close\r\n"
    b"Content-Length: 120\r\n\r\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
    b"<Message>Too many open connections.</Message></Error>"
)


class Relay:
    """Serves each sandbox's /gw/gw.sock: every connection is forwarded to the gateway (TCP).

    `target` is called per connection and returns (host, port), so settings changes (tests) apply.
    A sandbox may hold at most `max_per_sandbox` connections at once (two threads and two descriptors
    each, here and in the gateway); beyond that a connection is answered 503 SlowDown, which SDKs retry."""

    def __init__(self, target, max_per_sandbox: int = 32):
        self.target = target
        self.max_per_sandbox = max_per_sandbox
        self.active: dict[socket.socket, int] = {}  # listener -> open relayed connections
        # Each sandbox reaches a loopback gateway from an address of its own in 127.0.0.0/8, so the
        # gateway's per-address limits (connections, anonymous rate) hold per sandbox, instead of all
        # learners' consoles sharing 127.0.0.1 with each other and with the platform's own calls.
        self.source: dict[socket.socket, str] = {}
        self.sources_made = 0
        self.selector = selectors.DefaultSelector()
        self.lock = threading.Lock()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        self.selector.register(self.wake_r, selectors.EVENT_READ, None)
        self.thread = threading.Thread(target=self._loop, daemon=True, name="runner-relay")
        self.thread.start()

    def listen(self, path: Path, owner_uid: int | None) -> socket.socket:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        os.chmod(path, 0o600)
        if owner_uid is not None:
            os.chown(path, owner_uid, -1)
        listener.listen(32)
        listener.setblocking(False)
        with self.lock:
            self.active[listener] = 0
            self.sources_made += 1
            n = self.sources_made % (250 * 250 * 250)
            self.source[listener] = f"127.{n // 62500 + 2}.{n // 250 % 250 + 1}.{n % 250 + 1}"
            self.selector.register(listener, selectors.EVENT_READ, listener)
        os.write(self.wake_w, b"x")
        return listener

    def close(self, listener: socket.socket) -> None:
        with self.lock:
            try:
                self.selector.unregister(listener)
            except (KeyError, ValueError):
                pass
            self.active.pop(listener, None)
            self.source.pop(listener, None)
        listener.close()

    def _loop(self) -> None:
        while True:
            for key, _ in self.selector.select():
                if key.data is None:
                    try:
                        os.read(self.wake_r, 4096)
                    except BlockingIOError:
                        pass
                    continue
                listener = key.data
                try:
                    client, _ = listener.accept()
                except (BlockingIOError, OSError):
                    continue
                with self.lock:
                    busy = self.active.get(listener, 0) >= self.max_per_sandbox
                    if not busy:
                        self.active[listener] = self.active.get(listener, 0) + 1
                if busy:
                    _refuse_busy(client)
                    continue
                client.setblocking(True)
                threading.Thread(target=self._serve, args=(client, listener), daemon=True).start()

    def _release(self, listener: socket.socket) -> None:
        with self.lock:
            if listener in self.active:
                self.active[listener] -= 1

    def _serve(self, client: socket.socket, listener: socket.socket) -> None:
        try:
            self._relay(client, self.source.get(listener))
        finally:
            self._release(listener)

    def _relay(self, client: socket.socket, source: str | None) -> None:
        host, port = self.target()
        try:
            loopback = ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
            bind = (source, 0) if source and loopback else None
            upstream = socket.create_connection((host, port), timeout=5, source_address=bind)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        back.start()
        _pump(client, upstream)
        back.join()
        client.close()
        upstream.close()


def _refuse_busy(client: socket.socket) -> None:
    """Answer without reading the request (a fresh socket's buffer takes it without blocking), then close."""
    try:
        client.setblocking(False)
        client.send(RELAY_BUSY_RESPONSE)
        client.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        client.close()


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


# --- one sandbox --------------------------------------------------------------------------

PASSWD = f"learner:x:{SANDBOX_UID}:{SANDBOX_UID}:Learner:{HOME}:/nonexistent\n"
GROUP = f"learner:x:{SANDBOX_UID}:\n"
HOSTS = "127.0.0.1 localhost\n::1 localhost\n"
WARM_ENV = {
    "HOME": HOME,
    "PATH": "/nonexistent",
    "LANG": "C.UTF-8",
    "MALLOC_ARENA_MAX": "2",
    "AWS_CONFIG_FILE": f"{HOME}/.aws/config",
    "AWS_SHARED_CREDENTIALS_FILE": f"{HOME}/.aws/credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class Sandbox:
    """One bwrap'd, pre-warmed Python process, good for exactly one job."""

    def __init__(self, runtime: Runtime, relay: Relay, tmpfs_mb: int = 16, spawn_limits: Limits | None = None):
        self.runtime = runtime
        self.id = uuid.uuid4().hex[:12]
        self.used = False
        self.closed = False
        self.dir = runtime.run_dir / self.id
        self.dir.mkdir(mode=0o700)
        if runtime.host_uid is not None:
            os.chown(self.dir, runtime.host_uid, -1)
        self.listener = relay.listen(self.dir / "gw.sock", runtime.host_uid)
        self.relay = relay
        self.cgroup = runtime.cgroups.slot(f"sbx-{self.id}") if runtime.cgroups else None
        if self.cgroup:
            self.cgroup.set_limits(spawn_limits or Limits())
            self.cgroup.write("cpu", "cpu.shares", 128)  # warming up yields to running jobs
        self.tmpfs_mb = tmpfs_mb
        self.started = time.monotonic()
        self._spawn()

    def _spawn(self) -> None:
        rt = self.runtime
        status_r, status_w = os.pipe()
        info_r, info_w = os.pipe()
        block_r, block_w = os.pipe()
        seccomp = _memfd("seccomp", seccomp_program())
        files = {
            "/etc/passwd": _memfd("passwd", PASSWD.encode()),
            "/etc/group": _memfd("group", GROUP.encode()),
            "/etc/hosts": _memfd("hosts", HOSTS.encode()),
        }
        tmpfs = str(self.tmpfs_mb * 1024 * 1024)
        args = [
            "bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--clearenv", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--hostname", "sandbox",
            "--ro-bind", "/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
            "--ro-bind", "/usr/lib64", "/usr/lib64",
            "--ro-bind-try", "/usr/lib/locale", "/usr/lib/locale",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        ]
        binds = rt.binds(self.dir)
        launcher: list[str] = []
        if rt.stage_root:
            launcher, binds = staging(binds, rt.host_uid, rt.stage_root)
        for source, target in binds:
            args += ["--ro-bind", source, target]
        args += [
            "--proc", "/proc", "--dev", "/dev",
            "--size", tmpfs, "--tmpfs", "/tmp",
            "--size", tmpfs, "--tmpfs", HOME,
            "--dir", f"{HOME}/.aws",
        ]
        for path, fd in files.items():
            args += ["--ro-bind-data", str(fd), path]
        for key, value in {**WARM_ENV, "LAB_STATUS_FD": str(status_w)}.items():
            args += ["--setenv", key, value]
        args += [
            "--chdir", HOME, "--seccomp", str(seccomp), "--info-fd", str(info_w), "--block-fd", str(block_r),
            rt.executable, "-I", "-B", "-X", "utf8", ENTRY_IN_SANDBOX, SITE_IN_SANDBOX,
        ]
        if rt.host_uid is not None:
            os.chown(self.dir, rt.host_uid, -1)
        keep = [status_w, info_w, block_r, seccomp, *files.values()]
        # Staged: the launcher starts as root and drops to host_uid itself, after binding.
        as_uid = None if launcher else rt.host_uid
        try:
            self.proc = subprocess.Popen(
                launcher + args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=keep,
                start_new_session=True,
                # Not the worker's environment: bwrap's own pid 1 inside the namespace keeps the env it
                # was started with (readable as /proc/1/environ), --clearenv only cleans the command's.
                env={"PATH": "/usr/bin:/bin"},
                cwd="/",  # the worker's own directory may be closed to the sandbox user
                user=as_uid,
                group=as_uid,
                extra_groups=[] if as_uid is not None else None,
            )
        finally:
            for fd in (info_w, block_r, seccomp, *files.values()):
                os.close(fd)
            os.close(status_w)
        self.status_r = status_r
        self.child_pid = 0
        try:
            raw = b""
            while chunk := os.read(info_r, 4096):
                raw += chunk
            os.close(info_r)
            self.child_pid = json.loads(raw)["child-pid"] if raw else 0
            if self.cgroup:
                for pid in (self.proc.pid, self.child_pid):
                    if pid:
                        self.cgroup.add(pid)
            try:
                self.pidns = os.readlink(f"/proc/{self.child_pid}/ns/pid") if self.child_pid else ""
            except OSError:
                self.pidns = ""
            os.write(block_w, b"go")
        except (BrokenPipeError, ValueError, KeyError) as error:
            self.proc.wait(5)
            detail = self.proc.stderr.read(4000).decode(errors="replace").strip()
            raise RunnerUnavailable(f"bwrap failed to start: {detail or error}") from None
        finally:
            os.close(block_w)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        buffer = b""
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RunnerUnavailable("sandbox warm-up timed out")
            sel = selectors.DefaultSelector()
            sel.register(self.status_r, selectors.EVENT_READ)
            if not sel.select(remaining):
                sel.close()
                continue
            sel.close()
            chunk = os.read(self.status_r, 4096)
            if not chunk:
                err = self.proc.stderr.read(4000).decode(errors="replace") if self.proc.poll() is not None else ""
                raise RunnerUnavailable(f"sandbox died while warming up: {err.strip()}")
            buffer += chunk
        if not json.loads(buffer.split(b"\n")[0]).get("ready"):
            raise RunnerUnavailable("sandbox did not report ready")
        self.warm_ms = (time.monotonic() - self.started) * 1000

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, job: dict, limits: Limits, should_stop=None) -> Outcome:
        """Send the job, collect output under the limits, then destroy the sandbox.

        `should_stop`: called every STOP_POLL_SECONDS or so while the job runs (the learner's Stop
        button); when it answers True the whole sandbox is killed and the outcome's limit is "stopped"."""
        assert not self.used, "a sandbox runs one job only"
        self.used = True
        if self.cgroup:
            self.cgroup.set_limits(limits)
            self.cgroup.write("cpu", "cpu.shares", 1024)
        job = dict(job)
        job["limits"] = self._job_limits(limits)
        start = time.monotonic()
        deadline = start + limits.wall_seconds
        out = {"stdout": bytearray(), "stderr": bytearray()}
        status_lines = bytearray()
        limit: str | None = None
        try:
            self.proc.stdin.write(json.dumps(job).encode())
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ, "stdout")
        sel.register(self.proc.stderr, selectors.EVENT_READ, "stderr")
        sel.register(self.status_r, selectors.EVENT_READ, "status")
        open_streams = 2
        tick = STOP_POLL_SECONDS if should_stop else 0.5
        next_stop_check = start + tick
        while open_streams:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                limit = "time"
                break
            if should_stop and time.monotonic() >= next_stop_check:
                next_stop_check = time.monotonic() + tick
                if should_stop():
                    limit = "stopped"
                    break
            events = sel.select(min(remaining, tick))
            for key, _ in events:
                data = os.read(key.fd, 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    if key.data != "status":
                        open_streams -= 1
                    continue
                if key.data == "status":
                    status_lines += data[:4096]
                    continue
                buffer = out[key.data]
                room = limits.output_bytes - len(buffer)
                buffer += data[: max(room, 0)]
                if len(data) > room:
                    limit = "output"
            if limit:
                break
        if limit is None:
            try:
                self.proc.wait(max(deadline - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                limit = "time"
        duration_ms = (time.monotonic() - start) * 1000
        # Status lines that arrived with the last output.
        try:
            os.set_blocking(self.status_r, False)
            status_lines += os.read(self.status_r, 4096)
        except (BlockingIOError, OSError):
            pass
        sel.close()
        pids = self._sandbox_pids()
        self.destroy()
        torn_down_at = time.time()
        exit_code = self.proc.returncode if self.proc.returncode is not None else -9
        hints = []
        for line in bytes(status_lines).splitlines():
            try:
                hints.append(json.loads(line))
            except ValueError:
                pass
        reported_exit = next((h["exit"] for h in hints if isinstance(h, dict) and "exit" in h), None)
        if limit is None and self.cgroup and self.cgroup_oom:
            limit = "memory"
        if limit in (None, "time") and self.cgroup_pids_hit and (limit == "time" or exit_code != 0):
            limit = "processes"
        if limit is None and any(isinstance(h, dict) and h.get("limit") == "memory" for h in hints):
            limit = "memory"
        if limit is None and exit_code in (128 + signal.SIGXCPU, -signal.SIGXCPU):
            limit = "cpu"
        if limit is None and exit_code in (128 + signal.SIGKILL,) and reported_exit is None and not self.cgroup:
            limit = "memory"  # without a cgroup, a SIGKILL we did not send is most likely the OOM killer
        if limit is None and any(isinstance(h, dict) and h.get("limit") == "disk" for h in hints):
            limit = "disk"
        message = limits.messages()[limit] if limit else ""
        return Outcome(
            stdout=bytes(out["stdout"]),
            stderr=bytes(out["stderr"]),
            exit_code=exit_code if limit is None else (exit_code if exit_code > 0 else 137),
            duration_ms=duration_ms,
            limit="time" if limit == "cpu" else limit,
            message=message,
            sandbox_id=self.id,
            pids=pids,
            pidns=getattr(self, "pidns", ""),
            cgroup_dirs=[str(d) for d in self.cgroup.dirs.values()] if self.cgroup else [],
            torn_down_at=torn_down_at,
        )

    def _job_limits(self, limits: Limits) -> dict:
        return {
            "cpu_seconds": limits.cpu_seconds,
            "address_space_bytes": (limits.memory_mb + 1024) * 1024 * 1024,
            "file_size_bytes": limits.tmpfs_mb * 1024 * 1024,
            "open_files": limits.open_files,
            # Counted per host uid across all sandboxes: only a backstop when the pids cgroup exists.
            "nproc": 4096 if self.cgroup else max(limits.processes * 4, 256),
            # Enforced inside only in serve mode (by the parent of each job); always on the host too.
            "wall_seconds": limits.wall_seconds,
            "output_bytes": limits.output_bytes,
        }

    # --- serve mode: one sandbox, many jobs of one trusted caller -----------------------------
    #
    # `lab test` runs some 650 reference-solution commands. A fresh sandbox costs ~1 s of CPU to warm up
    # (imports, CLI driver, service models), more than the command itself, so in serve mode the warm
    # interpreter forks a fresh process per job instead (a few ms), in a fresh working directory, with the
    # job's own environment and rlimits, and the same `execute` as a one-job sandbox. The namespaces,
    # seccomp filter, cgroup and tmpfs are shared by the jobs of one caller: right for trusted callers
    # (reference solutions), never used for learners' commands, which each get a sandbox of their own.

    serving = False
    _stderr_open = True

    def serve(self, job: dict, limits: Limits) -> Outcome:
        """Run one job in this sandbox, which stays up for the next one. Raises RunnerUnavailable if the
        sandbox died; on a host-side timeout the sandbox is destroyed and the outcome says so."""
        if not self.serving:
            assert not self.used, "a sandbox that ran a job cannot serve"
            self.used = self.serving = True
            if self.cgroup:
                self.cgroup.set_limits(limits)
                self.cgroup.write("cpu", "cpu.shares", 1024)
            self._answers = bytearray()
            self._write_line({"mode": "serve"})
        job = dict(job, limits=self._job_limits(limits))
        oom_before = self.cgroup.oom_kills() if self.cgroup else 0
        start = time.monotonic()
        self._write_line(job)
        # The parent inside kills a job at wall_seconds; the host gives it a few more to report.
        deadline = start + limits.wall_seconds + 5
        out_fd, err_fd = self.proc.stdout.fileno(), self.proc.stderr.fileno()
        while b"\n" not in self._answers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.destroy()
                return Outcome(b"", b"", 137, (time.monotonic() - start) * 1000, limit="time",
                               message=limits.messages()["time"], sandbox_id=self.id)
            ready, _, _ = select.select([out_fd] + ([err_fd] if self._stderr_open else []), [], [], remaining)
            if err_fd in ready and not os.read(err_fd, 65536):  # the serving parent's own stderr: drained
                self._stderr_open = False
            if out_fd in ready:
                data = os.read(out_fd, 1 << 20)
                if not data:
                    oom = self.cgroup and self.cgroup.oom_kills() > oom_before
                    self.destroy()
                    if oom:
                        return Outcome(b"", b"", 137, (time.monotonic() - start) * 1000, limit="memory",
                                       message=limits.messages()["memory"], sandbox_id=self.id)
                    raise RunnerUnavailable("the sandbox stopped while serving a job")
                self._answers += data
                if len(self._answers) > 4 * limits.output_bytes + 65536:
                    self.destroy()
                    raise RunnerUnavailable("the sandbox answered more than a job's output")
        line, _, rest = bytes(self._answers).partition(b"\n")
        self._answers = bytearray(rest)
        answer = json.loads(line)
        hints = []
        for text in answer.get("hints", "").splitlines():
            try:
                hints.append(json.loads(text))
            except ValueError:
                pass
        exit_code = int(answer["exit"])
        limit = answer.get("limit")
        if limit is None and self.cgroup and self.cgroup.oom_kills() > oom_before:
            limit = "memory"
        if limit is None and any(isinstance(h, dict) and h.get("limit") in ("memory", "disk") for h in hints):
            limit = next(h["limit"] for h in hints if isinstance(h, dict) and h.get("limit") in ("memory", "disk"))
        if limit is None and exit_code == 128 + signal.SIGXCPU:
            limit = "cpu"
        return Outcome(
            stdout=base64.b64decode(answer["stdout"]),
            stderr=base64.b64decode(answer["stderr"]),
            exit_code=exit_code if limit is None or exit_code > 0 else 137,
            duration_ms=(time.monotonic() - start) * 1000,
            limit="time" if limit == "cpu" else limit,
            message=limits.messages()[limit] if limit else "",
            sandbox_id=self.id,
        )

    def _write_line(self, document: dict) -> None:
        try:
            self.proc.stdin.write(json.dumps(document).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            self.destroy()
            raise RunnerUnavailable("the sandbox stopped before it took the job") from None

    def _sandbox_pids(self) -> list[int]:
        pids = {self.proc.pid}
        if self.child_pid:
            pids.add(self.child_pid)
        if self.cgroup:
            pids.update(self.cgroup.procs())
        return sorted(pids)

    cgroup_oom = 0
    cgroup_pids_hit = 0

    def destroy(self) -> None:
        """Kill every process of the sandbox and remove its cgroup, socket and directory. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self.cgroup:
            self.cgroup_oom = self.cgroup.oom_kills()
            self.cgroup_pids_hit = self.cgroup.pids_max_hits()
        if self.proc.poll() is None:
            # SIGKILL to the namespace's pid 1 tears down the whole pid namespace; then bwrap itself.
            if self.child_pid:
                try:
                    os.kill(self.child_pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:  # bwrap reaps its child and exits by itself; kill it only if it does not
                self.proc.wait(1)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            log.error("runner sandbox %s: bwrap did not exit after SIGKILL", self.id)
        if self.cgroup:
            left = self.cgroup.kill_and_remove()
            if left:
                log.error("runner sandbox %s: processes survived: %s", self.id, left)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except Exception:
                pass
        try:
            os.close(self.status_r)
        except OSError:
            pass
        self.relay.close(self.listener)
        shutil.rmtree(self.dir, ignore_errors=True)

