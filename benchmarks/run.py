"""Time the importer's read, validate and plan stages and count its POSTs.

For each size, the script generates (or reuses) a synthetic export with
`generate.py`, then runs the importer's pipeline on it in a fresh Python
process, so that every size gets its own peak RSS. The same file is then
planned end to end by the pure-Python reference planner in another fresh
process, so that the speed ratio of the two comes from one run on one
machine. It prints a Markdown table and writes the figures as JSON.

    python benchmarks/run.py --sizes 10k,100k,1m --reference-max 100k

Each worker prints one JSON object on stdout; the parent only orchestrates.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
DATA = BENCHMARKS / "data"
SUFFIXES = {"trakt": "json", "csv": "csv"}
# Simkl's API rules allow 1 POST per second per user token (10 GET/s).
POSTS_PER_SECOND = 1.0


def parse_size(text: str, minimum: int = 1) -> int:
    """Parse a viewing count such as 2000, 10k or 1m."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    digits = text[:-1] if factor > 1 else text
    try:
        value = int(float(digits) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid size {text!r}: expected a count such as 2000, 10k or 1m"
        ) from None
    if value < minimum:
        raise argparse.ArgumentTypeError(
            f"invalid size {text!r}: must be {minimum} or more"
        )
    return value


def size_label(size: int) -> str:
    """Return 10k for 10000 and 1m for 1000000."""
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MiB (Linux: KiB units)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        peak /= 1024
    return round(peak / 1024, 1)


# Workers: each runs in its own process and prints one JSON object.


def lower_bound_posts(writes: Any, batch_size: int) -> int:
    """Return the fewest POSTs for the writes, counted independently of the batcher.

    Round 0 contains every canonical write and round k the k-th session that
    the plan writes for each item, counted from the `session` numbers, not
    from the plan's own `round` column. A request carries writes of one
    round only, so the bound is ceil(writes in the round / batch size)
    summed over rounds.
    """
    import polars as pl

    if writes.height == 0:
        return 0
    is_canonical = pl.col("kind") == "canonical"
    rewatches = writes.filter(~is_canonical).select(
        pl.col("session").rank("dense").over("item_key").alias("round")
    )
    counts = rewatches.group_by("round").len()["len"].to_list()
    counts.append(writes.filter(is_canonical).height)
    return sum(math.ceil(count / batch_size) for count in counts)


def run_importer(path: Path, fmt: str, batch_size: int) -> dict[str, Any]:
    """Read, validate, plan and batch `path` with the importer; return the figures."""
    # The imports are timed on their own, so that they do not distort how
    # the stage times grow with size.
    started = time.perf_counter()
    import importer.readers  # noqa: F401
    from importer.batch import build_requests
    from importer.events import empty_events
    from importer.pipeline import load_events, plan_prepared
    from importer.readers.base import ReadOptions
    from importer.validate import validate_events

    # pandera imports its polars backend, and hypothesis where installed, on
    # the first validation (about 0.2 s). That is an import too, so it is
    # paid here, on an empty frame.
    validate_events(empty_events())
    imported = time.perf_counter()
    marks: dict[str, float] = {}
    # Peak RSS so far when each stage starts, which shows the stage that
    # raised it.
    peaks: dict[str, float] = {}

    def on_stage(name: str) -> None:
        marks[name] = time.perf_counter()
        peaks[name] = peak_rss_mb()

    # Both formats are detected from the content, as for a user's file.
    options = ReadOptions(timezone="UTC")
    start = time.perf_counter()
    prepared = load_events([path], read_options=options, on_stage=on_stage)
    plan = plan_prepared(prepared, on_stage=on_stage)
    end = time.perf_counter()
    planned_rss = peak_rss_mb()

    requests = build_requests(plan.writes, batch_size)
    batched = time.perf_counter()
    writes = plan.writes
    lower = lower_bound_posts(writes, batch_size)
    return {
        "import_s": imported - started,
        "rows": prepared.read.events.height,
        "valid_rows": prepared.events.height,
        "writes": writes.height,
        "canonical": int((writes["kind"] == "canonical").sum()),
        "rewatch": int((writes["kind"] == "rewatch").sum()),
        "skipped": plan.skipped.height,
        "rounds": int(writes["round"].n_unique()) if writes.height else 0,
        "read_s": marks["validate"] - marks["read"],
        "validate_s": marks["plan"] - marks["validate"],
        "plan_s": end - marks["plan"],
        "total_s": end - start,
        "batch_s": batched - end,
        "peak_rss_mb": planned_rss,
        "peak_rss_after_read_mb": peaks["validate"],
        "peak_rss_after_validate_mb": peaks["plan"],
        "peak_rss_with_batch_mb": peak_rss_mb(),
        "posts": len(requests),
        "lower_bound_posts": lower,
        "max_request_size": max((r.size for r in requests), default=0),
        "batch_size": batch_size,
    }


