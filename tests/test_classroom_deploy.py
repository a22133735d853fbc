"""deploy/: the nginx configuration is valid, and deploy/cluster.py really starts PostgreSQL, two
Streamlit replicas and nginx on loopback (sticky by cookie, websockets upgraded) and stops them all.

Needs Debian's nginx and postgresql: without them these tests skip on a developer's machine but fail
when CI is set (scripts/test.sh installs both)."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from classroom import ClassStore
from classroom.pgserver import free_port, postgres_bin

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "deploy" / "cluster.py"
sys.path.insert(0, str(ROOT / "deploy"))
import cluster  # noqa: E402  (deploy/ is not a package)


def require(tool: str, found: bool) -> None:
    if not found:
        reason = f"{tool} is not installed (apt-get install {tool}; scripts/test.sh does it)"
        if os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}:
            pytest.fail(reason)
        pytest.skip(reason)


def get(url: str, cookie: str | None = None):
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read()


def websocket_handshake(port: int, cookie: str) -> tuple[str, dict[str, str]]:
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            (
                f"GET /_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Protocol: streamlit\r\nCookie: {cookie}\r\n\r\n"
            ).encode()
        )
        head = sock.recv(65536).decode(errors="replace").split("\r\n\r\n")[0].split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
    return head[0], {k.lower(): v for k, v in headers.items()}


def test_the_nginx_config_is_valid(tmp_path):
    require("nginx", cluster.nginx_binary() is not None)
    conf = cluster.render_nginx_conf(tmp_path, "127.0.0.1:18080", [18081, 18082])
    assert "{{" not in conf
    assert "hash $cliffs_route consistent;" in conf and "proxy_set_header Upgrade $http_upgrade;" in conf
    (tmp_path / "nginx.conf").write_text(conf)
    result = subprocess.run(cluster.nginx_command(tmp_path, "-t"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_the_cluster_starts_serves_through_nginx_and_stops_cleanly(tmp_path):
    require("nginx", cluster.nginx_binary() is not None)
    require("postgresql", postgres_bin() is not None)
    state = tmp_path / "cluster"
    port, first = free_port(), free_port()
    while first + 1 == port:
        first = free_port()
    command = [
        sys.executable,
        str(CLUSTER),
        "--state",
        str(state),
        "--port",
        str(port),
        "--replica-port",
        str(first),
    ]
    started = subprocess.run(
        [*command[:2], "start", *command[2:]], capture_output=True, text=True, timeout=240
    )
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        info = json.loads((state / "cluster.json").read_text())
        replicas = {f"127.0.0.1:{r['port']}" for r in info["replicas"]}
        assert len(replicas) == 2

        status, _, body = get(f"http://127.0.0.1:{port}/_stcore/health")
        assert (status, body) == (200, b"ok")
        # A browser without the cookie is placed by chance, and told where it is: both replicas serve.
        seen, cookies = set(), set()
        for _ in range(24):
            _, headers, _ = get(f"http://127.0.0.1:{port}/")
            seen.add(headers["X-Cliffs-Upstream"])
            cookies.add(next(c for c in headers.get_all("Set-Cookie") if c.startswith("cliffs_route=")))
        assert seen == replicas
        assert len(cookies) == 24
        # With the cookie, every request (and the websocket) goes to the same replica.
        cookie = next(iter(cookies)).split(";")[0]
        places = {get(f"http://127.0.0.1:{port}/", cookie)[1]["X-Cliffs-Upstream"] for _ in range(8)}
        assert len(places) == 1
        line, headers = websocket_handshake(port, cookie)
        assert line.startswith("HTTP/1.1 101"), line
        assert headers["upgrade"].lower() == "websocket"
        assert {headers["x-cliffs-upstream"]} == places

        # The replicas' database: a real PostgreSQL that needs the password in CLIFFS_DB.
        store = ClassStore(info["db_url"])
        room = store.create_room()
        assert store.teacher_view(room.code, room.secret).state == "waiting"
        store.engine.dispose()
        pids = [r["pid"] for r in info["replicas"]] + [info["nginx_pid"]]
    finally:
        stopped = subprocess.run(
            [*command[:2], "stop", *command[2:]], capture_output=True, text=True, timeout=120
        )
    assert stopped.returncode == 0, stopped.stderr
    assert not state.exists()
    assert not any(cluster.alive(pid) for pid in pids)
    assert not Path(info["postgres"]["folder"]).exists()
    for p in (port, first, first + 1, info["postgres"]["port"]):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", p)) != 0, f"port {p} still answers"
