"""Medians, ratios, slopes, the machine description, and docs/performance.md with its charts."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

KEYS = ("rps", "p50", "p90", "p99")


def median_of(runs: list[dict[str, Any]]) -> dict[str, float]:
    out = {k: statistics.median(r[k] for r in runs) for k in KEYS if runs and k in runs[0]}
    out["errors"] = sum(int(r.get("errors", 0)) for r in runs)
    out["requests"] = sum(int(r.get("requests", 0)) for r in runs)
    return out


def compare(runs: dict[str, list[dict[str, Any]]], base: str, subject: str, *, metric: str) -> dict[str, Any]:
    """Medians of each side and the median of the per-repetition ratios subject/base for `metric`."""
    pairs = zip(runs[base], runs[subject], strict=True)
    ratios = [s[metric] / b[metric] for b, s in pairs if b[metric]]
    return {
        "base": base,
        "metric": metric,
        base: median_of(runs[base]),
        subject: median_of(runs[subject]),
        "ratio": statistics.median(ratios) if ratios else float("nan"),
        "ratios": ratios,
    }


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope (y per unit of x)."""
    if len(points) < 2:
        return float("nan")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else float("nan")


def brief(name: str, r: dict[str, Any]) -> str:
    if name == "cli":
        return f"--help {r['help']:.0f} ms, admin --help {r['group_help']:.0f} ms (python -c pass {r['python']:.0f} ms)"
    if "ratio" in r:
        return f"ratio {r['ratio']:.2f} ({r['metric']})"
    if name == "tutor":
        return (
            f"first delta p50 {r['first_delta'].get('p50', float('nan')):.1f} ms, server overhead p50 "
            f"{r['overhead'].get('p50', float('nan')):.1f} ms; burst errors {r['burst']['errors']}"
        )
    if name == "retrieval":
        c, a = r["course"], r["active_courses"]
        return (
            f"course of {r['chunks']} chunks p50/p99 {c['p50']:.1f}/{c['p99']:.1f} ms; "
            f"active courses p50/p99 {a['p50']:.1f}/{a['p99']:.1f} ms"
        )
    if name == "login_storm":
        return f"/health p99 {r['storm']['p99']:.1f} ms under the storm (idle {r['idle']['p99']:.1f} ms)"
    return "ok"


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        ram = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:  # pragma: no cover
        ram = "?"
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": postgres_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


_PG_VERSION = ""


def set_postgres_version(version: str) -> None:
    global _PG_VERSION
    _PG_VERSION = version


def postgres_version() -> str:
    return _PG_VERSION or "?"


