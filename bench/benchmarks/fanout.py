"""fanout: FANOUT_CLIENTS /api/stream clients while four children print 1000 lines/s in total."""
import json
import os
import re
import statistics
import subprocess
import time

from harness import BenchError, Client, cpu_seconds, proc_status_kb, read_stats, start_orderstream, wait_until
from report import goal, metric


FANOUT_CLIENTS = int(os.environ.get("BENCH_FANOUT_CLIENTS", 1000))
FANOUT_SECONDS = float(os.environ.get("BENCH_FANOUT_SECONDS", 20))
FANOUT_TICKERS = 4
FANOUT_RATE = 250  # lines/s per ticker


def fanout_run(h, rep):
    name = f"fanout-orderstream-{rep}"
    go = h.path(name, "go")
    ready, stop, out = h.path(name, "ready"), h.path(name, "stop"), h.path(name, "clients.json")
    stats = [h.path(name, f"stats-{i}") for i in range(1, FANOUT_TICKERS + 1)]
    processes = [(f"t{i}", [h.ticker, "--id", i, "--rate", FANOUT_RATE, "--seconds", FANOUT_SECONDS,
                            "--wait", go, "--stats", stats[i - 1], "--sleep", 3600])
                 for i in range(1, FANOUT_TICKERS + 1)]
    proc = clients = None
    try:
        proc, port, _ = start_orderstream(h, name, processes,
                                          http_extra=[f"max_connections = {FANOUT_CLIENTS * 10 // 9 + 64}"])
        client = Client(port)

        def last_seq():
            status, body = client.get("/api/outputs?since=0")
            return int(re.match(rb'\{"instance":"[0-9a-f]*","seq":(\d+)', body).group(1)) if status == 200 else None

        clients = h.start([h.sse_clients, "--port", port, "--clients", FANOUT_CLIENTS, "--ready", ready,
                           "--stop", stop, "--out", out, "--timeout", int(FANOUT_SECONDS + 120)],
                          f"{name}-clients.log")
        wait_until(f"{FANOUT_CLIENTS} stream clients connected", lambda: os.path.exists(ready), 60,
                   interval=0.1, proc=clients)
        with open(ready) as f:
            connected = f.read().strip()
        time.sleep(1.0)  # the first events (processes, metrics) of every client are out
        first = last_seq()
        rss_idle = proc_status_kb(proc.pid, "VmRSS")
        cpu_before, t_before = cpu_seconds(proc.pid), time.monotonic()
        clients_cpu_before = cpu_seconds(clients.pid)
        open(go, "w").close()
        rss_peak = rss_idle
        deadline = time.monotonic() + FANOUT_SECONDS + 60
        while not all(os.path.exists(s) for s in stats):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise BenchError(f"the tickers did not finish (daemon exit {proc.poll()}; see $WORK/logs)")
            rss_peak = max(rss_peak, proc_status_kb(proc.pid, "VmRSS"))
            time.sleep(0.25)
        ticks = [read_stats(s) for s in stats]
        expected = first + sum(int(t["lines"]) for t in ticks)
        wait_until("orderstream: the last tick captured", lambda: last_seq() >= expected, 30, proc=proc)
        last = last_seq()
        with open(stop, "w") as f:
            f.write(f"{first} {last}\n")
        try:
            clients.wait(30)
        except subprocess.TimeoutExpired:
            raise BenchError("the stream clients did not finish within 30 s of the last tick")
        t_after = time.monotonic()
        cpu_used = cpu_seconds(proc.pid) - cpu_before
        rss_peak = max(rss_peak, proc_status_kb(proc.pid, "VmRSS"))
        client.close()
        if not os.path.exists(out):
            raise BenchError(f"the stream clients wrote no results (exit {clients.returncode})")
        with open(out) as f:
            r = json.load(f)
        first_print = min(t["first_ns"] for t in ticks)
        span = (r["last_recv_ns"] - first_print) / 1e9
        phase = t_after - t_before
        return {
            "lines_per_s": r["ticks"] / span if span > 0 else 0.0,
            "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"], "p999_ms": r["p999_ms"], "max_ms": r["max_ms"],
            "complete": r["complete"], "connected": r["connected"], "refused": r["refused"],
            "gaps": r["gaps"], "dups": r["dups"], "missed_events": r["missed_events"],
            "expected_lines": last - first, "ticks_min": r["min_ticks"], "ticks_max": r["max_ticks"],
            "daemon_cpu_pct": 100 * cpu_used / phase, "rss_idle_mb": rss_idle / 1024,
            "rss_peak_mb": rss_peak / 1024,
            "clients_cpu_pct": 100 * r["cpu_s"] / phase, "clients_cpu_pct_ticks": 100 * (
                r["cpu_s"] - clients_cpu_before) / phase,
            "ticker_late_ms": max(t["max_late_ms"] for t in ticks), "ready": connected,
            "dup_examples": r.get("dup_examples"), "gap_examples": r.get("gap_examples"),
        }
    finally:
        if clients:
            h.stop(clients)
        if proc:
            h.stop(proc)


