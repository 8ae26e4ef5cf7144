"""The load driver, run as its own process: `python -m bench.load < spec.json` prints one JSON result.

A closed loop of keep-alive HTTP/1.1 connections written on raw asyncio streams (uvloop when installed), so the
driver costs little CPU next to the server it measures. Each connection cycles through its own list of requests.
Latency is measured from the first byte written to the last byte read (for SSE: also to the first `delta` event,
and the server's own overhead: the first delta minus the provider's time to first token that the server measured
around its provider call and reported in the completed message's `meta.time_to_first_token_ms`).

Spec: {"port", "connections", "warmup", "duration", "requests": [[raw request, ...] per connection], "pace": s,
"interval": s, "once": bool (each connection sends its list once, no time limit but `duration` as a cap), "sse": bool}

`interval` makes the load open-loop: each connection sends on a fixed schedule (one request every `interval`
seconds, the connections' schedules spread evenly over one interval) whatever the server's speed, and a request's
latency counts from the moment it was due, so a server that falls behind shows it in full (no coordinated
omission: a late answer delays the next send, but that request's wait is counted).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.first_delta: list[float] = []
        self.overhead: list[float] = []
        self.errors = 0
        self.statuses: dict[int, int] = {}
        self.measuring = False
        self.first_error = ""


async def _read_response(reader: asyncio.StreamReader, sse: bool, sent: float) -> tuple[int, bytes, float | None]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    first_delta: float | None = None
    if length is not None:
        return status, await reader.readexactly(length), None
    if not chunked:
        return status, await reader.read(), None
    parts = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            break
        chunk = await reader.readexactly(size + 2)
        if sse and first_delta is None and b"event: delta" in chunk:
            first_delta = time.perf_counter() - sent
        parts.append(chunk[:-2])
    return status, b"".join(parts), first_delta


async def _connection(
    port: int, requests: list[bytes], spec: dict[str, Any], stats: Stats, stop: float, offset: float = 0.0
) -> None:
    sse = bool(spec.get("sse"))
    pace = float(spec.get("pace", 0))
    interval = float(spec.get("interval", 0))
    once = bool(spec.get("once"))
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**22)
    due = time.perf_counter() + interval * offset
    try:
        index = 0
        while time.perf_counter() < stop:
            if once and index >= len(requests):
                return
            request = requests[index % len(requests)]
            index += 1
            if interval:
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                sent, due = due, due + interval
            else:
                sent = time.perf_counter()
            try:
                writer.write(request)
                status, body, first = await _read_response(reader, sse, sent)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                stats.errors += 1
                stats.first_error = stats.first_error or repr(exc)
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**22)
                continue
            elapsed = time.perf_counter() - sent
            ok = status < 400 and (not sse or b"event: message.completed" in body)
            if stats.measuring or once:
                stats.statuses[status] = stats.statuses.get(status, 0) + 1
                if ok:
                    stats.latencies.append(elapsed)
                    if first is not None:
                        stats.first_delta.append(first)
                        ttft = provider_ttft(body)
                        if ttft is not None:
                            stats.overhead.append(max(0.0, first - ttft))
                else:
                    stats.errors += 1
                    stats.first_error = stats.first_error or f"{status} {body[:300]!r}"
            if pace:
                await asyncio.sleep(pace)
    finally:
        writer.close()


def provider_ttft(body: bytes) -> float | None:
    """Seconds the provider took to its first token, from the `message.completed` event's meta (None if absent)."""
    marker = body.find(b"event: message.completed")
    if marker < 0:
        return None
    start = body.find(b"data: ", marker)
    end = body.find(b"\n", start)
    try:
        message = json.loads(body[start + 6 : end if end > 0 else None])
        value = message["meta"]["time_to_first_token_ms"]
    except (ValueError, KeyError, TypeError):
        return None
    return float(value) / 1000 if isinstance(value, int | float) else None


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(values: list[float]) -> dict[str, float]:
    return {f"p{q}": percentile(values, q) * 1000 for q in (50, 90, 99)}


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    stats = Stats()
    lists = [[r.encode("latin-1") for r in reqs] for reqs in spec["requests"]]
    warmup, duration = float(spec.get("warmup", 1)), float(spec["duration"])
    n = int(spec["connections"])
    start = time.perf_counter()
    stop = start + warmup + duration
    tasks = [
        asyncio.create_task(_connection(int(spec["port"]), lists[i % len(lists)], spec, stats, stop, i / n))
        for i in range(n)
    ]
    await asyncio.sleep(warmup)
    stats.measuring = True
    measured_from = time.perf_counter()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.perf_counter() - (start if spec.get("once") else measured_from)
    crashed = [repr(r) for r in results if isinstance(r, BaseException)]
    out: dict[str, Any] = {
        "requests": len(stats.latencies),
        "errors": stats.errors + len(crashed),
        "first_error": stats.first_error or (crashed[0] if crashed else ""),
        "statuses": stats.statuses,
        "seconds": elapsed,
        "rps": len(stats.latencies) / elapsed if elapsed > 0 else 0.0,
        **summary(stats.latencies),
    }
    if stats.first_delta:
        out["first_delta"] = summary(stats.first_delta)
    if stats.overhead:
        out["overhead"] = summary(stats.overhead)
    return out


def main() -> None:
    spec = json.load(sys.stdin)
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - the bench extra brings it
        factory = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        result = runner.run(run(spec))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