def _ms(v: float) -> str:
    return f"{v:.1f}"


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def rows(results: dict[str, Any]) -> list[list[str]]:
    """The summary table: scenario, figures, baseline, ratio, goal, verdict."""
    out: list[list[str]] = []
    if "users_me" in results:
        r = results["users_me"]
        a, b = r["app"], r["raw"]
        out.append(
            [
                "1. GET /users/me (16 conns)",
                f"{a['rps']:.0f} req/s; p50/p90/p99 {_ms(a['p50'])}/{_ms(a['p90'])}/{_ms(a['p99'])} ms",
                f"raw {b['rps']:.0f} req/s",
                f"{r['ratio']:.2f}× throughput",
                "≥ 0.5×",
                _verdict(r["ratio"] >= 0.5),
            ]
        )
    if "tree" in results:
        r = results["tree"]
        a, b = r["app"], r["raw"]
        ok = r["ratio"] <= 1.5 and r["queries"] <= 4
        out.append(
            [
                f"2. GET /courses/{{id}}/tree ({r['modules']:,} modules / {r['items']:,} items, 1 conn)",
                f"p50/p90/p99 {_ms(a['p50'])}/{_ms(a['p90'])}/{_ms(a['p99'])} ms; {r['queries']} queries",
                f"raw p50 {_ms(b['p50'])} ms",
                f"{r['ratio']:.2f}× latency",
                "≤ 1.5×, ≤ 4 queries",
                _verdict(ok),
            ]
        )
    if "prompt" in results:
        r = results["prompt"]
        a, b = r["app"], r["bare"]
        out.append(
            [
                "3. Cached prompt GET, 4 levels (16 conns)",
                f"{a['rps']:.0f} req/s; p50/p90/p99 {_ms(a['p50'])}/{_ms(a['p90'])}/{_ms(a['p99'])} ms",
                f"bare FastAPI {b['rps']:.0f} req/s",
                f"{r['ratio']:.2f}× throughput",
                "≥ 0.8×",
                _verdict(r["ratio"] >= 0.8),
            ]
        )
    if "progress" in results:
        r = results["progress"]
        a, b = r["app"], r["raw"]
        cap = r.get("capacity")
        if cap is not None:
            ca, cb = cap["app"], cap["raw"]
            out.append(
                [
                    f"4a. Progress write + roll-up, 10k items: capacity, {r['writers']} writers in a closed loop",
                    f"{ca['rps']:.0f} writes/s; p50/p99 {_ms(ca['p50'])}/{_ms(ca['p99'])} ms (= writers / throughput)",
                    f"raw {cb['rps']:.0f} writes/s",
                    f"{cap['ratio']:.2f}× throughput",
                    "report",
                    "—",
                ]
            )
        label = (
            f"4b. … the same {r['writers']} writers at half that capacity ({r['offered']:.0f} writes/s, each writer "
            f"every {r['interval_ms']:.0f} ms, open loop)"
            if cap is not None
            else "4. Progress write + roll-up, 10k items, 32 writers"
        )
        out.append(
            [
                label,
                f"p50/p90/p99 {_ms(a['p50'])}/{_ms(a['p90'])}/{_ms(a['p99'])} ms; {a['rps']:.0f} writes/s",
                f"raw p99 {_ms(b['p99'])} ms",
                f"{r['ratio']:.2f}× p99",
                "p99 ≤ 25 ms",
                _verdict(a["p99"] <= 25),
            ]
        )
    if "tutor" in results:
        r = results["tutor"]
        fd, burst, over = r["first_delta"], r["burst"], r.get("overhead") or {}
        out.append(
            [
                "5a. Tutor message: server overhead before the first delta (1 conn)",
                f"overhead p50/p90/p99 {_ms(over.get('p50', float('nan')))}/{_ms(over.get('p90', float('nan')))}/"
                f"{_ms(over.get('p99', float('nan')))} ms; first delta as the client sees it p50 {_ms(fd['p50'])} ms "
                f"(whole turn p50 {_ms(r['total']['p50'])} ms)",
                "the provider's own time to first token, measured by the server around its call, is subtracted",
                "—",
                "≤ 10 ms p50",
                _verdict(over.get("p50", float("inf")) <= 10),
            ]
        )
        out.append(
            [
                f"5b. {r['streams']:,} concurrent SSE streams, one worker",
                f"{burst['requests']} completed, "
                f"{burst['errors']} errors in {burst['seconds']:.1f} s; p50/p99 {_ms(burst['p50'])}/"
                f"{_ms(burst['p99'])} ms",
                "—",
                "—",
                "0 errors",
                _verdict(burst["errors"] == 0 and burst["requests"] == r["streams"]),
            ]
        )
    if "retrieval" in results:
        r = results["retrieval"]
        for label, key in (
            ("the 10,000-item course", "course"),
            ("every course the student is ACTIVE in", "active_courses"),
        ):
            m = r[key]
            out.append(
                [
                    f"5c. Tutor retrieval over {label} ({r['questions']} questions, full text)",
                    f"p50/p99 {_ms(m['p50'])}/{_ms(m['p99'])} ms, {m['sources']:.1f} sources a turn "
                    f"({r['chunks']:,} chunks in the course)",
                    "in-process, one session a call, as a turn's",
                    "—",
                    "—",
                    "report",
                ]
            )
    if "login_storm" in results:
        r = results["login_storm"]
        s, i, lg = r["storm"], r["idle"], r["logins"]
        ratio = s["p99"] / i["p99"] if i["p99"] else float("nan")
        out.append(
            [
                "6. /health during a login storm (8 conns, bcrypt 12)",
                f"p50/p90/p99 {_ms(s['p50'])}/{_ms(s['p90'])}/{_ms(s['p99'])} ms; {lg['rps']:.1f} logins/s",
                f"idle p99 {_ms(i['p99'])} ms",
                f"{ratio:.2f}× p99",
                "p99 ≤ 20 ms",
                _verdict(s["p99"] <= 20),
            ]
        )
    if "curves" in results:
        c = results["curves"]
        tree = slope([(p["size"] / 1000, p["app"]["p50"]) for p in c["tree"]])
        raw_tree = slope([(p["size"] / 1000, p["raw"]["p50"]) for p in c["tree"]])
        prog = slope([(p["size"] / 1000, p["app"]["p50"]) for p in c["progress"]])
        raw_prog = slope([(p["size"] / 1000, p["raw"]["p50"]) for p in c["progress"]])
        chat = slope([(p["size"] / 1000, p["app"]["p50"]) for p in c["chat"]])
        first = c["chat"][0]["app"]["p50"] if c["chat"] else float("nan")
        out.append(
            [
                "7a. Tree latency vs size",
                f"slope {tree:.2f} ms per 1,000 items",
                f"raw {raw_tree:.2f} ms/1k",
                f"{tree / raw_tree:.2f}× slope",
                "report",
                "—",
            ]
        )
        out.append(
            [
                "7b. Send-message latency vs chat length",
                f"slope {chat:.3f} ms per 1,000 messages (p50 at {c['chat'][0]['size']} msgs: {_ms(first)} ms)",
                "—",
                "—",
                "flat",
                _verdict(abs(chat) * 5 <= max(1.0, 0.2 * first)),
            ]
        )
        out.append(
            [
                "7c. Progress write vs course size",
                f"slope {prog:.2f} ms per 1,000 items",
                f"raw {raw_prog:.2f} ms/1k",
                f"{prog / raw_prog:.2f}× slope" if raw_prog else "—",
                "report",
                "—",
            ]
        )
    if "cli" in results:
        r = results["cli"]
        for label, key in (("`twosigma --help`", "help"), ("`twosigma admin --help`", "group_help")):
            out.append(
                [
                    f"8. {label} ({r['runs']} fresh processes)",
                    f"median {r[key]:.0f} ms wall",
                    f"python -c pass {r['python']:.0f} ms",
                    f"{r[key + '_ratio']:.1f}× wall",
                    "≤ 500 ms",
                    _verdict(r[key] <= 500),
                ]
            )
    return out