def run(h):
    runs = {"orderstream": []}
    for rep in range(h.reps):
        r = fanout_run(h, rep)
        runs["orderstream"].append(r)
        print(f"  fanout run {rep + 1}: {r['lines_per_s']:,.0f} lines/s to {r['connected']} clients, "
              f"{r['complete']} complete ({r['gaps']} gaps, {r['dups']} dups, {r['missed_events']} "
              f"'missed' events), delay p50 {r['p50_ms']:.1f} / p99 {r['p99_ms']:.1f} / p99.9 "
              f"{r['p999_ms']:.1f} ms, daemon {r['daemon_cpu_pct']:.0f} % CPU, RSS {r['rss_peak_mb']:.1f} MB "
              f"(idle {r['rss_idle_mb']:.1f}), clients {r['clients_cpu_pct_ticks']:.0f} % CPU", flush=True)
    rows = [
        metric("lines delivered per second, all clients", "higher", runs, "lines_per_s"),
        metric("print-to-client delay p50, ms", "lower", runs, "p50_ms"),
        metric("print-to-client delay p99, ms", "lower", runs, "p99_ms"),
        metric("print-to-client delay p99.9, ms", "lower", runs, "p999_ms"),
        metric("clients that got every line exactly once", "higher", runs, "complete"),
        metric("lines missing (gaps), all clients", "lower", runs, "gaps"),
        metric("lines received twice, all clients", "lower", runs, "dups"),
        metric("daemon CPU while streaming, % of one core", "lower", runs, "daemon_cpu_pct"),
        metric("daemon RSS, highest while streaming, MB", "lower", runs, "rss_peak_mb"),
        metric("stream clients' own CPU, % of one core", "lower", runs, "clients_cpu_pct_ticks"),
    ]
    rs = runs["orderstream"]
    all_complete = all(r["complete"] == FANOUT_CLIENTS and not r["gaps"] and not r["dups"] for r in rs)
    worst_p99 = max(r["p99_ms"] for r in rs)
    worst_rss = max(r["rss_peak_mb"] for r in rs)
    goals = [
        goal(f"every one of the {FANOUT_CLIENTS} clients receives every line, once (every run)", all_complete,
             "; ".join(f"run {i + 1}: {r['complete']}/{FANOUT_CLIENTS} complete, {r['gaps']} gaps, "
                       f"{r['dups']} dups, {r['refused']} refused" for i, r in enumerate(rs))),
        goal("p99 print-to-client delay < 100 ms (every run)", worst_p99 < 100, f"worst p99: {worst_p99:.1f} ms"),
        goal("daemon RSS < 64 MB (every run)", worst_rss < 64, f"highest RSS seen: {worst_rss:.1f} MB"),
        goal("daemon CPU ≤ 25 % of a core while streaming (median)",
             statistics.median(r["daemon_cpu_pct"] for r in rs) <= 25,
             f"median {statistics.median(r['daemon_cpu_pct'] for r in rs):.0f} %"),
    ]
    client_cpu = max(r["clients_cpu_pct_ticks"] for r in rs)
    notes = [
        f"{FANOUT_TICKERS} children (bench/ticker.c) each print {FANOUT_RATE} lines/s of 100 bytes on a "
        f"fixed schedule for {FANOUT_SECONDS:g} s ({FANOUT_TICKERS * FANOUT_RATE} lines/s in total), one "
        "write() per line, each line carrying its CLOCK_REALTIME print time in ns; they start only once "
        f"all {FANOUT_CLIENTS} clients are connected (`http.max_connections` raised to "
        f"{FANOUT_CLIENTS * 10 // 9 + 64} in the bench's config: stream clients may take 90 % of it). "
        "`http.stream_coalesce_ms` is the daemon's default, 30 (each client gets one write per window; "
        "with 10, before this round, the daemon took 40 % of a core at p99 56 ms).",
        f"Clients: bench/sse_clients.c, {FANOUT_CLIENTS} plain `GET /api/stream` connections on one "
        "epoll thread. For every `lines` event it marks each line's `seq` in a per-client bitmap "
        "(a second mark is a duplicate; a sequence number between the first and the last tick that "
        "is never marked is a gap) and takes the delay from the line's print time to the read() that "
        "brought it (10 µs histogram over all lines of all clients). After the last tick it waits "
        "up to 10 s for every client to have the last line.",
        "Lines/s: tick lines received by all clients together, over the time from the first print to "
        f"the last receipt; the ideal is {FANOUT_CLIENTS} × {FANOUT_TICKERS * FANOUT_RATE} = "
        f"{FANOUT_CLIENTS * FANOUT_TICKERS * FANOUT_RATE:,}/s minus the tail.",
        "Daemon CPU: utime + stime of the daemon over the streaming phase (from the go signal until "
        "every client had every line), all its threads; RSS: VmRSS sampled every 250 ms. The daemon "
        "also runs its idle embedded Kafka cluster. No peer runs this benchmark.",
        f"The clients' own CPU (same phase) was at most {client_cpu:.0f} % of one core: "
        + ("they did not saturate, so they were not the bottleneck."
           if client_cpu < 80 else "close to a full core, so the client may have limited the figures."),
        "Client and daemon share the same 2 CPUs.",
    ]
    return {"title": "fanout", "rows": rows, "goals": goals, "notes": notes, "runs": runs}
