"""One local server: how to install it, start it, know it is ready, stop it.

A service subclasses `Service` and fills in `command()` and `ready()`; the
base class owns pid files, logs, port checks and stopping by pid.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import signal
import socket
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import config


class StackError(RuntimeError):
    """A server could not be installed or started; the message says which and why."""


@dataclass
class Launch:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    user: str | None = None  # servers that refuse root run as this user


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def port_open(port: int, host: str = config.HOST, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def group_alive(pgid: int) -> bool:
    """Whether any live (not zombie) process is left in the process group."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive: it only waits for its parent to reap it...
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        threads = len(os.listdir(f"/proc/{pid}/task"))
    except (OSError, IndexError):
        return False
    # ...unless other threads are still exiting (Go servers): then it may still hold its ports.
    return state != "Z" or threads > 1


class Service:
    name: str = ""
    port: int = 0
    url: str = ""
    start_timeout: float = 60.0
    depends_on: tuple[str, ...] = ()
    stop_signal: int = signal.SIGTERM  # the server's own "shut down cleanly" signal
    # The system user the server (or its worker processes) runs as when the stack runs as root.
    system_user: str | None = None

    # --- to override -------------------------------------------------------
    def installed(self) -> bool:
        return True

    def install(self) -> None:
        """Build or fetch what is missing; called only when installed() is False."""

    def prepare(self) -> None:
        """Create data directories, clean stale lock files; runs before every start."""

    def command(self) -> Launch:
        raise NotImplementedError

    def ready(self) -> bool:
        """The server's own health signal, checked until it answers or the timeout."""
        return port_open(self.port)

    def after_ready(self) -> None:
        """Idempotent set-up that needs the server up (users, buckets)."""

    def version(self) -> str:
        return "?"

    # --- shared machinery --------------------------------------------------
    @property
    def pid_file(self) -> Path:
        return config.RUN / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return config.LOGS / f"{self.name}.log"

    @property
    def data_dir(self) -> Path:
        return config.VAR / self.name

    @property
    def work_dir(self) -> Path:
        """Where the server's unprivileged processes read and write: data_dir when its system user
        can reach it, else the same name under config.OUTSIDE (kept once made, so data never moves)."""
        if self.system_user is None or os.geteuid() != 0:
            return self.data_dir
        outside = config.OUTSIDE / self.name
        if outside.exists() or blocked_for(self.data_dir, self.system_user) is not None:
            return outside
        return self.data_dir

    def ensure_work_dir(self) -> Path:
        """Make work_dir reachable by the system user, or stop at once naming the folder and the fix."""
        work = self.work_dir
        if work != self.data_dir:
            # A shared /var/tmp: a folder someone else made (or a symlink) there is not ours to use.
            with contextlib.suppress(FileNotFoundError):
                info = os.lstat(config.OUTSIDE)
                if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
                    raise StackError(f"{self.name}: {config.OUTSIDE} exists and is not a folder of this user's; "
                                     f"remove it, or set STACK_OUTSIDE_DIR to another folder")
            for folder in (config.OUTSIDE, work):
                folder.mkdir(parents=True, exist_ok=True)
                os.chmod(folder, 0o755)  # noqa: S103 - the system user must traverse it
        work.mkdir(parents=True, exist_ok=True)
        if self.system_user is not None and os.geteuid() == 0:
            blocked = blocked_for(work, self.system_user)
            if blocked is not None:
                raise StackError(
                    f"{self.name}: runs as the system user {self.system_user}, who cannot enter {blocked} "
                    f"(on the way to {work}); `chmod o+x {blocked}`, or set STACK_OUTSIDE_DIR to a folder "
                    f"{self.system_user} can reach (default /var/tmp/portal-stack-<hash>)")
        return work

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None

    def start(self) -> None:
        if self.running():
            return
        self.pid_file.unlink(missing_ok=True)  # stale after a crash
        deadline = time.monotonic() + 3  # a process that just died may hold its port for a moment
        while port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        if port_open(self.port):
            raise StackError(
                f"{self.name}: port {self.port} is already in use by a process the stack did not start; "
                f"stop it or choose another port in the environment"
            )
        self.prepare()
        launch = self.command()
        config.LOGS.mkdir(parents=True, exist_ok=True)
        config.RUN.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as out:
            out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.name}\n".encode())
            out.flush()
            process = subprocess.Popen(
                launch.argv,
                cwd=launch.cwd or config.ROOT,
                env={**os.environ, **launch.env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: `down` stops it and its children
                user=launch.user,
            )
        self.pid_file.write_text(str(process.pid))
        self.wait_ready(process)
        self.after_ready()

    def wait_ready(self, process: subprocess.Popen[bytes] | None = None) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise StackError(f"{self.name} exited with code {process.returncode}\n{self.log_tail()}")
            with contextlib.suppress(Exception):  # any failure of the probe means "not yet"
                if self.ready():
                    return
            time.sleep(0.2)
        raise StackError(f"{self.name} was not ready after {self.start_timeout:.0f}s\n{self.log_tail()}")

    def stop(self, timeout: float = 30.0) -> None:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, self.stop_signal)  # the leader shuts its own children down
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.1)
        if pid_alive(pid):
            log(f"{self.name} did not stop within {timeout:.0f}s; sending SIGKILL")
            self._signal_group(pid, signal.SIGKILL)
            while pid_alive(pid):
                time.sleep(0.05)
            # And the rest of its group (a worker's pool children, ffmpeg): a host that crashed is gone
            # whole, its file locks released, before anything restarts it. Bounded: an unreaped zombie
            # still counts as a member.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and group_alive(pid):
                time.sleep(0.05)
        self._signal_group(pid, signal.SIGKILL, quiet=True)  # children left in the group
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """Simulate a crash: SIGKILL, leaving pid and lock files behind."""
        pid = self.pid()
        if pid is not None:
            self._signal_group(pid, signal.SIGKILL)
            while pid_alive(pid):
                time.sleep(0.05)
            # And the rest of its group (a worker's pool children, ffmpeg): a host that crashed is gone
            # whole, its file locks released, before anything restarts it. Bounded: an unreaped zombie
            # still counts as a member.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and group_alive(pid):
                time.sleep(0.05)

    @staticmethod
    def _signal_group(pid: int, sig: int, quiet: bool = False) -> None:
        try:
            os.killpg(pid, sig)  # started with start_new_session: pgid == pid
        except ProcessLookupError:
            pass
        except PermissionError:
            if not quiet:
                raise

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return f"(no log at {self.log_file})"
        return f"--- last lines of {self.log_file}:\n" + "\n".join(text)


