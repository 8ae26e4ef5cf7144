"""`python -m bench run [--smoke] [--scenario NAME ...]`: start PostgreSQL, build the data set, start the servers,
run the scenarios (each against its baseline, alternating), and write docs/performance.md (+ charts)."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import report
from bench.dataset import PASSWORD, PROMPT_ROOT, DataSet, build
from bench.servers import ROOT, Server, collect, drive, request, start_driver
from twosigma.auth.tokens import TokenType, encode_token
from twosigma.config import Settings

SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
SCENARIOS = ["users_me", "tree", "prompt", "progress", "tutor", "retrieval", "login_storm", "curves", "cli"]
# Scenarios that start their own processes and need neither the database nor the servers.
STANDALONE = {"cli"}


class Bench:
    def __init__(self, smoke: bool, url: str, data: DataSet, fake_url: str, log_dir: Path) -> None:
        self.smoke = smoke
        self.url = url
        self.data = data
        self.settings = Settings(secret_key=SECRET, database_url=url)  # type: ignore[arg-type]
        self.reps = 1 if smoke else 5
        self.duration = 1.0 if smoke else 5.0
        self.warmup = 0.5 if smoke else 2.0
        libpq = url.replace("postgresql+asyncpg", "postgresql")
        app_env = {
            "TWOSIGMA_DATABASE_URL": url,
            "TWOSIGMA_SECRET_KEY": SECRET,
            "TWOSIGMA_BCRYPT_ROUNDS": "12",
            "TWOSIGMA_LOGIN_ATTEMPTS_PER_MINUTE": "1000000",
            "TWOSIGMA_LLM_PROVIDER": "anthropic",
            "TWOSIGMA_LLM_ANTHROPIC_API_KEY": "bench-key",
            "TWOSIGMA_LLM_ANTHROPIC_BASE_URL": fake_url,
            "TWOSIGMA_TUTOR_MESSAGES_PER_MINUTE": "0",
            "TWOSIGMA_TUTOR_TOKENS_PER_DAY": "0",
            "TWOSIGMA_LOG_LEVEL": "WARNING",
            # A burst of 1,000 turns queues for the 20 connections; wait for one rather than answer 503 after 10 s.
            "TWOSIGMA_DB_POOL_TIMEOUT_SECONDS": "60",
        }
        self.app = Server("app", "twosigma.app:create_app", app_env, factory=True)
        self.raw = Server("raw", "bench.raw_app:app", {"BENCH_DATABASE_URL": libpq, "BENCH_SECRET_KEY": SECRET})
        self.bare = Server("bare", "bench.bare_app:app", {"BENCH_PAYLOAD_FILE": str(log_dir / "payload.json")})
        self.log_dir = log_dir
        self.results: dict[str, Any] = {}

    def token(self, user_id: int) -> str:
        token, _ = encode_token(
            self.settings, user_id=user_id, token_type=TokenType.ACCESS, lifetime=timedelta(hours=6)
        )
        return token

    def paired(
        self, targets: list[Server], requests: list[list[str]], connections: int, **options: Any
    ) -> dict[str, list[dict[str, Any]]]:
        """Alternate the targets `reps` times (order flipped each repetition); every run of each target."""
        runs: dict[str, list[dict[str, Any]]] = {t.name: [] for t in targets}
        duration = options.pop("duration", self.duration)
        for rep in range(self.reps):
            order = targets if rep % 2 == 0 else list(reversed(targets))
            for target in order:
                runs[target.name].append(
                    drive(
                        target.port, requests, connections=connections, duration=duration, warmup=self.warmup, **options
                    )
                )
        return runs

    # --- scenarios -------------------------------------------------------------------------------------------

    def users_me(self) -> None:
        reqs = [[request("GET", "/api/v1/users/me", token=self.token(uid))] for uid in self.data.students[:16]]
        runs = self.paired([self.raw, self.app], reqs, connections=16)
        self.results["users_me"] = report.compare(runs, "raw", "app", metric="rps")

    def tree(self) -> None:
        course = self.data.courses["main"]
        token = self.token(self.data.students[0])
        reqs = [[request("GET", f"/api/v1/courses/{course.course_id}/tree", token=token)]]
        runs = self.paired([self.raw, self.app], reqs, connections=1)
        result = report.compare(runs, "raw", "app", metric="p50")
        result["queries"] = asyncio.run(count_tree_queries(self, course.course_id, token))
        result["modules"], result["items"] = course.modules, len(course.items)
        self.results["tree"] = result

    def prompt(self) -> None:
        import base64

        basic = base64.b64encode(f"{self.data.api_public}:{self.data.api_secret}".encode()).decode()
        path = "/api/public/v2/prompts/" + PROMPT_ROOT.replace("/", "%2F")
        reqs = [[request("GET", path, headers={"Authorization": f"Basic {basic}"})]]
        runs = self.paired([self.bare, self.app], reqs, connections=16)
        self.results["prompt"] = report.compare(runs, "bare", "app", metric="rps")

    def _progress_requests(self, offering: int, items: list[int], users: list[int], per_user: int) -> list[list[str]]:
        rng = random.Random(5)
        out = []
        for uid in users:
            token = self.token(uid)
            out.append(
                [
                    request(
                        "PUT",
                        f"/api/v1/offerings/{offering}/progress/content-items/{rng.choice(items)}",
                        token=token,
                        body={"progress_percent": rng.randint(1, 99), "attempt": True},
                    )
                    for _ in range(per_user)
                ]
            )
        return out

    def progress(self) -> None:
        """32 writers twice over: closed loop (each writes again as soon as answered: the capacity, where latency
        is only 32 / throughput), then open loop at half the app's capacity, each writer on a fixed schedule (the
        latency at a load the server can carry; the goal's p99). The raw baseline gets the same offered load."""
        main = self.data.courses["main"]
        writers = self.data.students[: 4 if self.smoke else 32]
        reqs = self._progress_requests(main.offering_id, main.items, writers, 300)
        closed = report.compare(
            self.paired([self.raw, self.app], reqs, connections=len(writers)), "raw", "app", metric="rps"
        )
        offered = 0.5 * closed["app"]["rps"]
        interval = len(writers) / offered
        paced = self.paired([self.raw, self.app], reqs, connections=len(writers), interval=interval)
        result = report.compare(paced, "raw", "app", metric="p99")
        result |= {"capacity": closed, "offered": offered, "interval_ms": interval * 1000, "writers": len(writers)}
        self.results["progress"] = result

    def tutor(self) -> None:
        sessions = self.data.chats["streams"]
        stream = {"Accept": "text/event-stream"}

        def turn(sid: int, uid: int) -> str:
            return request(
                "POST",
                f"/api/v1/chat/sessions/{sid}/messages",
                token=self.token(uid),
                body={"content": "Explain this once more, please."},
                headers=stream,
            )

        owners = self.data.students
        # One connection (latency, not queueing), cycling over many sessions so that each turn's history is a
        # typical one (a dozen messages), not one conversation growing for the whole run.
        cycle = [turn(sessions[i], owners[i % len(owners)]) for i in range(min(len(sessions), 200))]
        ttfd_runs = []
        for _ in range(self.reps):
            ttfd_runs.append(
                drive(self.app.port, [cycle], connections=1, duration=self.duration, warmup=self.warmup, sse=True)
            )
        n = len(sessions)
        reqs = [[turn(sessions[i], owners[i % len(owners)])] for i in range(n)]
        burst = drive(self.app.port, reqs, connections=n, duration=120.0, warmup=0.0, sse=True, once=True)
        self.results["tutor"] = {
            "first_delta": report.median_of([r["first_delta"] for r in ttfd_runs if "first_delta" in r]),
            "overhead": report.median_of([r["overhead"] for r in ttfd_runs if "overhead" in r]),
            "total": report.median_of(ttfd_runs),
            "runs": ttfd_runs,
            "streams": n,
            "burst": burst,
        }

    def retrieval(self) -> None:
        self.results["retrieval"] = asyncio.run(measure_retrieval(self))

    def login_storm(self) -> None:
        health = [[request("GET", "/health")]]
        logins = [
            [request("POST", "/api/v1/auth/login", body={"email": f"student{i}@bench.test", "password": PASSWORD})]
            for i in range(8)
        ]
        duration = 3.0 if self.smoke else 10.0
        idle, storm, storm_logins = [], [], []
        for _ in range(self.reps):
            idle.append(drive(self.app.port, health, connections=1, duration=duration, warmup=self.warmup, pace=0.01))
            storm_proc = start_driver(self.app.port, logins, connections=8, duration=duration + 1, warmup=self.warmup)
            time.sleep(self.warmup)
            storm.append(drive(self.app.port, health, connections=1, duration=duration, warmup=0.5, pace=0.01))
            storm_logins.append(collect(storm_proc))
        self.results["login_storm"] = {
            "idle": report.median_of(idle),
            "storm": report.median_of(storm),
            "logins": report.median_of(storm_logins),
            "runs": {"idle": idle, "storm": storm, "logins": storm_logins},
        }

    def curves(self) -> None:
        sizes = sorted(int(k[5:]) for k in self.data.courses if k.startswith("items"))
        short = {"duration": 1.0 if self.smoke else 3.0}
        tree_points, progress_points, chat_points = [], [], []
        token = self.token(self.data.students[0])
        for size in sizes:
            course = self.data.courses[f"items{size}"]
            reqs = [[request("GET", f"/api/v1/courses/{course.course_id}/tree", token=token)]]
            runs = self.paired([self.raw, self.app], reqs, connections=1, **short)
            tree_points.append({"size": size, **report.compare(runs, "raw", "app", metric="p50")})
            reqs = self._progress_requests(course.offering_id, course.items, self.data.students[:1], 200)
            runs = self.paired([self.raw, self.app], reqs, connections=1, **short)
            progress_points.append({"size": size, **report.compare(runs, "raw", "app", metric="p50")})
        owner = self.data.students[-1]
        for length, sid in sorted(self.data.chat_lengths.items()):
            reqs = [
                [
                    request(
                        "POST",
                        f"/api/v1/chat/sessions/{sid}/messages",
                        token=self.token(owner),
                        body={"content": "And then?"},
                        headers={"Accept": "text/event-stream"},
                    )
                ]
            ]
            runs = [
                drive(self.app.port, reqs, connections=1, duration=short["duration"], warmup=self.warmup, sse=True)
                for _ in range(self.reps)
            ]
            chat_points.append({"size": length, "app": report.median_of(runs), "runs": runs})
        self.results["curves"] = {"tree": tree_points, "progress": progress_points, "chat": chat_points}

    def cli(self) -> None:
        self.results["cli"] = run_cli_scenario(self.smoke)


