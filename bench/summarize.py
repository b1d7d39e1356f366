#!/usr/bin/env python3
"""Turns the suite's per-run files into bench/results/latest.json and latest.md.

Input: a directory with, per (scenario, server, round), SCN.SERVER.rN.meta (what the suite knows:
status, port, ...) and SCN.SERVER.rN.json (instant-loadgen's JSON line, when the run produced one).
Files without the .rN part (older suites) count as round 1.
Output JSON (the issue's format, with extra keys):
  {"machine", "command", "date", "elapsed_s", "repeat", "servers": {name: "ok <version>" | "failed: ..."},
   "results": [{"scenario": "S4", "case": "...", "server", "metric", "value", "values", "status",
                "connections", "subscribed", "server_cores", "loadgen_cores", "other_cores"}, ...],
   "runs": [{"scenario", "server", "round", "status", "meta": {...}, "loadgen": {...}}]}
"value" is the median over the rounds that completed ("values" lists each round's figure, null
where a round gave none); with one round it is that round's figure. A run that did not happen
still yields its metrics, with value null and the reason in "status" ("n/a: ..." when the scenario
does not apply to the server). Ratios in the markdown are figure / instant's figure in the same run.
"""
import argparse
import glob
import json
import math
import os
import re
import statistics

CORES = [("server_cores", "server_cores"), ("loadgen_cores", "loadgen_cores"), ("other_cores", "other_cores")]
S4_METRICS = [
    ("deliveries_per_s", "deliveries_per_s"),
    ("server_cpu_us_per_delivery", "server_us_per_delivery"),
    ("loadgen_cpu_us_per_delivery", "loadgen_us_per_delivery"),
    ("loss_pct", "loss_pct"),
    ("p50_ms", "p50_ms"),
    ("p99_ms", "p99_ms"),
]
S3_METRICS = [
    ("p50_ms", "p50_ms"), ("p99_ms", "p99_ms"), ("max_ms", "max_ms"), ("loss_pct", "loss_pct"),
    ("server_cpu_us_per_delivery", "server_us_per_delivery"),
]
S1_METRICS = [
    ("rss_bytes_per_conn", "server_rss_idle_per_conn_b"),
    ("rss_bytes_per_conn_at_connect", "server_rss_per_conn_b"),
    ("kernel_slab_bytes_per_conn", "slab_idle_per_conn_b"),
]
S2_METRICS = [
    ("handshakes_per_s", "handshakes_per_s"),
    ("p50_ms", "p50_ms"), ("p99_ms", "p99_ms"),
    ("server_cpu_us_per_handshake", "server_us_per_handshake"),
    ("loadgen_cpu_us_per_handshake", "loadgen_us_per_handshake"),
    ("handshake_failures", "handshake_failures"),
]
S5_METRICS = [
    ("deliveries_per_s", "deliveries_per_s"),
    ("p50_ms", "p50_ms"), ("p99_ms", "p99_ms"), ("loss_pct", "loss_pct"),
    ("server_cpu_us_per_delivery", "server_us_per_delivery"),
    ("reconnects", "reconnects"), ("reconnect_p99_ms", "reconnect_p99_ms"),
    ("server_rss_subscribed_kb", "server_rss_subscribed_kb"), ("server_rss_max_kb", "server_rss_max_kb"),
]
S7_METRICS = [
    ("healthy_p99_ms", "healthy_p99_ms"), ("baseline_p99_ms", "baseline_p99_ms"),
    ("healthy_p99_change_pct", "healthy_p99_change_pct"),
    ("healthy_p50_ms", "healthy_p50_ms"), ("baseline_p50_ms", "baseline_p50_ms"),
    ("loss_pct", "loss_pct"),
    ("slow_closed", "slow_closed"), ("slow_subscribed", "slow_subscribed"),
    ("slow_close_mean_s", "slow_close_mean_s"),
    ("server_rss_max_kb", "server_rss_max_kb"),
]

SCENARIOS = {
    # id: (issue scenario, case, connections when the run says nothing, [(metric, loadgen key)])
    "S4": ("S4", "9k subscribers, saturation", 9000, S4_METRICS),
    "S4-3k": ("S4", "3k subscribers, saturation", 3000, S4_METRICS),
    "S4-1k": ("S4", "1k subscribers, saturation", 1000, S4_METRICS),
    "S3-9k": ("S3", "9k subscribers x 2 pub/s", 9000, S3_METRICS),
    "S3-1k": ("S3", "1k subscribers x 10 pub/s", 1000, S3_METRICS),
    "S1-19k": ("S1", "19k idle connections", 19000, S1_METRICS),
    "S1-10k": ("S1", "10k idle connections", 10000, S1_METRICS),
    "S2": ("S2", "handshakes, HS256 JWT per connection", 0, S2_METRICS),
    "S2-anon": ("S2", "handshakes, anonymous", 0, S2_METRICS),
    "S5": ("S5", "many small channels with churn", 10000, S5_METRICS),
    "S7": ("S7", "1 % slow consumers", 200, S7_METRICS),
}
ORDER = ["S4", "S4-3k", "S4-1k", "S3-9k", "S3-1k", "S1-19k", "S1-10k", "S2", "S2-anon", "S5", "S7"]
RUN_FILE = re.compile(r"^(?P<scn>[^.]+)\.(?P<srv>.+?)(?:\.r(?P<round>\d+))?\.meta$")


