#!/usr/bin/env python3
"""Turns the suite's per-run files into bench/results/latest.json and latest.md.

Input: a directory with, per (scenario, server), SCN.SERVER.meta (what the suite knows: status,
port, ...) and SCN.SERVER.json (instant-loadgen's JSON line, when the run produced one).
Output JSON (the issue's format, with extra keys):
  {"machine", "command", "date", "elapsed_s", "servers": {name: "ok <version>" | "failed: ..."},
   "results": [{"scenario": "S4", "case": "...", "server", "metric", "value", "status",
                "connections", "subscribed", "server_cores", "loadgen_cores", "other_cores"}, ...],
   "runs": [{"scenario", "server", "meta": {...}, "loadgen": {...}}]}
A run that did not happen still yields its metrics, with value null and the reason in "status".
Ratios in the markdown are figure / instant's figure in the same run.
"""
import argparse
import glob
import json
import math
import os

SCENARIOS = {
    # id: (issue scenario, case, connections, [(metric, loadgen key)])
    "S4": ("S4", "9k subscribers, saturation", 9000, [
        ("deliveries_per_s", "deliveries_per_s"),
        ("server_cpu_us_per_delivery", "server_us_per_delivery"),
        ("loadgen_cpu_us_per_delivery", "loadgen_us_per_delivery"),
        ("loss_pct", "loss_pct"),
        ("p50_ms", "p50_ms"),
        ("p99_ms", "p99_ms"),
    ]),
    "S3-9k": ("S3", "9k subscribers x 2 pub/s", 9000, [
        ("p50_ms", "p50_ms"), ("p99_ms", "p99_ms"), ("max_ms", "max_ms"), ("loss_pct", "loss_pct"),
        ("server_cpu_us_per_delivery", "server_us_per_delivery"),
    ]),
    "S3-1k": ("S3", "1k subscribers x 10 pub/s", 1000, [
        ("p50_ms", "p50_ms"), ("p99_ms", "p99_ms"), ("max_ms", "max_ms"), ("loss_pct", "loss_pct"),
        ("server_cpu_us_per_delivery", "server_us_per_delivery"),
    ]),
    "S1-19k": ("S1", "19k idle connections", 19000, [
        ("rss_bytes_per_conn", "server_rss_idle_per_conn_b"),
        ("rss_bytes_per_conn_at_connect", "server_rss_per_conn_b"),
        ("kernel_slab_bytes_per_conn", "slab_idle_per_conn_b"),
    ]),
    "S1-10k": ("S1", "10k idle connections", 10000, [
        ("rss_bytes_per_conn", "server_rss_idle_per_conn_b"),
        ("rss_bytes_per_conn_at_connect", "server_rss_per_conn_b"),
        ("kernel_slab_bytes_per_conn", "slab_idle_per_conn_b"),
    ]),
}
ORDER = ["S4", "S3-9k", "S3-1k", "S1-19k", "S1-10k"]


def load(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip() or "null")
    except (OSError, ValueError):
        return None


def num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def run_status(meta, lg, conns):
    if meta is None:
        return "not run"
    st = meta.get("status", "?")
    if lg is None:
        return st if st != "ok" else "no loadgen output"
    if st != "ok":
        return st
    sub = lg.get("subscribed") or 0
    if sub < conns:
        return f"partial: {sub}/{conns} subscribed ({lg.get('first_error', '')[:120]})"
    return "ok"


def cores(lg, key):
    w = num(lg.get("window_s")) if lg else None
    v = num(lg.get(key)) if lg else None
    return round(v / w, 3) if v is not None and w else None


