"""The processes under test: uvicorn subprocesses on 127.0.0.1 (one worker), and the load driver."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The servers and commands under test import this checkout's code (src/), not whichever twosigma is installed, and
# bench/ itself (the raw and bare baselines).
PYTHONPATH = f"{ROOT}{os.pathsep}{ROOT / 'src'}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    target: str  # uvicorn import string
    env: dict[str, str]
    factory: bool = False
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def start(self, log_dir: Path) -> None:
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            self.target,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--backlog",
            "4096",
        ]
        if self.factory:
            args.append("--factory")
        self.log = log_dir / f"{self.name}.log"
        env = {**os.environ, **self.env, "PYTHONPATH": PYTHONPATH}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


def request(
    method: str, path: str, *, token: str | None = None, body: Any = None, headers: dict[str, str] | None = None
) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    payload = b""
    if body is not None:
        payload = json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return "\r\n".join(lines) + "\r\n\r\n" + payload.decode("latin-1")


def drive(
    port: int, requests: list[list[str]], *, connections: int, duration: float, warmup: float = 1.0, **options: Any
) -> dict[str, Any]:
    """Run the load driver in its own process against 127.0.0.1:port; return its JSON result."""
    spec = {
        "port": port,
        "requests": requests,
        "connections": connections,
        "duration": duration,
        "warmup": warmup,
        **options,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.load"],
        input=json.dumps(spec).encode(),
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": PYTHONPATH},
        timeout=warmup + duration + 600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load driver failed: {done.stderr.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def start_driver(
    port: int, requests: list[list[str]], *, connections: int, duration: float, warmup: float = 1.0, **options: Any
) -> subprocess.Popen[bytes]:
    """The same, in the background (two drivers at once: a storm and a probe)."""
    spec = {
        "port": port,
        "requests": requests,
        "connections": connections,
        "duration": duration,
        "warmup": warmup,
        **options,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.load"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": PYTHONPATH},
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(spec).encode())
    process.stdin.close()
    return process


def collect(process: subprocess.Popen[bytes]) -> dict[str, Any]:
    assert process.stdout is not None
    assert process.stderr is not None
    out = process.stdout.read()
    err = process.stderr.read()
    if process.wait() != 0:
        raise RuntimeError(f"load driver failed: {err.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(out)
    return result
