"""Class mode under load and faults: prints figures, asserts nothing (the machines are noisy).

    python benchmarks/bench_classroom.py                 # 60 students, the cluster, then SQLite
    python benchmarks/bench_classroom.py --students 20 --skip-sqlite

1. The cluster of deploy/cluster.py (PostgreSQL in a temporary folder, two Streamlit replicas,
   nginx; every port a free one on 127.0.0.1). A teacher in Chromium (Playwright) opens a room
   on the Class page and asks the first preset; its page records, in the page itself, when each
   guess first appears in the cloud on its map (the view rereads the store every 1.5 s).
2. --students browser-like sessions: each is a websocket client of Streamlit's own protocol
   (``/_stcore/stream`` through nginx, with nginx's sticky cookie), sending what the browser
   sends: the page's run with the URL's query, the form's values and its Join button, a click on
   the map component (its trigger), the "Submit my guess" button, and the automatic reruns of the
   page's fragments at the intervals the server asks for. Each submits one point of its own.
   They think for --think seconds first (their pages poll the room meanwhile, as in a lesson).
3. Half of them submit; then the replica serving the most students is killed (SIGKILL). Its
   students' websockets drop; they reconnect through nginx (to the replica left) with the same
   link, and their page must show the guess they had submitted. Then the others submit.
4. Figures: errors (exception boxes, error or warning notices, refused or dropped connections,
   timeouts; goal 0), the guesses in the database against the guesses sent, the p50/p95 from a
   submit to the guess being drawn on the teacher's view, and the reconnects.
5. SQLite: one replica on a data folder; students join and submit; the server is stopped and a
   new one started on the same folder; the students reconnect: the room and every guess are there.

Only 127.0.0.1; every wait is bounded (--timeout for the whole run); the processes this script
starts are stopped at the end by their process handles (the cluster with its own ``stop``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import websockets  # noqa: E402
from streamlit.components.v2.bidi_component.main import _make_trigger_id  # noqa: E402
from streamlit.proto.Alert_pb2 import Alert  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from classroom import ClassStore  # noqa: E402
from deploy import cluster  # noqa: E402
from ui.fences import read_component_data  # noqa: E402

FINISHED = ForwardMsg.ScriptFinishedStatus
RUN_TIMEOUT = 120.0  # s, one script run under load (the machine is shared)
WINDOW = ((3.5, 6.5), (-4.0, -1.0))  # the first preset's map (the catapult)


def free_ports(n: int, consecutive: bool = False) -> list[int]:
    """Free loopback ports (``consecutive``: n in a row, as deploy/cluster.py numbers replicas)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        ports = [first + i for i in range(n)] if consecutive else [first]
        if consecutive and ports[-1] > 65000:
            continue
        ok = True
        for p in ports:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
        if ok:
            return ports if consecutive else [*ports, *free_ports(n - 1)] if n > 1 else ports
    raise RuntimeError("no free ports")


T0 = time.perf_counter()


def say(text: str) -> None:
    print(f"  [{time.perf_counter() - T0:6.1f} s] {text}", flush=True)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def point_of(i: int, n: int) -> tuple[float, float]:
    """Student i's own guess: distinct points spread over the map (4 decimals, as the teacher's
    page compares them)."""
    (x0, x1), (y0, y1) = WINDOW
    x = x0 + 0.1 + (x1 - x0 - 0.2) * (i + 0.5) / n
    y = y0 + 0.1 + (y1 - y0 - 0.2) * ((i * 37) % n + 0.5) / n
    return round(x, 4), round(y, 4)


# --- a browser-like Streamlit session over its websocket ------------------------------------------


class Dropped(Exception):
    """The websocket closed (its replica went away)."""


@dataclass
class Elements:
    """What one run drew, by kind (only what the Class page's students need)."""

    buttons: dict[str, Any] = field(default_factory=dict)  # label -> Button proto
    inputs: dict[str, Any] = field(default_factory=dict)  # label -> TextInput proto
    components: dict[str, Any] = field(default_factory=dict)  # component name -> BidiComponent
    alerts: list[tuple[int, str]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)

    def add(self, element: Any) -> None:
        kind = element.WhichOneof("type")
        if kind == "button":
            self.buttons[element.button.label] = element.button
        elif kind == "text_input":
            self.inputs[element.text_input.label] = element.text_input
        elif kind == "bidi_component":
            self.components[element.bidi_component.component_name] = element.bidi_component
        elif kind == "alert":
            self.alerts.append((element.alert.format, element.alert.body))
        elif kind == "exception":
            self.exceptions.append(element.exception.message)
        elif kind == "html":
            self.html.append(element.html.body)

    def problems(self) -> list[str]:
        bad = [f"exception: {m}" for m in self.exceptions]
        bad += [f"notice: {b}" for f, b in self.alerts if f in (Alert.ERROR, Alert.WARNING)]
        return bad


