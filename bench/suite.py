#!/usr/bin/env python3
"""orderstream's benchmarks against its peers; bench/run installs what is needed and calls this.

Each benchmark (one module in bench/benchmarks/) runs REPS times, prints one table (orderstream's
median, each peer's median, the ratio, the min-max spread), saves results/NAME.json and NAME.png,
and rewrites RESULTS.md from every saved result (knee runs BENCH_KNEE_REPS times per rate and has a
table of its own: a row per rate and system, and the knee of each). A slow figure never fails a
benchmark: only a run that could not be measured at all (a server that did not start, a line that
never arrived) does. Everything listens on 127.0.0.1 on free ports and is stopped on the way out,
error or not. The Kafka benchmarks share one real cluster, started for the suite and warmed up
before the first of them.
"""
import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import time

from cluster import KafkaCluster
from harness import BenchError, DAEMON, Harness, OUT_DIR, RESULTS_DIR, ROOT
from pipeline_runs import warm_up
from report import chart, goal_mark, machine, table, write_results_md
from benchmarks import capture, fanout, knee, latency, memory, outputs, producer, startup

BENCHMARKS = {"capture": capture, "outputs": outputs, "memory": memory, "fanout": fanout, "startup": startup,
              "producer": producer, "latency": latency, "knee": knee}
# What `bench/run` with no name runs: knee replaces the single-rate latency, which stays available by name.
DEFAULT_BENCHMARKS = ("capture", "outputs", "memory", "fanout", "startup", "producer", "knee")


def is_kafka(name):
    return getattr(BENCHMARKS[name], "KAFKA", False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True)
    parser.add_argument("--printer", required=True)
    parser.add_argument("--bare-reader", default=None)
    parser.add_argument("--ticker", required=True)
    parser.add_argument("--sse-clients", required=True)
    parser.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS", 3)))
    parser.add_argument("--invocation", default="bench/run")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    names = args.names or list(DEFAULT_BENCHMARKS)
    for n in names:
        if n not in BENCHMARKS:
            print(f"unknown benchmark {n!r}: choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
    if not os.access(DAEMON, os.X_OK):
        print(f"{DAEMON} is missing: build orderstream first (scripts/start or scripts/test)", file=sys.stderr)
        return 2

    def on_signal(signum, _):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    info = machine()
    failed = []
    # The real cluster is brought up for the first benchmark that needs it and down after the last.
    last_kafka = max((i for i, n in enumerate(names) if is_kafka(n)), default=-1)
    kafka = None
    no_cluster = None  # why the cluster could not be brought up, if it could not
    try:
        for i, name in enumerate(names):
            if is_kafka(name) and kafka is None and no_cluster is None:
                kafka = KafkaCluster(args.work)
                try:
                    kafka.up()
                except (BenchError, subprocess.TimeoutExpired) as e:
                    no_cluster = str(e)
                    kafka.down()
                    kafka = None
                else:
                    warm(args, kafka)
            if is_kafka(name) and no_cluster is not None:
                print(f"  {name} could not be measured: {no_cluster}", flush=True)
                failed.append(name)
                continue
            run_one(args, info, name, failed, kafka if is_kafka(name) else None)
            if i == last_kafka:
                kafka.down()
                kafka = None
    finally:
        if kafka is not None:
            kafka.down()
    write_results_md(BENCHMARKS)
    print(f"wrote {os.path.relpath(os.path.join(OUT_DIR, 'RESULTS.md'), ROOT)}"
          + (f"; could not measure: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def warm(args, kafka):
    """The brokers' warm-up, once: what it did (or why it failed) goes into every Kafka benchmark's
    notes, and its commands into their exact commands."""
    h = Harness(args.work, args.printer, args.reps)
    try:
        kafka.warmed_up = warm_up(h, kafka)
    except (BenchError, subprocess.TimeoutExpired) as e:
        print(f"  the brokers' warm-up failed: {e}", flush=True)
        kafka.warmed_up = f"The brokers' warm-up failed ({e}): the Kafka benchmarks ran on brokers as cold as it left them."
    finally:
        h.stop_all()
    kafka.warm_up_commands = ["# the brokers' warm-up, once before the first Kafka benchmark:"] + [
        c for c in h.commands if not c.startswith("gcc ")]


def run_one(args, info, name, failed, kafka):
    """One benchmark: measured, charted and saved as bench/results/NAME.json."""
    h = Harness(args.work, args.printer, args.reps, args.ticker, args.sse_clients)
    h.bare_reader = args.bare_reader
    module = BENCHMARKS[name]
    reps = knee.KNEE_REPS if name == "knee" else args.reps
    print(f"== {name} ({reps} run{'s' if reps != 1 else ''}{' per rate' if name == 'knee' else ''})", flush=True)
    started = time.monotonic()
    try:
        result = module.run(h, kafka) if kafka is not None else module.run(h)
    except (BenchError, subprocess.TimeoutExpired) as e:
        print(f"  {name} could not be measured: {e}", flush=True)
        failed.append(name)
        return
    finally:
        h.stop_all()
    result.update({"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                   "machine": info, "reps": reps, "commands": h.commands,
                   "invocation": args.invocation, "seconds": round(time.monotonic() - started)})
    result["configs"] = h.configs
    if kafka is not None:
        result["notes"].insert(0, kafka.warmed_up)
        result["commands"] = kafka.warm_up_commands + ["# the benchmark:"] + result["commands"]
    with open("/proc/loadavg") as f:
        result["load_at_end"] = " ".join(f.read().split()[:3])
    result["chart"] = getattr(module, "chart", chart)(result, args.work)
    with open(os.path.join(RESULTS_DIR, f"{name}.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"\n### {name} ({result['seconds']} s)\n\n{getattr(module, 'table', table)(result)}\n")
    for g in result["goals"]:
        print(f"{goal_mark(g['met'])}  {g['goal']} — {g['detail']}")
    print(flush=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as e:
        print(f"stopped ({e})", file=sys.stderr)
        sys.exit(130)