def curve_table(results: dict[str, Any]) -> list[str]:
    c = results.get("curves")
    if not c:
        return []
    lines = ["| curve | size | app p50 (ms) | raw p50 (ms) | ratio |", "|---|---:|---:|---:|---:|"]
    for name, label in (("tree", "tree (items)"), ("progress", "progress write (items)")):
        for p in c[name]:
            lines.append(
                f"| {label} | {p['size']:,} | {_ms(p['app']['p50'])} | {_ms(p['raw']['p50'])} | {p['ratio']:.2f} |"
            )
    for p in c["chat"]:
        lines.append(f"| send message (messages in chat) | {p['size']:,} | {_ms(p['app']['p50'])} | — | — |")
    return lines


def charts(results: dict[str, Any], folder: Path) -> list[str]:
    c = results.get("curves")
    if not c:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    specs = [
        ("tree", "GET /courses/{id}/tree: p50 latency vs course size", "content items", True),
        ("progress", "Progress write (with roll-up): p50 latency vs course size", "content items", True),
        ("chat", "Tutor message (SSE, whole turn): p50 latency vs chat length", "messages in the chat", False),
    ]
    for name, title, xlabel, has_raw in specs:
        points = c[name]
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot([p["size"] for p in points], [p["app"]["p50"] for p in points], "o-", label="twosigma")
        if has_raw:
            ax.plot([p["size"] for p in points], [p["raw"]["p50"] for p in points], "s--", label="raw baseline")
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("p50 latency (ms)")
        ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = folder / f"performance-{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path.name)
    return made


METHOD = Path(__file__).with_name("METHOD.md")


def write(results: dict[str, Any], output: Path, *, charts_too: bool = True) -> None:
    m = machine()
    meta = results.get("meta", {})
    run_line = []
    if "dataset_rows" in meta:  # a run with the data set and the servers (not only standalone scenarios)
        run_line.append(
            f"- run: {meta.get('reps')} repetitions × {meta.get('duration')} s after {meta.get('warmup')} s of "
            f"warm-up; data set {meta.get('dataset_rows', 0):,} rows built in {meta.get('dataset_seconds', 0):.0f} s; "
            f"whole run {meta.get('seconds', 0) / 60:.1f} min"
        )
    lines = [
        "# Performance",
        "",
        "Generated by `python -m bench run` (see *Method* below). Every figure is a median over repetitions; every "
        "ratio is the median of per-repetition ratios against a baseline measured right before or after it.",
        "",
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in m.items()],
        *run_line,
        "",
        "## Results",
        "",
        "| scenario | twosigma | baseline | ratio | goal | verdict |",
        "|---|---|---|---|---|---|",
        *["| " + " | ".join(r) + " |" for r in rows(results)],
        "",
    ]
    curve = curve_table(results)
    if curve:
        lines += ["## Cost curves", "", *curve, ""]
    if charts_too:
        for name in charts(results, output.parent):
            lines.append(f"![{name}]({name})")
        lines.append("")
    extra = results.get("notes")
    if extra:
        lines += ["## Notes on this run", "", extra, ""]
    if METHOD.exists():
        lines += [METHOD.read_text().rstrip(), ""]
    output.write_text("\n".join(lines))


def git_revision() -> str:  # pragma: no cover - informational
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return "?"