class Session:
    """One browser tab on the app, as its websocket sees it."""

    def __init__(self, base: str, page: str = "class"):
        self.base = base.rstrip("/")
        self.page = page
        self.query = ""
        self.cookie = ""
        self.ws: Any = None
        self.reader: asyncio.Task | None = None
        self.fragments: dict[str, float] = {}  # fragment id -> interval (s), as the server asked
        self.poller: asyncio.Task | None = None
        self.finished: asyncio.Queue = asyncio.Queue()
        self.elements = Elements()
        self.upstream = ""
        self.fragment_runs = 0
        self.received = 0  # bytes of ForwardMsgs, over every connection of this tab
        self.busy = asyncio.Lock()

    async def connect(self, query: str) -> None:
        self.query = query
        url = self.base.replace("http://", "ws://") + "/_stcore/stream"
        headers = {"Origin": self.base}
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.ws = await asyncio.wait_for(
            websockets.connect(url, subprotocols=["streamlit"], additional_headers=headers, max_size=2**26),
            timeout=RUN_TIMEOUT,
        )
        set_cookie = self.ws.response.headers.get("Set-Cookie", "")
        if set_cookie.startswith("cliffs_route=") and not self.cookie:
            self.cookie = set_cookie.split(";")[0]  # nginx's sticky route, as a browser keeps it
        self.upstream = self.ws.response.headers.get("X-Cliffs-Upstream", "")
        self.finished = asyncio.Queue()
        self.fragments = {}
        self.reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        for task in (self.poller, self.reader):
            if task is not None:
                task.cancel()
        if self.ws is not None:
            with contextlib.suppress(TimeoutError, OSError):
                await asyncio.wait_for(self.ws.close(), timeout=5)
        for task in (self.poller, self.reader):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)

    async def _read(self) -> None:
        finished = self.finished  # this connection's queue (a reconnect makes a new one)
        try:
            async for raw in self.ws:
                self.received += len(raw)
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                kind = msg.WhichOneof("type")
                if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    self.elements.add(msg.delta.new_element)
                elif kind == "page_info_changed":
                    self.query = msg.page_info_changed.query_string
                elif kind == "auto_rerun":
                    self.fragments[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
                elif kind == "script_finished":
                    finished.put_nowait(msg.script_finished)
        except websockets.ConnectionClosed:
            pass
        finally:
            finished.put_nowait(None)  # wakes a waiting run: the connection is gone

    def _send(self, widget_states: list[Any] = (), fragment_id: str = "") -> Any:
        back = BackMsg()
        state = back.rerun_script
        state.query_string = self.query
        state.page_name = self.page
        state.context_info.url = f"{self.base}/{self.page}"
        state.context_info.timezone = "UTC"
        if fragment_id:
            state.fragment_id = fragment_id
            state.is_auto_rerun = True
        for w in widget_states:
            state.widget_states.widgets.append(w)
        return self.ws.send(back.SerializeToString())

    async def run(self, widget_states: list[Any] = ()) -> Elements:
        """A full run of the page (what a page load or a widget change sends); its elements."""
        async with self.busy:
            while not self.finished.empty():
                if self.finished.get_nowait() is None:
                    raise Dropped("connection closed")
            self.elements = Elements()
            try:
                await self._send(widget_states)
            except websockets.ConnectionClosed as error:
                raise Dropped(str(error)) from error
            deadline = time.monotonic() + RUN_TIMEOUT
            while True:
                status = await asyncio.wait_for(
                    self.finished.get(), timeout=max(0.1, deadline - time.monotonic())
                )
                if status is None:
                    raise Dropped("connection closed during a run")
                if status == FINISHED.FINISHED_SUCCESSFULLY:
                    return self.elements

    def start_polling(self) -> None:
        """The browser's automatic fragment reruns (``st.fragment(run_every=...)``)."""

        async def poll() -> None:
            next_at: dict[str, float] = {}
            while True:
                await asyncio.sleep(0.25)
                now = time.monotonic()
                for fid, interval in list(self.fragments.items()):
                    if now >= next_at.setdefault(fid, now + interval) and not self.busy.locked():
                        next_at[fid] = now + interval
                        try:
                            await self._send(fragment_id=fid)
                            self.fragment_runs += 1
                        except websockets.ConnectionClosed:
                            return

        if self.poller is None or self.poller.done():
            self.poller = asyncio.create_task(poll())


def widget(wid: str, **value: Any) -> Any:
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    state = WidgetState(id=wid)
    for key, v in value.items():
        setattr(state, key, v)
    return state


# --- one student -------------------------------------------------------------------------------


@dataclass
class Student:
    i: int
    point: tuple[float, float]
    session: Session
    errors: list[str] = field(default_factory=list)
    submitted_at: float | None = None  # epoch seconds when "Submit my guess" was sent
    confirmed: bool = False
    link: str = ""  # the query of their page after joining (code and their token)

    def note(self, problems: list[str]) -> None:
        self.errors += problems

    async def join(self, code: str) -> None:
        s = self.session
        page = await s.run()
        self.note(page.problems())
        code_box = page.inputs.get("Room code")
        name_box = next((w for label, w in page.inputs.items() if label.startswith("Your name")), None)
        join = page.buttons.get("Join")
        if not (code_box and name_box and join):
            self.errors.append("no join form")
            return
        page = await s.run(
            [
                widget(code_box.id, string_value=code),
                widget(name_box.id, string_value=f"Student {self.i}"),
                widget(join.id, trigger_value=True),
            ]
        )
        self.note(page.problems())
        self.link = s.query
        if "me=" not in s.query or "cliffs_map" not in page.components:
            self.errors.append("join did not reach the question's map")
        s.start_polling()

    async def submit(self) -> None:
        s = self.session
        page = s.elements
        component = page.components.get("cliffs_map")
        if component is None:
            page = await s.run()
            component = page.components.get("cliffs_map")
        if component is None:
            self.errors.append("no map to click")
            return
        click = {"event": "click", "value": {"x": self.point[0], "y": self.point[1]}}
        trigger = _make_trigger_id(component.id, "events")
        # As the browser does: the component's own state (its JSON value) beside the trigger; without
        # it the page's callback finds no component state to read the click from.
        page = await s.run(
            [widget(component.id, json_value="{}"), widget(trigger, json_trigger_value=json.dumps([click]))]
        )
        self.note(page.problems())
        button = page.buttons.get("Submit my guess")
        if button is None or button.disabled:
            self.errors.append("the click did not place a guess")
            return
        self.submitted_at = time.time()
        page = await s.run([widget(button.id, trigger_value=True)])
        self.note(page.problems())
        self.confirmed = any(f == Alert.SUCCESS and "is in." in b for f, b in page.alerts)
        if not self.confirmed:
            self.errors.append("no confirmation after submitting")

    async def reconnect(self) -> tuple[float, bool]:
        """Opens their link again (a new websocket: nginx sends it to a live replica); returns the
        time it took and whether the page shows the guess they had submitted."""
        t0 = time.perf_counter()
        await self.session.close()
        for attempt in range(20):
            try:
                await self.session.connect(self.link)
                page = await self.session.run()
                break
            except (TimeoutError, OSError, Dropped, websockets.InvalidStatus, websockets.InvalidHandshake):
                await asyncio.sleep(0.25 * (attempt + 1))
        else:
            self.errors.append("could not reconnect")
            return time.perf_counter() - t0, False
        self.note(page.problems())
        self.session.start_polling()
        component = page.components.get("cliffs_map")
        guess = read_component_data(component).get("guess") if component is not None else None
        kept = self.submitted_at is None or (guess is not None and math.dist(guess, self.point) < 1e-9)
        return time.perf_counter() - t0, kept


# --- the teacher, in Chromium ---------------------------------------------------------------------

RECORDER = """() => {
  // Records, in the page, when each guess first appears in the cloud of the teacher's map.
  if (window.__seen) return;
  window.__seen = {};
  setInterval(() => {
    for (const el of document.querySelectorAll('.cliffs-plot')) {
      for (const t of el.data || []) {
        if (!String(t.name || '').startsWith("the class's guesses")) continue;
        for (let i = 0; i < t.x.length; i++) {
          const key = Number(t.x[i]).toFixed(4) + ',' + Number(t.y[i]).toFixed(4);
          if (!(key in window.__seen)) window.__seen[key] = Date.now();
        }
      }
    }
  }, 25);
}"""


def open_teacher(browser: Any, base: str) -> tuple[Any, Any, str, str]:
    import streamlit_helpers as sh

    context = sh.new_context(browser, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    sh.goto(page, base, "/class", timeout=120)
    with sh.expect_rerun(page, timeout=240):
        page.get_by_role("button", name="Start a room").click()
    code = page.locator("[data-testid='class-code']").inner_text().strip()
    secret = page.evaluate("() => new URLSearchParams(location.search).get('teacher')")
    with sh.expect_rerun(page, timeout=240):
        page.get_by_role("button", name="Ask").click()
    page.evaluate(RECORDER)
    return context, page, code, secret


def teacher_seen(page: Any) -> dict[str, float]:
    """Epoch seconds at which each point ("x,y" to 4 decimals) was first drawn."""
    try:
        return {k: v / 1000 for k, v in page.evaluate("() => window.__seen || {}").items()}
    except Exception:  # the page is reconnecting (its replica died): try again later
        return {}


# --- the load ------------------------------------------------------------------------------------


async def gather_bounded(coros, limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(c):
        async with gate:
            try:
                return await c
            except Exception as error:  # counted by the caller
                return error

    return await asyncio.gather(*(one(c) for c in coros))


def by_replica(students: list[Student]) -> dict[str, list[Student]]:
    groups: dict[str, list[Student]] = {}
    for s in students:
        groups.setdefault(s.session.upstream or "?", []).append(s)
    return groups


async def class_under_load(
    args, info: dict, teacher_page: Any, code: str, secret: str, figures: dict[str, Any]
) -> dict[str, Any]:
    """The class (steps 2-4); ``figures`` fills in as it goes (a timeout still reports them)."""
    base = f"http://127.0.0.1:{info['port']}"
    n = args.students
    students = [Student(i, point_of(i, n), Session(base)) for i in range(n)]
    figures["students"] = n
    failures: list[str] = []
    figures["errors"] = failures

    async def connect_and_join(s: Student) -> None:
        await s.session.connect(f"code={code}")
        await s.join(code)

    t0 = time.perf_counter()
    results = await gather_bounded([connect_and_join(s) for s in students], args.concurrency)
    failures += [
        f"join {s.i}: {r!r}" for s, r in zip(students, results, strict=True) if isinstance(r, Exception)
    ]
    figures["join_s"] = time.perf_counter() - t0
    say(f"{n} students joined in {figures['join_s']:.1f} s")
    groups = by_replica(students)
    figures["per_replica"] = {k: len(v) for k, v in groups.items()}
    figures["join_kb"] = sum(s.session.received for s in students) / n / 1000
    await asyncio.sleep(args.think)  # the class thinks; every page polls the room meanwhile
    say(f"they thought for {args.think:g} s")

    half = students[: n // 2]
    results = await gather_bounded([s.submit() for s in half], args.concurrency)
    failures += [
        f"submit {s.i}: {r!r}" for s, r in zip(half, results, strict=True) if isinstance(r, Exception)
    ]

    say(f"{len(half)} students submitted")
    # A replica dies mid-class: the one with the most students.
    victim_addr = max((k for k in groups if k != "?"), key=lambda k: len(groups[k]), default=None)
    victim = next(
        (r for r in info["replicas"] if victim_addr and victim_addr.endswith(f":{r['port']}")), None
    )
    if victim is None:
        failures.append("could not tell which replica served which student")
        victim = info["replicas"][0]
        victim_addr = f"127.0.0.1:{victim['port']}"
    cluster.end(victim["pid"], signal.SIGKILL, timeout=10)
    figures["killed"] = victim_addr
    say(f"killed replica {victim_addr}")
    moved = [s for s in students if s.session.upstream == victim_addr]
    await asyncio.sleep(0.5)  # their websockets notice
    reconnects = await gather_bounded([s.reconnect() for s in moved], args.concurrency)
    times = [r[0] for r in reconnects if not isinstance(r, Exception)]
    figures["moved"] = len(moved)
    figures["reconnected"] = sum(1 for s in moved if s.session.upstream and s.session.upstream != victim_addr)
    figures["kept"] = sum(1 for r in reconnects if not isinstance(r, Exception) and r[1])
    figures["kept_of"] = len(moved)
    figures["reconnect_p95_s"] = pct(times, 0.95)
    failures += [f"reconnect: {r!r}" for r in reconnects if isinstance(r, Exception)]

    say(f"{len(moved)} students reconnected")
    rest = students[n // 2 :]
    results = await gather_bounded([s.submit() for s in rest], args.concurrency)
    failures += [
        f"submit {s.i}: {r!r}" for s, r in zip(rest, results, strict=True) if isinstance(r, Exception)
    ]

    say(f"{len(rest)} more students submitted")
    sent = [s for s in students if s.submitted_at is not None]
    # Wait (bounded) until the teacher's view has drawn every guess that was sent.
    deadline = time.monotonic() + 30
    seen: dict[str, float] = {}
    while time.monotonic() < deadline:
        seen = teacher_seen(teacher_page)
        if all(f"{s.point[0]:.4f},{s.point[1]:.4f}" in seen for s in sent):
            break
        await asyncio.sleep(0.5)

    def latencies_of(group: list[Student]) -> list[float]:
        return [
            seen[key] - s.submitted_at
            for s in group
            if s.submitted_at is not None and (key := f"{s.point[0]:.4f},{s.point[1]:.4f}") in seen
        ]

    latencies = latencies_of(students)
    before, after = latencies_of(half), latencies_of(rest)
    figures["before_p95_s"], figures["after_p95_s"] = pct(before, 0.95), pct(after, 0.95)
    figures["teacher_sockets"] = teacher_page.evaluate("() => window.__cliffs ? window.__cliffs.sockets : -1")
    figures["sent"] = len(sent)
    figures["confirmed"] = sum(s.confirmed for s in students)
    figures["drawn"] = len(latencies)
    figures["latency_p50_s"] = pct(latencies, 0.5)
    figures["latency_p95_s"] = pct(latencies, 0.95)
    figures["latency_max_s"] = max(latencies, default=float("nan"))
    store = ClassStore(info["db_url"])
    figures["db_count"] = store.teacher_view(code, secret).count
    store.engine.dispose()
    figures["fragment_runs"] = sum(s.session.fragment_runs for s in students)
    figures["received_kb"] = sum(s.session.received for s in students) / n / 1000
    errors = failures + [f"student {s.i}: {e}" for s in students for e in s.errors]
    figures["errors"] = errors
    await gather_bounded([s.session.close() for s in students], args.concurrency)
    return figures


def run_cluster(args) -> dict[str, Any]:
    import streamlit_helpers as sh
    from playwright.sync_api import sync_playwright

    nginx, *_ = free_ports(1)
    replica_port = free_ports(2, consecutive=True)[0]
    state = Path(tempfile.mkdtemp(prefix="cliffs-bench-cluster-"))
    print(
        f"starting the cluster: nginx :{nginx}, replicas :{replica_port}-{replica_port + 1} ...", flush=True
    )
    t0 = time.perf_counter()
    info = cluster.start(state, nginx, 2, replica_port)
    print(f"  up in {time.perf_counter() - t0:.1f} s", flush=True)
    try:
        with sync_playwright() as p:
            browser = sh.launch_chromium(p)
            try:
                context, page, code, secret = open_teacher(browser, f"http://127.0.0.1:{nginx}")
                print(f"  the teacher opened room {code} and asked the first preset", flush=True)
                # The teacher's page keeps drawing while the students work: Playwright's sync API
                # pumps its events whenever we call it, so the load runs in a thread of its own.
                result: dict[str, Any] = {}

                def load() -> None:
                    work = class_under_load(args, info, Proxy(page), code, secret, result)
                    try:
                        asyncio.run(asyncio.wait_for(work, timeout=args.timeout))
                    except BaseException as error:  # reported, and the cluster is still stopped
                        result["fatal"] = repr(error)

                import threading

                worker = threading.Thread(target=load, daemon=True)
                Proxy.owner = page
                worker.start()
                while worker.is_alive():
                    Proxy.serve(0.05)
                worker.join()
                result["teacher_exceptions"] = len(sh.exception_texts(page)) if not page.is_closed() else -1
                context.close()
                return result
            finally:
                browser.close()
    finally:
        cluster.stop(state)


class Proxy:
    """Lets the load's thread read the teacher's page: Playwright's sync objects belong to the main
    thread, which serves the requests (and so keeps the page's events flowing)."""

    owner: ClassVar[Any] = None
    requests: ClassVar[list] = []

    def __init__(self, page: Any):
        self.page = page

    def evaluate(self, script: str) -> Any:
        import queue

        answer: queue.Queue = queue.Queue()
        Proxy.requests.append((script, answer))
        return answer.get(timeout=10)

    @classmethod
    def serve(cls, seconds: float) -> None:
        while cls.requests:
            script, answer = cls.requests.pop(0)
            try:
                answer.put(cls.owner.evaluate(script))
            except Exception as error:  # reconnecting page
                answer.put({} if "__seen" in script else error)
        cls.owner.wait_for_timeout(seconds * 1000)


async def sqlite_restart(args) -> dict[str, Any]:
    import streamlit_helpers as sh

    folder = tempfile.mkdtemp(prefix="cliffs-bench-sqlite-")
    env = {"CLIFFS_DATA": folder, "CLIFFS_DB": ""}
    store = ClassStore(f"sqlite:///{folder}/classroom.sqlite3")
    room = store.create_room()
    store.ask(room.code, room.secret, "")
    n = args.sqlite_students
    server = sh.StreamlitServer("app.py", env=env).start()
    out: dict[str, Any] = {"students": n}
    try:
        students = [Student(i, point_of(i, n), Session(server.url)) for i in range(n)]
        for s in students:
            await s.session.connect(f"code={room.code}")
            await s.join(room.code)
            await s.submit()
        out["before"] = store.teacher_view(room.code, room.secret).count
        for s in students:
            await s.session.close()
    finally:
        server.stop()
    t0 = time.perf_counter()
    server = sh.StreamlitServer("app.py", env=env).start()
    out["restart_s"] = time.perf_counter() - t0
    try:
        kept = 0
        for s in students:
            s.session.base = server.url
            s.session.cookie = ""
            _, ok = await s.reconnect()
            kept += ok
            await s.session.close()
        out["kept"] = kept
        out["after"] = (
            ClassStore(f"sqlite:///{folder}/classroom.sqlite3").teacher_view(room.code, room.secret).count
        )
        out["errors"] = [e for s in students for e in s.errors]
    finally:
        server.stop()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=20, help="students acting at the same moment")
    parser.add_argument("--think", type=float, default=20.0, help="seconds between joining and submitting")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for the cluster part")
    parser.add_argument("--sqlite-students", type=int, default=5)
    parser.add_argument("--skip-cluster", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    random.seed(0)
    if not args.skip_cluster:
        report_cluster(run_cluster(args))
    if not args.skip_sqlite:
        report_sqlite(asyncio.run(asyncio.wait_for(sqlite_restart(args), timeout=300)))


def report_cluster(f: dict[str, Any]) -> None:
    if "fatal" in f:
        print(f"\n1-4. the class did not finish: {f['fatal']}; measured so far: {f}", flush=True)
        return
    lines = [
        f"\n1-4. {f['students']} students on the cluster (two replicas behind nginx, PostgreSQL)",
        f"  joined in {f['join_s']:.1f} s; students per replica: {f['per_replica']}; "
        f"{f['join_kb']:.0f} kB sent to each student's page to join, {f['received_kb']:.0f} kB in all",
        f"  guesses sent {f['sent']}, confirmed on the students' pages {f['confirmed']}, "
        f"in the database {f['db_count']}, drawn on the teacher's view {f['drawn']}",
        f"  submit -> drawn on the teacher's view: p50 {f['latency_p50_s']:.2f} s, "
        f"p95 {f['latency_p95_s']:.2f} s, max {f['latency_max_s']:.2f} s (the view rereads every 1.5 s)",
        f"    p95 {f['before_p95_s']:.2f} s for the guesses sent before the kill, {f['after_p95_s']:.2f} s "
        f"after it; the teacher's page opened {f['teacher_sockets']} websocket(s)",
        f"  killed replica {f['killed']} mid-class: {f['moved']} students on it, {f['reconnected']} "
        f"reconnected to the other, {f['kept']} of {f['kept_of']} pages show what they had submitted; "
        f"reconnect p95 {f['reconnect_p95_s']:.2f} s",
        f"  fragment reruns sent by the students' pages: {f['fragment_runs']}; "
        f"exception boxes on the teacher's page: {f['teacher_exceptions']}",
        f"  errors: {len(f['errors'])} (goal 0)",
        *(f"    - {e}" for e in f["errors"][:20]),
    ]
    print("\n".join(lines), flush=True)


def report_sqlite(s: dict[str, Any]) -> None:
    lines = [
        f"\n5. SQLite restart: {s['students']} students submitted, {s['before']} guesses stored; "
        f"the server restarted in {s['restart_s']:.1f} s; {s['after']} guesses still there and "
        f"{s['kept']} of {s['students']} students' pages show theirs after reconnecting; "
        f"errors {len(s['errors'])}",
        *(f"    - {e}" for e in s["errors"][:10]),
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