def load(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip() or "null")
    except (OSError, ValueError):
        return None


def num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def median(values):
    vs = [v for v in values if v is not None]
    return statistics.median(vs) if vs else None


def derived(lg):
    """Figures computed from the loadgen report rather than read from it."""
    if not lg:
        return {}
    w = num(lg.get("window_s"))
    out = {}
    for key, src in (("loadgen_cores", "loadgen_cpu_window_s"),):
        v = num(lg.get(src))
        out[key] = round(v / w, 3) if v is not None and w else None
    out["handshake_failures"] = sum(lg.get(k) or 0 for k in lg if k.startswith("fail_"))
    return out


def value(lg, key):
    if not lg:
        return None
    d = derived(lg)
    return num(d[key]) if key in d else num(lg.get(key))


def run_status(scn, meta, lg):
    if meta is None:
        return "not run"
    st = meta.get("status", "?")
    if st.startswith("n/a"):
        return st
    if lg is None:
        return st if st != "ok" else "no loadgen output"
    if st != "ok":
        return st
    if scn.startswith("S2"):
        return "ok" if (lg.get("handshakes") or 0) > 0 else "no handshake completed"
    conns = lg.get("connections") or SCENARIOS[scn][2]
    sub = lg.get("subscribed") or 0
    if sub < conns:
        return f"partial: {sub}/{conns} subscribed ({lg.get('first_error', '')[:120]})"
    return "ok"


def slow_detail(lg):
    """How the slow subscribers' streams ended, in words (S7)."""
    if not lg or "slow_subscribed" not in lg:
        return ""
    parts = []
    if lg.get("slow_close_frame"):
        code = lg.get("slow_close_code")
        parts.append(f"close frame {code} ×{lg['slow_close_frame']}")
    if lg.get("slow_eof"):
        parts.append(f"EOF ×{lg['slow_eof']}")
    if lg.get("slow_reset"):
        parts.append(f"reset ×{lg['slow_reset']}")
    if lg.get("slow_open"):
        parts.append(f"still open ×{lg['slow_open']}")
    return ", ".join(parts)