def run_reference(path: Path) -> dict[str, Any]:
    """Plan `path` end to end with the standard-library reference planner."""
    sys.path.insert(0, str(ROOT / "tests"))
    from reference_planner import reference_plan_file

    start = time.perf_counter()
    plan = reference_plan_file(path)
    end = time.perf_counter()
    return {
        "total_s": end - start,
        "writes": len(plan.writes),
        "skipped": len(plan.skipped),
        "peak_rss_mb": peak_rss_mb(),
    }


def run_worker(args: argparse.Namespace) -> int:
    """Run one measurement in this process and print its figures as JSON."""
    sys.path.insert(0, str(ROOT))
    path = Path(args.file)
    profiler = None
    if args.profile_out:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    if args.worker == "importer":
        figures = run_importer(path, args.format, args.batch_size)
    else:
        figures = run_reference(path)
    if profiler is not None:
        profiler.stop()
        Path(args.profile_out).write_text(
            profiler.output_text(unicode=False, color=False, show_all=False)
        )
    json.dump(figures, sys.stdout)
    sys.stdout.write("\n")
    return 0


# The parent: generation, subprocesses, the table.


def export_path(fmt: str, size: int, seed: int) -> Path:
    """Return where the export of this format, size and seed is kept."""
    return DATA / f"{fmt}-{size_label(size)}-seed{seed}.{SUFFIXES[fmt]}"


