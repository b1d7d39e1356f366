#!/usr/bin/env python3
"""PNG plots of a suite result (bench/results/suite-<stamp>.json), run by bench/suite.sh with the
matplotlib of bench/peers/plot-venv (bench/requirements.txt):

  <prefix>-s4-throughput.png    S4 deliveries/s and server CPU µs/delivery vs subscribers (S4-1k,
                                S4-3k, S4), one line per server, the median over the rounds
  <prefix>-s3-latency-cdf.png   S3-1k and S3-9k publish→receive latency CDF, one line per server
                                (from the round with the median p99), log latency axis

A plot whose scenarios are not in the result is skipped. With --latest-prefix the files are also
copied there (bench/results/latest-*.png).

  plot.py RESULT.json --out-prefix bench/results/suite-STAMP [--latest-prefix bench/results/latest]
"""
import argparse
import json
import shutil

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator  # noqa: E402


def human(v, _pos=None):
    return f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k" if v >= 1e3 else f"{v:g}"


def title(data):
    d = data["date"]
    return f"bench/suite.sh {d[:4]}-{d[4:6]}-{d[6:8]} {d[9:11]}:{d[11:13]} UTC, {data['machine'].split(',')[0]}"

S4_CASES = ["S4-1k", "S4-3k", "S4"]


def s4_plot(data, path):
    # The summary's rows: scenario "S4", one case per subscriber count.
    points = {}  # server -> [(subscribers, deliveries/s, µs/delivery)]
    rows = {(r["case"], r["server"], r["metric"]): r for r in data["results"] if r["scenario"] == "S4"}
    cases = sorted({(r["connections"], r["case"]) for r in data["results"] if r["scenario"] == "S4" and r["connections"]})
    if len(cases) < 2:
        print("plot: fewer than two S4 subscriber counts; no throughput plot")
        return False
    for conns, case in cases:
        for srv in data["servers"]:
            rate = (rows.get((case, srv, "deliveries_per_s")) or {}).get("value")
            cpu = (rows.get((case, srv, "server_cpu_us_per_delivery")) or {}).get("value")
            if rate:
                points.setdefault(srv, []).append((conns, rate, cpu))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for srv, pts in points.items():
        pts.sort()
        ax1.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=srv)
        cpu = [(p[0], p[2]) for p in pts if p[2]]
        if cpu:
            ax2.plot([p[0] for p in cpu], [p[1] for p in cpu], marker="o", label=srv)
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("subscribers of the channel")
        ax.set_xticks([c for c, _ in cases], [human(c) for c, _ in cases])
        ax.xaxis.set_minor_locator(LogLocator(subs=[]))
        # Labels at 1, 2 and 5 of every decade: the values span one or two decades only.
        ax.yaxis.set_major_locator(LogLocator(subs=[1, 2, 5]))
        ax.yaxis.set_major_formatter(FuncFormatter(human))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, p: ""))
        ax.grid(True, which="major", alpha=0.3)
    ax1.set_ylabel("deliveries/s (saturated, 64 publishes in flight)")
    ax2.set_ylabel("server CPU µs per delivery")
    ax1.set_title("S4 throughput vs subscribers")
    ax2.set_title("S4 server CPU per delivery")
    ax1.legend(fontsize=8)
    fig.suptitle(title(data), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def median_round(runs):
    """The run whose p99 is the median of the rounds with a latency CDF."""
    usable = [r for r in runs if (r.get("loadgen") or {}).get("latency_cdf_ms")]
    if not usable:
        return None
    usable.sort(key=lambda r: r["loadgen"].get("p99_ms") or 0)
    return usable[len(usable) // 2]


def s3_plot(data, path):
    cases = [c for c in ("S3-1k", "S3-9k") if any(r["scenario"] == c for r in data["runs"])]
    if not cases:
        print("plot: no S3 run; no latency CDF")
        return False
    fig, axes = plt.subplots(1, len(cases), figsize=(max(7.0, 5.6 * len(cases)), 4.2), squeeze=False)
    for ax, case in zip(axes[0], cases):
        for srv in data["servers"]:
            run = median_round([r for r in data["runs"] if r["scenario"] == case and r["server"] == srv])
            if not run:
                continue
            cdf = run["loadgen"]["latency_cdf_ms"]
            xs = [max(v, 0.01) for _, v in cdf]
            ys = [q * 100 for q, _ in cdf]
            label = srv + ("" if run["status"] == "ok" else " (incomplete)")
            ax.plot(xs, ys, marker=".", label=label)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, p: f"{v:g}"))
        ax.set_xlabel("publish → receive latency, ms")
        ax.set_ylabel("% of deliveries at or below")
        ax.set_ylim(0, 100)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_title(f"{case}: latency CDF")
        ax.legend(fontsize=8)
    fig.suptitle(title(data), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("result")
    ap.add_argument("--out-prefix", required=True)
    ap.add_argument("--latest-prefix")
    args = ap.parse_args()
    with open(args.result) as f:
        data = json.load(f)
    for name, fn in (("s4-throughput", s4_plot), ("s3-latency-cdf", s3_plot)):
        path = f"{args.out_prefix}-{name}.png"
        if fn(data, path):
            print(f"plot: wrote {path}")
            if args.latest_prefix:
                shutil.copyfile(path, f"{args.latest_prefix}-{name}.png")


if __name__ == "__main__":
    main()