def run(argv: list[str], *, user: str | None = None, cwd: Path | None = None,
        env: dict[str, str] | None = None, quiet: bool = True) -> str:
    """Run a set-up command; on failure raise with its output, so the cause is visible."""
    result = subprocess.run(
        argv, cwd=cwd, env={**os.environ, **(env or {})}, user=user,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    if result.returncode != 0:
        raise StackError(f"command failed ({result.returncode}): {' '.join(argv)}\n{result.stdout[-4000:]}")
    if not quiet:
        print(result.stdout, end="")
    return result.stdout


def run_with_progress(argv: list[str], *, cwd: Path, label: str, env: dict[str, str] | None = None,
                      unit: str = "steps") -> None:
    """Run a long build step that prints a line per unit of work (a package compiled, a file built),
    logging every 10 s so a cold build visibly moves; on failure raise with the last lines."""
    started = last = time.monotonic()
    count, tail = 0, [""]
    with subprocess.Popen(argv, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            count += 1
            tail = [*tail[-40:], line.rstrip()]
            if time.monotonic() - last > 10:
                last = time.monotonic()
                log(f"{label}: {count} {unit} ({last - started:.0f}s), now {line.strip()[:120]}")
    if process.returncode != 0:
        raise StackError(f"{label}: `{' '.join(argv)}` failed ({process.returncode})\n" + "\n".join(tail))


def blocked_for(path: Path, user: str) -> Path | None:
    """The first existing folder on the way to `path` that `user` may not enter (no search
    permission for it as owner, group member or other), or None when nothing blocks it."""
    entry = pwd.getpwnam(user)
    if entry.pw_uid == 0:
        return None
    groups = {entry.pw_gid, *(g.gr_gid for g in grp.getgrall() if user in g.gr_mem)}
    for folder in [*reversed(path.parents), path]:
        try:
            info = folder.stat()
        except FileNotFoundError:
            return None  # made later by the stack, searchable (0755)
        if info.st_uid == entry.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid in groups:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return folder
    return None


def chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)
