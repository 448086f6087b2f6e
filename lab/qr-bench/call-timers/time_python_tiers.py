"""The cost of each boundary per call: times every Python tier module's generate() in-process.

Run with `python lab/qr-bench/call-timers/time_python_tiers.py [--tiers py-tier-0,...]
[--engines article,fast] [--rounds 200] [--budget-ms 3000] < TEXTS` (the texts one a line; the
venv's python, PYTHONPATH=python);
prints one JSON object on stdout, the shape lab/qr-bench/call-timers/time-node-tiers.js prints
(qr-bench --calls reads both).
"""

import argparse
import importlib
import json
import platform
import statistics
import sys
import time

TIERS = ["py-tier-0", "py-tier-1", "py-tier-2", "py-tier-3"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    split = lambda value: [part for part in value.split(",") if part]  # noqa: E731
    parser.add_argument("--tiers", type=split, default=TIERS)
    parser.add_argument("--engines", type=split, default=["article"])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--budget-ms", type=int, default=3000)
    return parser.parse_args(argv)


def measure(generate, engine, targets, opts):
    """Times calls one at a time: warm-up, then rounds over the targets until the budget."""
    for i in range(opts.warmup):
        generate(targets[i % len(targets)], engine)
    times = []
    total_bytes = 0
    deadline = time.perf_counter_ns() + opts.budget_ms * 1_000_000
    for _ in range(opts.rounds):
        for text in targets:
            start = time.perf_counter_ns()
            png = generate(text, engine)
            elapsed = time.perf_counter_ns() - start
            if not isinstance(png, bytes) or not png.startswith(PNG_SIGNATURE):
                raise RuntimeError(f"generate({text!r}) did not return PNG bytes")
            times.append(elapsed / 1000)
            total_bytes += len(png)
        if time.perf_counter_ns() > deadline:
            break
    times.sort()
    return {
        "calls": len(times),
        "median_us": statistics.median(times),
        "mean_us": sum(times) / len(times),
        "p90_us": times[min(len(times) - 1, len(times) * 9 // 10)],
        "png_bytes_mean": total_bytes / len(times),
    }


def main(argv):
    opts = parse_args(argv)
    # The texts to time, one a line, on stdin (qr-bench writes its targets there).
    lines = sys.stdin.read().splitlines()
    targets = [line.strip() for line in lines if line.strip()]
    rows = []
    for tier in opts.tiers:
        # py-tier-0 is pure Python: one row, engine "py".
        pure = tier == "py-tier-0"
        engines = ["py"] if pure else opts.engines
        try:
            module = importlib.import_module(f"rusty_qr.tiers.{tier.replace('-', '_')}")
            load_error = None
        except Exception as error:  # a tier that cannot load is a row with its error
            module, load_error = None, error
        for engine in engines:
            row = {"tier": tier, "engine": engine}
            try:
                if load_error is not None:
                    raise load_error
                row.update(measure(module.generate, None if pure else engine, targets, opts))
            except Exception as error:
                row["error"] = str(error).split("\n")[0] or type(error).__name__
            rows.append(row)
            shown = f"error: {row['error']}" if "error" in row else f"{row['median_us']:.1f} µs"
            print(f"{tier} {engine}: {shown}", file=sys.stderr)
    print(json.dumps({"python": platform.python_version(), "targets": len(targets), "rows": rows}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