def main():
    ap = argparse.ArgumentParser()
    for a in ("--runs", "--servers-json", "--machine", "--command", "--stamp", "--elapsed", "--order",
              "--out-json", "--out-md"):
        ap.add_argument(a, required=True)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    servers = load(args.servers_json) or {}
    order = args.order.split()
    found = {}  # (scn, srv) -> {round: (meta, lg)}
    for path in glob.glob(os.path.join(args.runs, "*.meta")):
        m = RUN_FILE.match(os.path.basename(path))
        if not m or m["scn"] not in SCENARIOS:
            continue
        rnd = int(m["round"] or 1)
        stem = path[:-len(".meta")]
        found.setdefault((m["scn"], m["srv"]), {})[rnd] = (load(path), load(stem + ".json"))
    present = sorted({scn for scn, _ in found}, key=lambda s: ORDER.index(s) if s in ORDER else 99)
    runs, results = [], []
    for scn in present:
        issue_scn, case, default_conns, metrics = SCENARIOS[scn]
        for srv in order:
            rounds = found.get((scn, srv))
            if not rounds:
                continue
            per_round = []
            for rnd in sorted(rounds):
                meta, lg = rounds[rnd]
                st = run_status(scn, meta, lg)
                runs.append({"scenario": scn, "server": srv, "round": rnd, "status": st, "meta": meta, "loadgen": lg})
                per_round.append((st, lg))
            ok = [(st, lg) for st, lg in per_round if st == "ok"]
            # The figure comes from the complete rounds; only when none completed, from whatever ran.
            basis = ok or [(st, lg) for st, lg in per_round if lg]
            status = "ok" if ok else per_round[0][0]
            if ok and len(ok) < len(per_round):
                status = f"ok ({len(ok)} of {len(per_round)} rounds complete)"
            lgs = [lg for _, lg in basis]
            common = {
                "scenario": issue_scn, "case": case, "server": srv, "status": status,
                "connections": (lgs[0].get("connections") if lgs else None) or default_conns or None,
                "subscribed": median([num(lg.get("subscribed")) for lg in lgs]),
                "server_cores": median([num(lg.get("server_cores")) for lg in lgs]),
                "loadgen_cores": median([derived(lg).get("loadgen_cores") for lg in lgs]),
                "other_cores": median([num(lg.get("other_cores")) for lg in lgs]),
                "rounds": len(per_round),
            }
            for metric, key in metrics:
                vals = []
                for lg in lgs:
                    v = value(lg, key)
                    no_samples = not (lg.get("deliveries_received") or lg.get("handshakes"))
                    if no_samples and (metric.endswith("_ms") or "per_delivery" in metric):
                        v = None  # no sample: a latency of 0 would read as a result
                    vals.append(v)
                row = dict(common, metric=metric, value=median(vals), values=vals)
                if metric == "slow_closed" and lgs:
                    row["detail"] = "; ".join(d for d in (slow_detail(lg) for lg in lgs) if d)
                results.append(row)
    out = {
        "machine": args.machine, "command": args.command, "date": args.stamp, "elapsed_s": int(args.elapsed),
        "repeat": args.repeat, "servers": servers, "results": results, "runs": runs,
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
    if status.startswith("n/a"):
        return "n/a"
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
    runs = {}
    for r in out["runs"]:
        runs.setdefault((r["scenario"], r["server"]), []).append(r)
    repeat = out.get("repeat", 1)
    L = []
    d = out["date"]
    L.append(f"# Benchmark suite, {d[:4]}-{d[4:6]}-{d[6:8]} {d[9:11]}:{d[11:13]} UTC\n")
    L.append(f"Machine: {out['machine']}.  ")
    L.append(f"Command: `{out['command']}`; measuring took {out['elapsed_s']} s.  ")
    if repeat > 1:
        L.append(f"Every scenario ran {repeat} times per server; each figure is the median over the rounds that "
                 "completed (every round's figure: `values` in the JSON and the runs table below).  ")
    L.append("Ratios in brackets = the server's figure ÷ instant's in this run (throughput: higher is better; "
             "CPU, latency, memory: lower is better). How to read it: `docs/performance.md`.\n")
    L.append("| scenario | figure | " + " | ".join(order) + " |")
    L.append("|---|---|" + "---|" * len(order))

    def lg_of(scn, srv):
        """The loadgen report of the round whose figures are shown (first complete one)."""
        rs = runs.get((scn, srv)) or []
        for r in rs:
            if r["status"] == "ok" and r["loadgen"]:
                return r["loadgen"]
        return next((r["loadgen"] for r in rs if r["loadgen"]), None) or {}

    def row(scn, label, metric, fmt, extra=None, ratio=True):
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
            c = fmt(r["value"]) + ("" if srv == "instant" or not ratio else fmt_ratio(r["value"], ref))
            if extra:
                c += extra(scn, srv, r)
            if not r["status"].startswith("ok"):
                c += " ⚠"
            cells.append(c)
        L.append(f"| {scn} {SCENARIOS[scn][1]} | {label} | " + " | ".join(cells) + " |")

    def loss(scn, srv, r):
        lp = num(lg_of(scn, srv).get("loss_pct"))
        if not lp:
            return ""
        # Saturated servers are still sending when the drain ends: not a loss, a cut-off.
        return f", {lp:.1f} % undelivered at drain end" if scn.startswith("S4") else f", loss {lp:.1f} %"

    def slow_how(scn, srv, r):
        lg = lg_of(scn, srv)
        n = lg.get("slow_subscribed")
        how = slow_detail(lg)
        return f" of {n}" + (f" ({how})" if how else "") if n is not None else ""

    def cores_row(scn):
        cells = []
        for srv in order:
            rs = [r for r in runs.get((scn, srv)) or [] if r["loadgen"]]
            if not rs:
                cells.append("")
                continue
            lc = median([derived(r["loadgen"]).get("loadgen_cores") for r in rs])
            oc = median([num(r["loadgen"].get("other_cores")) for r in rs])
            noisy = oc is not None and oc > 0.15 and not scn.startswith("S1")
            cells.append(f"{fmt_opt(lc)} / {fmt_opt(oc)}" + (" ‼" if noisy else ""))
        L.append(f"| {scn} {SCENARIOS[scn][1]} | loadgen / other cores | " + " | ".join(cells) + " |")

    ms = lambda v: f"{v:.1f}"  # noqa: E731
    us = lambda v: f"{v:.2f}"  # noqa: E731
    mb = lambda v: f"{v / 1024:.1f} MB"  # noqa: E731
    for scn in present:
        if scn.startswith("S4"):
            row(scn, "deliveries/s", "deliveries_per_s", fmt_rate, loss)
            row(scn, "server CPU µs/delivery", "server_cpu_us_per_delivery", us)
            if scn == "S4":
                row(scn, "loadgen CPU µs/delivery", "loadgen_cpu_us_per_delivery", us)
        elif scn.startswith("S3"):
            row(scn, "p50 ms", "p50_ms", ms)
            row(scn, "p99 ms", "p99_ms", ms, loss)
        elif scn.startswith("S1"):
            row(scn, "server RSS per conn", "rss_bytes_per_conn", fmt_bytes)
            row(scn, "kernel slab per conn (both ends)", "kernel_slab_bytes_per_conn", fmt_bytes)
        elif scn.startswith("S2"):
            row(scn, "handshakes/s", "handshakes_per_s", fmt_rate)
            row(scn, "handshake p99 ms", "p99_ms", ms)  # p50 is in the runs table
            row(scn, "server CPU µs/handshake", "server_cpu_us_per_handshake", lambda v: f"{v:.1f}")
        elif scn == "S5":
            row(scn, "deliveries/s (fixed publish rate)", "deliveries_per_s", fmt_rate)
            row(scn, "p99 ms", "p99_ms", ms, loss)
            row(scn, "server CPU µs/delivery", "server_cpu_us_per_delivery", us)
            row(scn, "server RSS subscribed → max", "server_rss_max_kb", mb,
                lambda s, srv, r: f" (from {mb(lg_of(s, srv).get('server_rss_subscribed_kb') or 0)})", ratio=False)
        elif scn == "S7":
            row(scn, "healthy p99 ms, baseline", "baseline_p99_ms", ms)
            row(scn, "healthy p99 ms, 1 % not reading", "healthy_p99_ms", ms, loss)
            row(scn, "slow subscribers closed by the server", "slow_closed", lambda v: f"{v:.0f}", slow_how, ratio=False)
            row(scn, "server RSS max", "server_rss_max_kb", mb)
        cores_row(scn)
    L.append("")
    L.append("⚠ = the run is incomplete (see its status below); a figure without ⚠ comes from a complete run. "
             "n/a = the scenario does not apply to that server (the reason is in the runs table). "
             "`loadgen / other cores` = CPU of the load generator and of every other process (not server, not "
             "load generator) in the measured window; ‼ = other processes used more than 0.15 cores, so the "
             "figures above it were disturbed. Not flagged for S1: while the benchmark idles, other processes "
             "fill the idle CPUs, which does not change a server's memory. In S4, \"undelivered at drain end\" "
             "counts deliveries of acknowledged publishes still queued in a saturated server when the 5 s "
             "drain ended (a cut-off, not a drop); elsewhere \"loss\" = not delivered by the end of the drain "
             "(S5: per session, see `bench/loadgen/session_accounting.h`; S7: healthy subscribers only).\n")
    L.append("## Every run\n")
    L.append("`other cores` = CPU used in the measured window by processes that are neither the server nor the load "
             "generator (another build on this shared machine); above ~0.15 the figure is disturbed. "
             "`rate` = deliveries/s, or handshakes/s for S2.\n")
    L.append("| scenario | server | round | status | subscribed | rate | loss % | p50 / p99 ms | server cores | "
             "loadgen cores | other cores | server / loadgen run-queue wait s |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for scn in present:
        for srv in order:
            for r in runs.get((scn, srv)) or []:
                lg = r["loadgen"] or {}

                def g(k, f="{:.2f}"):
                    v = num(lg.get(k))
                    return f.format(v) if v is not None else "–"
                idle = scn.startswith("S1")
                hs = scn.startswith("S2")
                conns = lg.get("connections") or SCENARIOS[scn][2]
                L.append("| " + " | ".join([
                    scn, srv, str(r["round"]), r["status"].replace("|", "/"),
                    f"{lg.get('handshakes', '–')} handshakes" if hs else f"{lg.get('subscribed', '–')}/{conns}",
                    "idle" if idle else g("handshakes_per_s" if hs else "deliveries_per_s", "{:.0f}"),
                    "–" if idle or hs else g("loss_pct", "{:.3f}"),
                    "–" if idle else f"{g('p50_ms', '{:.1f}')} / {g('p99_ms', '{:.1f}')}",
                    g("server_cores"), fmt_opt(derived(lg).get("loadgen_cores") if lg else None), g("other_cores"),
                    f"{g('server_runqueue_wait_s')} / {g('loadgen_runqueue_wait_s')}",
                ]) + " |")
    L.append("\n## Servers\n")
    for srv in order:
        L.append(f"- **{srv}**: {out['servers'].get(srv, '?')}")
    L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    main()
