"""A throwaway PostgreSQL server in a temporary folder, on loopback (for the tests and deploy/cluster.py).

Needs Debian's ``postgresql`` package (its programs live in ``/usr/lib/postgresql/<version>/bin``,
not on ``PATH``). ``initdb`` refuses to run as root, so as root the server runs as the ``postgres``
user that package creates (or ``nobody``), through ``subprocess``'s ``user=``: no sudo needed.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

DATABASE = "cliffs"


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (the newest version installed), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.parent.name)) or (0,)

    return max(candidates, key=version).parent if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> str | None:
    """Who runs the server: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError(
        "running as root, and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL"
    )


def _others_can_enter(folder: Path) -> bool:
    """Whether every folder on the way to ``folder`` lets other users pass (``o+x``)."""
    return all(part.stat().st_mode & 0o001 for part in [folder, *folder.parents])


class TempPostgres:
    """``with TempPostgres() as pg: pg.url`` -- a fresh server and database, deleted on exit.

    Args:
      password: when given, TCP logins need it (SCRAM); otherwise loopback logins are trusted.
      durable: False turns ``fsync`` off (fast, for tests); a crash would lose data.
      port: the TCP port on 127.0.0.1 (default: a free one).
    """

    def __init__(self, *, password: str | None = None, durable: bool = False, port: int | None = None):
        self.password = password
        self.durable = durable
        self.port = port or free_port()
        self.user = "cliffs"
        self.folder: Path | None = None
        self._bin = postgres_bin()
        self.run_as = _server_user()

    @classmethod
    def attach(cls, folder: Path, port: int, run_as: str | None) -> TempPostgres:
        """The server another process started in ``folder`` (so that this one can stop it)."""
        server = cls(port=port)
        server.folder = Path(folder)
        server.run_as = run_as
        return server

    @property
    def url(self) -> str:
        auth = self.user if self.password is None else f"{self.user}:{self.password}"
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self._bin is not None and self.folder is not None
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
        return subprocess.run(
            [str(self._bin / args[0]), *args[1:]],
            cwd=self.folder,
            env=env,
            user=self.run_as,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def start(self) -> TempPostgres:
        if self._bin is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        base = Path(tempfile.gettempdir())
        if self.run_as is not None and not _others_can_enter(base):
            base = Path("/tmp")  # e.g. TMPDIR=/root/tmp: the server's user could not reach its folder
        self.folder = Path(tempfile.mkdtemp(prefix="cliffs-pg-", dir=base))
        if self.run_as is not None:
            shutil.chown(self.folder, user=self.run_as)
        data = self.folder / "data"
        args = ["initdb", "-D", str(data), "-U", self.user, "-E", "UTF8", "--locale=C", "--auth-local=trust"]
        if self.password is None:
            args.append("--auth-host=trust")
        else:
            pwfile = self.folder / "pw"
            pwfile.write_text(self.password + "\n")
            if self.run_as is not None:
                shutil.chown(pwfile, user=self.run_as)
            args += ["--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        try:
            self._run(*args)
            options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder}"
            if not self.durable:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            self._run(
                "pg_ctl", "-D", str(data), "-l", str(self.folder / "server.log"), "-o", options, "-w", "start"
            )
            self._run("createdb", "-h", str(self.folder), "-p", str(self.port), "-U", self.user, DATABASE)
        except subprocess.CalledProcessError as error:
            log = self.log()
            self.stop()
            raise RuntimeError(f"PostgreSQL did not start: {error.stderr or error.stdout}\n{log}") from error
        return self

    def log(self) -> str:
        path = self.folder / "server.log" if self.folder else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def stop(self) -> None:
        """Stops the server (fast shutdown) and deletes its folder."""
        if self.folder is None:
            return
        if (self.folder / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self) -> TempPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