def run_cli_scenario(smoke: bool) -> dict[str, Any]:
    from bench import cli_startup

    return cli_startup.measure(runs=3 if smoke else 20)


async def measure_retrieval(bench: Bench) -> dict[str, Any]:
    """The retrieval of one tutor turn, in-process against the bench database (full text; no embedding provider):
    three-word questions over the 10,000-item course (a session on one of its items), and over every course the
    student is ACTIVE in (a session without an item). Each call in its own session, as a turn's."""
    from sqlalchemy import text

    from bench.dataset import VOCABULARY
    from twosigma.db.engine import Database
    from twosigma.retrieval.services.search import query_text, retrieve
    from twosigma.system_settings.effective import get_effective_settings

    database = Database.from_url(bench.url, bench.settings)
    pick = random.Random(21)
    n = 30 if bench.smoke else 400
    questions = [
        query_text("What links " + " and ".join(pick.choice(VOCABULARY) for _ in range(3)) + "?", []) for _ in range(n)
    ]
    course = bench.data.courses["main"].course_id
    student = bench.data.students[0]  # ACTIVE in every course of the data set
    out: dict[str, Any] = {"questions": n, "chunks": 0}
    try:
        async with database.sessionmaker() as session:
            effective = await get_effective_settings(session, bench.settings)
            out["chunks"] = int(
                await session.scalar(text("SELECT count(*) FROM retrieval_chunks WHERE course_id = :c"), {"c": course})
                or 0
            )
        for scope, course_id in (("course", course), ("active_courses", None)):
            times: list[float] = []
            found = 0
            for i, question in enumerate([*questions[:10], *questions]):
                async with database.sessionmaker() as session:
                    started = time.perf_counter()
                    result = await retrieve(session, effective, question, course_id=course_id, user_id=student)
                    elapsed = (time.perf_counter() - started) * 1000
                if i >= 10:  # the first ten warm the pool and the caches
                    times.append(elapsed)
                    found += len(result.sources)
            times.sort()
            out[scope] = {
                "p50": times[len(times) // 2],
                "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
                "sources": found / len(times),
            }
    finally:
        await database.dispose()
    return out


async def count_tree_queries(bench: Bench, course_id: int, token: str) -> int:
    """Statements one tree request runs, counted in-process (the app on a real engine, httpx over ASGI)."""
    import httpx
    from sqlalchemy import event

    from twosigma.app import create_app
    from twosigma.db.engine import Database

    database = Database.from_url(bench.url, bench.settings)
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    app = create_app(bench.settings, database)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            headers = {"Authorization": f"Bearer {token}"}
            first = await client.get(f"/api/v1/courses/{course_id}/tree", headers=headers)  # warms the pool
            first.raise_for_status()
            event.listen(database.engine.sync_engine, "before_cursor_execute", before)
            response = await client.get(f"/api/v1/courses/{course_id}/tree", headers=headers)
            response.raise_for_status()
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", before)
        await database.dispose()
    return len([s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))])


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """A fresh database: on TWOSIGMA_BENCH_DATABASE_URL's server, or in an embedded PostgreSQL of our own."""
    from tests.fixtures.database import create_scratch_database, drop_database, embedded_server

    if url:
        scratch = asyncio.run(create_scratch_database(url))
        try:
            yield scratch
        finally:
            asyncio.run(drop_database(scratch))
        return
    with embedded_server() as server:
        scratch = asyncio.run(create_scratch_database(server.url("postgres")))
        yield scratch