def ensure_export(fmt: str, size: int, seed: int) -> Path:
    """Generate the export unless a file of that format, size and seed exists."""
    path = export_path(fmt, size, seed)
    if path.exists():
        return path
    command = [
        sys.executable,
        str(BENCHMARKS / "generate.py"),
        "--format", fmt,
        "--viewings", str(size),
        "--seed", str(seed),
        "--out", str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    return path


def measure(kind: str, path: Path, args: argparse.Namespace, label: str) -> dict:
    """Run one worker in a fresh process `args.repeat` times and combine the runs."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker", kind,
        "--file", str(path),
        "--format", args.format,
        "--batch-size", str(args.batch_size),
    ]  # fmt: skip
    if args.profile and kind == "importer":
        command += ["--profile-out", str(DATA / f"profile-{args.format}-{label}.txt")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for _ in range(args.repeat):
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            raise SystemExit(
                f"error: the {kind} worker failed on {path.name} "
                f"with exit status {done.returncode}; its stderr is above"
            )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return combine_runs(runs)


def combine_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the figures of the fastest run, with the highest peak RSS of all.

    The fastest run is often not the leanest, and the memory target holds
    only if every run meets it. Each run's total time and peak RSS are kept
    in `runs_total_s` and `runs_peak_rss_mb`.
    """
    combined = dict(min(runs, key=lambda figures: figures["total_s"]))
    for key in combined:
        if key.startswith("peak_rss"):
            combined[key] = max(figures[key] for figures in runs)
    combined["runs_total_s"] = [figures["total_s"] for figures in runs]
    combined["runs_peak_rss_mb"] = [figures["peak_rss_mb"] for figures in runs]
    return combined


def bench_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Measure one size: the importer, then the reference if within its cap."""
    label = size_label(size)
    path = ensure_export(args.format, size, args.seed)
    print(f"measuring {label} ({path.name})", file=sys.stderr)
    result: dict[str, Any] = {"size": size, "file": path.name}
    result["importer"] = measure("importer", path, args, label)
    if size <= args.reference_max:
        reference = measure("reference", path, args, label)
        reference["same_write_count"] = (
            reference["writes"] == result["importer"]["writes"]
        )
        result["reference"] = reference
    return result


def add_reference_estimates(results: list[dict[str, Any]]) -> None:
    """Estimate reference times above --reference-max, linearly, and label them."""
    measured = [r for r in results if "reference" in r]
    if not measured:
        return
    basis = max(measured, key=lambda r: r["size"])
    per_row = basis["reference"]["total_s"] / basis["size"]
    for result in results:
        if "reference" not in result:
            result["reference_estimate"] = {
                "total_s": per_row * result["size"],
                "basis": f"linear from {size_label(basis['size'])}",
            }


def _seconds(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _duration(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _reference_cells(result: dict[str, Any]) -> tuple[str, str]:
    importer_s = result["importer"]["total_s"]
    if "reference" in result:
        reference_s = result["reference"]["total_s"]
        return _seconds(reference_s), f"{reference_s / importer_s:.1f}x"
    if "reference_estimate" in result:
        reference_s = result["reference_estimate"]["total_s"]
        return (
            f"~{_seconds(reference_s)} (est.)",
            f"~{reference_s / importer_s:.1f}x (est.)",
        )
    return "not run", "n/a"


def markdown(results: list[dict[str, Any]], batch_size: int) -> str:
    """Return the time table and the POST table as Markdown."""
    lines = [
        "| viewings | read s | validate s | plan s | total s | peak RSS MB "
        "| reference s | speed-up | growth vs previous |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    previous = None
    for result in results:
        figures = result["importer"]
        reference, ratio = _reference_cells(result)
        growth = "n/a"
        if previous is not None:
            factor = result["size"] / previous["size"]
            growth = f"{figures['total_s'] / previous['importer']['total_s']:.1f}x"
            growth += f" for {factor:g}x rows"
        lines.append(
            f"| {result['size']:,} | {_seconds(figures['read_s'])} "
            f"| {_seconds(figures['validate_s'])} | {_seconds(figures['plan_s'])} "
            f"| {_seconds(figures['total_s'])} | {figures['peak_rss_mb']:.0f} "
            f"| {reference} | {ratio} | {growth} |"
        )
        previous = result
    lines += [
        "",
        f"| viewings | writes | rounds | POSTs (batch {batch_size}) | lower bound "
        "| over bound | at 1 POST/s | batching s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        figures = result["importer"]
        posts, lower = figures["posts"], figures["lower_bound_posts"]
        over = f"{(posts / lower - 1) * 100:.1f} %" if lower else "n/a"
        lines.append(
            f"| {result['size']:,} | {figures['writes']:,} | {figures['rounds']} "
            f"| {posts:,} | {lower:,} | {over} "
            f"| {_duration(posts / POSTS_PER_SECOND)} "
            f"| {_seconds(figures['batch_s'])} |"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """Return the CPU model, core count and memory of this machine."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages / 1024**3, 1)
    except (ValueError, OSError):
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
    }


def run_parent(args: argparse.Namespace) -> int:
    results = [bench_size(size, args) for size in sorted(args.sizes)]
    add_reference_estimates(results)
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "format": args.format,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "repeat": args.repeat,
        "results": results,
    }
    table = markdown(results, args.batch_size)
    print(table)
    out = args.json or DATA / f"results-{args.format}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"figures written to {out}", file=sys.stderr)
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: [parse_size(part) for part in text.split(",")],
        default=[10_000, 100_000, 1_000_000],
        help="comma-separated viewing counts, e.g. 10k,100k,1m (default)",
    )
    parser.add_argument("--format", choices=tuple(SUFFIXES), default="trakt")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument(
        "--reference-max",
        type=lambda text: parse_size(text, minimum=0),
        default=100_000,
        help="largest size the reference planner runs on (default 100k, 0 for "
        "none); larger sizes get a linear estimate, labelled as such",
    )
    parser.add_argument(
        "--batch-size", type=int, default=100, help="writes per POST (default 100)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per measurement; the fastest time and the highest peak RSS "
        "are reported (default 1)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the importer with pyinstrument into benchmarks/data/",
    )
    parser.add_argument("--json", type=Path, help="where to write the figures")

    # The parent starts itself with these to run one measurement.
    parser.add_argument(
        "--worker", choices=("importer", "reference"), help=argparse.SUPPRESS
    )
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)

    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be 1 or more, got {args.repeat}")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be 1 or more, got {args.batch_size}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return run_worker(args)
    return run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
