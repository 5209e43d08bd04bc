"""memory: the supervisor's RSS idle, with full rings, and after MEMORY_LINES captured lines."""
import os
import time
import uuid

from harness import (
    Client, RUN_TIMEOUT, START_TIMEOUT, interleaved, proc_status_kb, rings_full, start_orderstream,
    start_reference, wait_until)
from report import goal, metric


MEMORY_LINES = int(os.environ.get("BENCH_MEMORY_LINES", 10_000_000))
MEMORY_CHECKPOINT = MEMORY_LINES // 10  # a reading part-way, to tell one-time growth from per line


def memory_run(h, system, rep):
    name = f"memory-{system}-{rep}"
    go_fill, go_big, go_on = h.path(name, "go-fill"), h.path(name, "go-big"), h.path(name, "go-on")
    stats = h.path(name, "stats")
    marker = f"END-{uuid.uuid4().hex}"
    processes = [(f"t{i}", [h.printer, "--wait", go_fill, "--lines", 1200, "--marker", f"FILLED-t{i}",
                            "--sleep", 3600]) for i in range(1, 4)]
    processes.append(("bulk", [h.printer, "--pre-wait", go_fill, "--pre-lines", 1200, "--wait", go_big,
                               "--lines", MEMORY_LINES, "--checkpoint", MEMORY_CHECKPOINT,
                               "--checkpoint-wait", go_on, "--marker", marker, "--stats", stats,
                               "--sleep", 3600]))
    proc = None
    try:
        if system == "orderstream":
            proc, port, _ = start_orderstream(h, name, processes)
        else:
            proc, port = start_reference(h, name, processes)
        client = Client(port)
        time.sleep(2.0)
        idle = proc_status_kb(proc.pid, "VmRSS")
        open(go_fill, "w").close()

        def full():
            status, body = client.get("/api/outputs")
            return status == 200 and rings_full(body)

        wait_until(f"{system}: four full rings", full, START_TIMEOUT, interval=0.2, proc=proc)
        time.sleep(1.0)
        filled = proc_status_kb(proc.pid, "VmRSS")
        peak_seen = [filled]

        def seen(text):
            def check():
                peak_seen[0] = max(peak_seen[0], proc_status_kb(proc.pid, "VmRSS"))
                status, body = client.get("/api/outputs")
                return status == 200 and text.encode() in body
            return check

        started = time.monotonic()
        open(go_big, "w").close()
        wait_until(f"{system}: {MEMORY_CHECKPOINT:,} lines", seen("CHECKPOINT"), RUN_TIMEOUT,
                   interval=0.25, proc=proc)
        paused = time.monotonic()
        time.sleep(1.0)
        at_checkpoint = proc_status_kb(proc.pid, "VmRSS")
        open(go_on, "w").close()
        resumed = time.monotonic()
        wait_until(f"{system}: {MEMORY_LINES:,} lines", seen(marker), RUN_TIMEOUT, interval=0.25, proc=proc)
        took = time.monotonic() - resumed + paused - started
        time.sleep(1.0)
        after = proc_status_kb(proc.pid, "VmRSS")
        client.close()
        return {"idle_mb": idle / 1024, "full_mb": filled / 1024, "checkpoint_mb": at_checkpoint / 1024,
                "after_mb": after / 1024, "late_growth_mb": (after - at_checkpoint) / 1024,
                "peak_mb": max(peak_seen[0], after) / 1024, "growth_mb": (after - filled) / 1024,
                "ingest_s": took}
    finally:
        if proc:
            h.stop(proc)


def run(h):
    systems = ["orderstream", "python-ref"]
    runs = interleaved(h, systems, lambda system, rep: memory_run(h, system, rep),
                       lambda system, rep, r: f"memory {system} run {rep + 1}: idle {r['idle_mb']:.1f} MB, "
                       f"full rings {r['full_mb']:.1f} MB, after {MEMORY_LINES:,} lines {r['after_mb']:.1f} MB "
                       f"(after {MEMORY_CHECKPOINT:,}: {r['checkpoint_mb']:.1f} MB; peak {r['peak_mb']:.1f} MB, "
                       f"ingested in {r['ingest_s']:.1f} s)")
    m = f"{MEMORY_LINES / 1e6:g} M"
    rows = [
        metric("RSS idle (children started, no output), MB", "lower", runs, "idle_mb"),
        metric("RSS with four full rings, MB", "lower", runs, "full_mb"),
        metric(f"RSS after {MEMORY_CHECKPOINT / 1e6:g} M more lines, MB", "lower", runs, "checkpoint_mb"),
        metric(f"RSS after {m} more lines, MB", "lower", runs, "after_mb"),
        metric(f"RSS growth from full rings to {m} lines, MB", "lower", runs, "growth_mb"),
        metric(f"RSS growth from {MEMORY_CHECKPOINT / 1e6:g} M to {m} lines, MB", "lower", runs,
               "late_growth_mb"),
        metric("highest RSS seen while ingesting, MB", "lower", runs, "peak_mb"),
        metric(f"time to ingest the {m} lines (polled every 250 ms), s", "lower", runs, "ingest_s"),
    ]
    worst = max(r["growth_mb"] for r in runs["orderstream"])
    late = max(r["late_growth_mb"] for r in runs["orderstream"])
    goals = [goal(f"RSS does not grow with lines (from full rings to {m} lines < 2 MB, and from "
                  f"{MEMORY_CHECKPOINT / 1e6:g} M to {m} lines < 0.5 MB, in every run)",
                  worst < 2.0 and late < 0.5,
                  f"largest growth: {worst:+.2f} MB overall, {late:+.2f} MB after the first "
                  f"{MEMORY_CHECKPOINT / 1e6:g} M lines")]
    notes = [
        "VmRSS of the supervisor process from /proc/PID/status. Four terminals: three print 1200 "
        f"lines and sleep; the fourth prints 1200 lines, then {MEMORY_LINES:,} more (100 bytes each, "
        f"pausing after {MEMORY_CHECKPOINT:,} for a reading) and a unique last line. Each figure is "
        "read 1 s after the phase finished ('idle': 2 s after start). The ingest time leaves the "
        "pause out.",
        "supervisord is not listed: it keeps no lines in memory (it writes them to a file).",
    ]
    return {"title": "memory", "rows": rows, "goals": goals, "notes": notes, "runs": runs}