def main():
    ap = argparse.ArgumentParser()
    for a in ("--runs", "--servers-json", "--machine", "--command", "--stamp", "--elapsed", "--order",
              "--out-json", "--out-md"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    servers = load(args.servers_json) or {}
    order = args.order.split()
    runs, results = [], []
    present = sorted({os.path.basename(p).split(".")[0] for p in glob.glob(os.path.join(args.runs, "*.meta"))},
                     key=lambda s: ORDER.index(s) if s in ORDER else 99)
    for scn in present:
        issue_scn, case, conns, metrics = SCENARIOS[scn]
        for srv in order:
            meta = load(os.path.join(args.runs, f"{scn}.{srv}.meta"))
            lg = load(os.path.join(args.runs, f"{scn}.{srv}.json"))
            st = run_status(meta, lg, conns)
            runs.append({"scenario": scn, "server": srv, "status": st, "meta": meta, "loadgen": lg})
            common = {
                "scenario": issue_scn, "case": case, "server": srv, "status": st, "connections": conns,
                "subscribed": lg.get("subscribed") if lg else None,
                "server_cores": num(lg.get("server_cores")) if lg else None,
                "loadgen_cores": cores(lg, "loadgen_cpu_window_s"),
                "other_cores": num(lg.get("other_cores")) if lg else None,
            }
            no_deliveries = not lg or not lg.get("deliveries_received")
            for metric, key in metrics:
                v = num(lg.get(key)) if lg else None
                if no_deliveries and (metric.endswith("_ms") or "per_delivery" in metric):
                    v = None  # no sample: a latency of 0 would read as a result
                results.append(dict(common, metric=metric, value=v))
    out = {
        "machine": args.machine, "command": args.command, "date": args.stamp, "elapsed_s": int(args.elapsed),
        "servers": servers, "results": results, "runs": runs,
    }
    with open(args.out_json, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    with open(args.out_md, "w") as f:
        f.write(markdown(out, order, present))


def fmt_opt(v):
    return f"{v:.2f}" if v is not None else "–"


def fmt_rate(v):
    return f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.1f}k" if v >= 1e3 else f"{v:.0f}"


def fmt_bytes(v):
    return f"{v / 1024:.2f} KB" if abs(v) < 10240 else f"{v / 1024:.1f} KB"


def fmt_ratio(v, ref):
    if v is None or ref in (None, 0):
        return ""
    r = v / ref
    return f" (×{r:.2g})" if r < 10 else f" (×{r:.0f})"


def short(status):
    if status.startswith("partial"):
        return "n/a (partial)"
    if status.startswith("not started"):
        return "not installed"
    if status.startswith("did not start"):
        return "**did not start**"
    if status.startswith("skipped"):
        return "skipped (time budget)"
    return "**run failed**"


def markdown(out, order, present):
    by = {(r["scenario"], r["case"], r["server"], r["metric"]): r for r in out["results"]}
    runs = {(r["scenario"], r["server"]): r for r in out["runs"]}
    L = []
    d = out["date"]
    L.append(f"# Benchmark suite, {d[:4]}-{d[4:6]}-{d[6:8]} {d[9:11]}:{d[11:13]} UTC\n")
    L.append(f"Machine: {out['machine']}.  ")
    L.append(f"Command: `{out['command']}`; measuring took {out['elapsed_s']} s.  ")
    L.append("Ratios in brackets = the server's figure ÷ instant's in this run (throughput: higher is better; "
             "CPU, latency, memory: lower is better). How to read it: `docs/performance.md`.\n")
    L.append("| scenario | figure | " + " | ".join(order) + " |")
    L.append("|---|---|" + "---|" * len(order))

    def row(scn, label, metric, fmt, extra=None):
        issue_scn, case, _, _ = SCENARIOS[scn]
        ref = by.get((issue_scn, case, "instant", metric), {}).get("value")
        cells = []
        for srv in order:
            r = by.get((issue_scn, case, srv, metric))
            if r is None:
                cells.append("")
                continue
            if r["value"] is None:
                cells.append(short(r["status"]) if r["status"] != "ok" else "n/a")
                continue
            c = fmt(r["value"]) + ("" if srv == "instant" else fmt_ratio(r["value"], ref))
            if extra:
                c += extra(r)
            if r["status"] != "ok":
                c += " ⚠"
            cells.append(c)
        L.append(f"| {scn} {SCENARIOS[scn][1]} | {label} | " + " | ".join(cells) + " |")

    def loss(r):
        scn = next(k for k, v in SCENARIOS.items() if v[1] == r["case"])
        lg = (runs.get((scn, r["server"])) or {}).get("loadgen") or {}
        lp = num(lg.get("loss_pct"))
        if not lp:
            return ""
        # Saturated servers are still sending when the drain ends: not a loss, a cut-off.
        return f", {lp:.1f} % undelivered at drain end" if scn == "S4" else f", loss {lp:.1f} %"

    def cores_row(scn):
        cells = []
        for srv in order:
            r = runs.get((scn, srv))
            lg = (r or {}).get("loadgen") or {}
            lc, oc = cores(lg, "loadgen_cpu_window_s"), num(lg.get("other_cores"))
            noisy = oc is not None and oc > 0.15 and not scn.startswith("S1")
            cells.append("" if not lg else f"{fmt_opt(lc)} / {fmt_opt(oc)}" + (" ‼" if noisy else ""))
        L.append(f"| {scn} {SCENARIOS[scn][1]} | loadgen / other cores | " + " | ".join(cells) + " |")

    for scn in present:
        if scn == "S4":
            row(scn, "deliveries/s", "deliveries_per_s", fmt_rate, loss)
            row(scn, "server CPU µs/delivery", "server_cpu_us_per_delivery", lambda v: f"{v:.2f}")
            row(scn, "loadgen CPU µs/delivery", "loadgen_cpu_us_per_delivery", lambda v: f"{v:.2f}")
        elif scn.startswith("S3"):
            row(scn, "p50 ms", "p50_ms", lambda v: f"{v:.1f}")
            row(scn, "p99 ms", "p99_ms", lambda v: f"{v:.1f}", loss)
        else:
            row(scn, "server RSS per conn", "rss_bytes_per_conn", fmt_bytes)
            row(scn, "kernel slab per conn (both ends)", "kernel_slab_bytes_per_conn", fmt_bytes)
        cores_row(scn)
    L.append("")
    L.append("⚠ = the run is incomplete (see its status below); a figure without ⚠ comes from a complete run. "
             "`loadgen / other cores` = CPU of the load generator and of every other process (not server, not "
             "load generator) in the measured window; ‼ = other processes used more than 0.15 cores, so the "
             "figures above it were disturbed. Not flagged for S1: while the benchmark idles, other processes "
             "fill the idle CPUs, which does not change a server's memory. In S4, \"undelivered at drain end\" "
             "counts deliveries of acknowledged publishes still queued in a saturated server when the 5 s "
             "drain ended (a cut-off, not a drop); elsewhere \"loss\" = not delivered by the end of the drain.\n")
    L.append("## Every run\n")
    L.append("`other cores` = CPU used in the measured window by processes that are neither the server nor the load "
             "generator (another build on this shared machine); above ~0.15 the figure is disturbed.\n")
    L.append("| scenario | server | status | subscribed | deliveries/s | loss % | p50 / p99 ms | server cores | "
             "loadgen cores | other cores | server / loadgen run-queue wait s |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for scn in present:
        for srv in order:
            r = runs.get((scn, srv))
            if r is None:
                continue
            lg = r["loadgen"] or {}

            def g(k, f="{:.2f}"):
                v = num(lg.get(k))
                return f.format(v) if v is not None else "–"
            idle = scn.startswith("S1")
            L.append("| " + " | ".join([
                scn, srv, r["status"].replace("|", "/"),
                f"{lg.get('subscribed', '–')}/{SCENARIOS[scn][2]}",
                "idle" if idle else g("deliveries_per_s", "{:.0f}"),
                "–" if idle else g("loss_pct", "{:.3f}"),
                "–" if idle else f"{g('p50_ms', '{:.1f}')} / {g('p99_ms', '{:.1f}')}",
                g("server_cores"), fmt_opt(cores(lg, "loadgen_cpu_window_s") if lg else None), g("other_cores"),
                f"{g('server_runqueue_wait_s')} / {g('loadgen_runqueue_wait_s')}",
            ]) + " |")
    L.append("\n## Servers\n")
    for srv in order:
        L.append(f"- **{srv}**: {out['servers'].get(srv, '?')}")
    L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    main()
