"""A whole class-sized deployment on loopback: PostgreSQL in a temporary folder, Streamlit replicas
sharing it through CLIFFS_DB, and nginx in front (sticky sessions, websocket upgrades).

    python deploy/cluster.py up                 # start, print the address, stop cleanly on Ctrl-C
    python deploy/cluster.py start [--state D]  # start in the background (for benchmarks), then
    python deploy/cluster.py status [--state D] #   see what runs, and
    python deploy/cluster.py stop [--state D]   #   stop it all and delete the temporary data

Options: --port (nginx, default 8600), --replicas (default 2), --replica-port (first replica's
port, default 8611). The state folder (default: /tmp/cliffs-cluster) holds cluster.json, the logs
and nginx's files; ``stop`` removes it. Needs Debian's ``postgresql`` and ``nginx`` packages.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classroom.pgserver import TempPostgres  # noqa: E402  (after the path is set)

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
DEFAULT_STATE = Path("/tmp/cliffs-cluster")
#: Streamlit options for serving a class (bench_classroom.py measured both): after every script run,
#: fragment reruns included, Streamlit by default forces a full garbage collection (~0.15 s with JAX
#: loaded, holding the GIL) and walks every loaded module's path for its file watcher (on the event
#: loop, which then serves no websocket). A class's 30 polls a second made that the whole CPU.
SERVING_OPTIONS = ("--runner.postScriptGC", "false", "--server.fileWatcherType", "none")


def render_nginx_conf(run: Path, listen: str, replicas: list[int]) -> str:
    """The nginx configuration for replicas on these loopback ports, nginx listening on ``listen``."""
    upstreams = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in replicas
    )
    text = TEMPLATE.read_text()
    for key, value in {"run": str(run), "listen": listen, "upstreams": upstreams}.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def nginx_command(run: Path, *args: str) -> list[str]:
    nginx = nginx_binary()
    if nginx is None:
        raise SystemExit("nginx is not installed (apt-get install nginx)")
    return [nginx, "-p", str(run), "-e", str(run / "nginx-error.log"), "-c", str(run / "nginx.conf"), *args]


def wait_for(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the process for {url} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def start(state: Path, port: int, replicas: int, replica_port: int) -> dict:
    if (state / "cluster.json").exists():
        raise SystemExit(f"a cluster seems to run already ({state / 'cluster.json'}); stop it first")
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o755)  # nginx's workers (nobody, when started as root) use its temporary folders
    info: dict = {"state": str(state), "port": port, "replicas": []}
    pg = TempPostgres(password=secrets.token_urlsafe(16), durable=True)
    try:
        pg.start()
        info["postgres"] = {"folder": str(pg.folder), "port": pg.port, "run_as": pg.run_as}
        info["db_url"] = pg.url
        save(state, info)
        # One cookie secret for every replica: a browser's signed cookies (Streamlit's XSRF token)
        # stay valid when a replica dies and nginx sends it to another one.
        env = {**os.environ, "CLIFFS_DB": pg.url, "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_urlsafe(32)}
        for i in range(replicas):
            rport = replica_port + i
            log = open(state / f"replica-{rport}.log", "w")  # noqa: SIM115 (the child keeps it)
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streamlit",
                    "run",
                    "app.py",
                    "--server.port",
                    str(rport),
                    "--server.address",
                    "127.0.0.1",
                    "--server.headless",
                    "true",
                    *SERVING_OPTIONS,
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            info["replicas"].append({"port": rport, "pid": proc.pid})
            save(state, info)
        for replica in info["replicas"]:
            wait_for(f"http://127.0.0.1:{replica['port']}/_stcore/health", 90)
        (state / "nginx.conf").write_text(
            render_nginx_conf(state, f"127.0.0.1:{port}", [r["port"] for r in info["replicas"]])
        )
        subprocess.run(nginx_command(state, "-t", "-q"), check=True, capture_output=True, text=True)
        subprocess.run(nginx_command(state), check=True, capture_output=True, text=True)
        info["nginx_pid"] = int((state / "nginx.pid").read_text())
        save(state, info)
        wait_for(f"http://127.0.0.1:{port}/_stcore/health", 30)
    except BaseException:
        stop(state)
        raise
    return info


def save(state: Path, info: dict) -> None:
    (state / "cluster.json").write_text(json.dumps(info, indent=2))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own child not reaped yet) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def end(pid: int, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """Sends ``sig`` to the process group ``pid`` leads, then SIGKILL if it outlives ``timeout``."""
    for s in (sig, signal.SIGKILL):
        try:
            os.killpg(pid, s)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, s)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not alive(pid):
                return
            time.sleep(0.1)


def stop(state: Path) -> None:
    """Stops nginx, the replicas and PostgreSQL of the cluster in ``state``; deletes its data."""
    path = state / "cluster.json"
    if not path.exists():
        print(f"no cluster in {state}")
        return
    info = json.loads(path.read_text())
    if (state / "nginx.pid").exists():
        subprocess.run(nginx_command(state, "-s", "quit"), capture_output=True)
        pid = info.get("nginx_pid")
        deadline = time.monotonic() + 10
        while pid and alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)
    for replica in info.get("replicas", []):
        end(replica["pid"])
    pg = info.get("postgres")
    if pg:
        TempPostgres.attach(Path(pg["folder"]), pg["port"], pg["run_as"]).stop()
    shutil.rmtree(state, ignore_errors=True)


def status(state: Path) -> int:
    path = state / "cluster.json"
    if not path.exists():
        print(f"no cluster in {state}")
        return 1
    info = json.loads(path.read_text())
    print(f"nginx   http://127.0.0.1:{info['port']}/  pid {info.get('nginx_pid')}")
    for replica in info["replicas"]:
        state_word = "running" if alive(replica["pid"]) else "gone"
        print(f"replica http://127.0.0.1:{replica['port']}/  pid {replica['pid']}  {state_word}")
    print(f"CLIFFS_DB={info.get('db_url')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["up", "start", "stop", "status"])
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--replica-port", type=int, default=8611)
    args = parser.parse_args(argv)
    if args.command == "stop":
        stop(args.state)
        return 0
    if args.command == "status":
        return status(args.state)
    info = start(args.state, args.port, args.replicas, args.replica_port)
    ports = ", ".join(str(r["port"]) for r in info["replicas"])
    print(
        f"The app: http://127.0.0.1:{args.port}/  (replicas on {ports}; CLIFFS_DB={info['db_url']})",
        flush=True,
    )
    if args.command == "start":
        return 0
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    try:
        while not stopping:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping the cluster...", flush=True)
        stop(args.state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
