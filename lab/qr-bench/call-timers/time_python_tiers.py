"""The cost of each boundary per call: times every Python tier module's generate() in-process,
over each workload's requests.

Run with `python lab/qr-bench/call-timers/time_python_tiers.py [--tiers py-tier-0,...]
[--engines article,fast] [--rounds 200] [--budget-ms 3000] < QUERIES` (the venv's python,
PYTHONPATH=python), QUERIES a JSON object of each workload's request queries,
`{"default": ["text=..."], "options": ["text=...&format=svg"]}`; prints one JSON object on stdout,
the shape lab/qr-bench/call-timers/time-node-tiers.js prints (qr-bench --calls reads both).
"""

import argparse
import json
import platform
import statistics
import sys
import time

from rusty_qr import query, tiers

TIERS = ["py-tier-0", "py-tier-1", "py-tier-2", "py-tier-3"]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    split = lambda value: [part for part in value.split(",") if part]  # noqa: E731
    parser.add_argument("--tiers", type=split, default=TIERS)
    parser.add_argument("--engines", type=split, default=["article"])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--budget-ms", type=int, default=3000)
    return parser.parse_args(argv)


def requests_of(queries):
    """Each query as the app hands it to a tier, (text, options), parsed by rusty_qr.query."""
    requests = []
    for raw in queries:
        parsed = query.parse_query(raw)
        if parsed.error is not None:
            raise ValueError(f"{raw}: {parsed.error}")
        requests.append((parsed.text, parsed.options))
    return requests


def is_image(image, options):
    """Whether `image` is the bytes of the image `options` ask for (bytes or a bytearray, which the
    app takes too): an SVG document (an XML prolog may come first), or a PNG."""
    if not isinstance(image, (bytes, bytearray)):
        return False
    if options.format == "svg":
        return image.startswith(b"<") and b"<svg" in image
    return image.startswith(tiers.PNG_SIGNATURE)


def measure(generate, engine, requests, opts):
    """Times calls one at a time, as the app makes them: a warm-up of one round (at least
    --warmup calls), then rounds until --rounds or the budget."""
    for i in range(max(opts.warmup, len(requests))):
        text, options = requests[i % len(requests)]
        generate(text, engine, options)
    times = []
    total_bytes = 0
    deadline = time.perf_counter_ns() + opts.budget_ms * 1_000_000
    for _ in range(opts.rounds):
        for text, options in requests:
            start = time.perf_counter_ns()
            image = generate(text, engine, options)
            elapsed = time.perf_counter_ns() - start
            if not is_image(image, options):
                kind = options.format.upper()
                raise RuntimeError(f"generate({text!r}, {options}) did not return {kind} bytes")
            times.append(elapsed / 1000)
            total_bytes += len(image)
        if time.perf_counter_ns() > deadline:
            break
    times.sort()
    return {
        "calls": len(times),
        "median_us": statistics.median(times),
        "mean_us": sum(times) / len(times),
        "p90_us": times[min(len(times) - 1, len(times) * 9 // 10)],
        "image_bytes_mean": total_bytes / len(times),
    }


def main(argv):
    opts = parse_args(argv)
    # Each workload's queries, on stdin (qr-bench writes them there).
    workloads = [(name, requests_of(queries)) for name, queries in json.load(sys.stdin).items()]
    rows = []
    for tier in opts.tiers:
        # py-tier-0 is pure Python: one row per workload, engine "py".
        pure = tier in tiers.WITHOUT_ENGINE
        engines = ["py"] if pure else opts.engines
        try:
            module = tiers.load(tier)
            load_error = None
        except Exception as error:  # a tier that cannot load is a row with its error
            module, load_error = None, error
        for engine in engines:
            for workload, requests in workloads:
                row = {"tier": tier, "engine": engine, "workload": workload}
                try:
                    if load_error is not None:
                        raise load_error
                    row.update(measure(module.generate, None if pure else engine, requests, opts))
                except Exception as error:
                    row["error"] = str(error).split("\n")[0] or type(error).__name__
                rows.append(row)
                shown = f"error: {row['error']}" if "error" in row else f"{row['median_us']:.1f} µs"
                print(f"{tier} {engine} {workload}: {shown}", file=sys.stderr)
    requests = {workload: len(requests) for workload, requests in workloads}
    output = {"python": platform.python_version(), "requests": requests, "rows": rows}
    print(json.dumps(output, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