def fetch_payload(bench: Bench) -> None:
    """The cached prompt's JSON as the app serves it: what the bare FastAPI baseline answers."""
    import base64
    import urllib.request

    basic = base64.b64encode(f"{bench.data.api_public}:{bench.data.api_secret}".encode()).decode()
    path = "/api/public/v2/prompts/" + PROMPT_ROOT.replace("/", "%2F")
    req = urllib.request.Request(
        f"http://127.0.0.1:{bench.app.port}{path}", headers={"Authorization": f"Basic {basic}"}
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        (bench.log_dir / "payload.json").write_bytes(response.read())


def main(argv: list[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(prog="python -m bench run", description=__doc__)
    parser.add_argument("command", nargs="?", default="run", choices=["run"])
    parser.add_argument("--smoke", action="store_true", help="tiny data, one short repetition, no charts (CI)")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="run only these (repeatable)")
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    args = parser.parse_args(argv)
    chosen = args.scenario or SCENARIOS
    output = Path(args.output) if not args.smoke else Path(tempfile.gettempdir()) / "twosigma-bench-smoke.md"
    log_dir = Path(tempfile.mkdtemp(prefix="twosigma-bench-", dir="/tmp"))
    started = time.perf_counter()
    from tests.fakes.llm import FakeAnthropic

    if set(chosen) <= STANDALONE:
        return run_standalone(chosen, args.smoke, output, started)
    ok = False
    try:
        with database(os.environ.get("TWOSIGMA_BENCH_DATABASE_URL")) as url, FakeAnthropic() as fake:
            fake.script(deltas=("Sure.", " Here", " is", " a", " short", " example."))
            settings = Settings(secret_key=SECRET, database_url=url)  # type: ignore[arg-type]
            print(f"building the data set ({'smoke' if args.smoke else 'full'}) …", flush=True)
            data = asyncio.run(build(url, settings, args.smoke))
            print(f"  {data.rows} rows in {data.seconds:.1f}s", flush=True)
            bench = Bench(args.smoke, url, data, fake.url, log_dir)
            try:
                bench.app.start(log_dir)
                bench.raw.start(log_dir)
                fetch_payload(bench)
                bench.bare.start(log_dir)
                for name in chosen:
                    t0 = time.perf_counter()
                    print(f"scenario {name} …", flush=True)
                    getattr(bench, name)()
                    print(
                        f"  done in {time.perf_counter() - t0:.0f}s: {report.brief(name, bench.results[name])}",
                        flush=True,
                    )
            finally:
                for server in (bench.app, bench.raw, bench.bare):
                    server.stop()
            bench.results["meta"] = {
                "smoke": args.smoke,
                "reps": bench.reps,
                "duration": bench.duration,
                "warmup": bench.warmup,
                "dataset_rows": data.rows,
                "dataset_seconds": data.seconds,
                "seconds": time.perf_counter() - started,
            }
            (log_dir / "results.json").write_text(json.dumps(bench.results, indent=1, default=str))
            report.set_postgres_version(data.pg_version)
            report.write(bench.results, output, charts_too=not args.smoke)
            print(f"wrote {output} (raw results: {log_dir / 'results.json'})", flush=True)
            ok = True
    finally:
        if not ok:
            print(f"server logs: {log_dir}", flush=True)
    return 0


def run_standalone(chosen: list[str], smoke: bool, output: Path, started: float) -> int:
    """Only scenarios that need no database or server: no data set is built."""
    results: dict[str, Any] = {}
    for name in chosen:
        print(f"scenario {name} …", flush=True)
        results[name] = run_cli_scenario(smoke)
        print(f"  {report.brief(name, results[name])}", flush=True)
    results["meta"] = {"smoke": smoke, "seconds": time.perf_counter() - started}
    report.write(results, output, charts_too=False)
    print(f"wrote {output}", flush=True)
    return 0
