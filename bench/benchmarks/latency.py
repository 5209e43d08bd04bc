"""latency: orders at ~1000/s through `orderstream run` against the real cluster; the delay from
each order's produce timestamp to each group's processed_ms in orders.acks; EndToEndLatency as
the peer."""
import os
import statistics

from cluster import GROUPS, KAFKA_PORTS
from pipeline_runs import E2E_RECORDS, latency_e2e, run_pipeline, window_figures
from report import goal, metric

KAFKA = True  # run against the real cluster, after its warm-up


LATENCY_SECONDS = float(os.environ.get("BENCH_LATENCY_SECONDS", 20))
LATENCY_WARMUP = 8.0      # seconds of orders before the measured window (groups join, settle)
LATENCY_DELAY = os.environ.get("BENCH_LATENCY_DELAY", "0.001")  # the producer's DELAY_SECONDS


def latency_orderstream(h, kafka, rep):
    name = f"latency-orderstream-{rep}"
    first_id = 100_000_000 * (rep + 1)  # ids of this run: first_id up to the next run's
    # The producer runs until stopped: warm-up, the window, and 2 s more.
    produced, acks, dup_acks, sizes, producer_cpu, api = run_pipeline(
        h, kafka, name, first_id, LATENCY_DELAY, 0, LATENCY_WARMUP + LATENCY_SECONDS + 2)
    result = window_figures(produced, acks, LATENCY_WARMUP, LATENCY_SECONDS, f"run {rep + 1}")
    ts = sorted(produced.values())
    result.update({"dup_acks": dup_acks, "avg_value_bytes": statistics.mean(sizes),
                   "producer_cpu_pct": 100 * producer_cpu / (ts[-1] - ts[0]) * 1000 if len(ts) > 1 else None,
                   "api_latency_ms": api})
    return result


def run(h, kafka):
    kafka.create_topic(h, "bench.e2e")
    runs = {"orderstream": [], "EndToEndLatency": []}
    for rep in range(h.reps):
        r = latency_orderstream(h, kafka, rep)
        runs["orderstream"].append(r)
        print(f"  latency orderstream run {rep + 1}: {r['orders_per_s']:.0f} orders/s in the window "
              f"({r['window_orders']:,} orders), "
              + ", ".join(f"{g.split('-')[0]} p50/p99/p99.9 {r[g.split('-')[0] + '_p50']}/"
                          f"{r[g.split('-')[0] + '_p99']}/{r[g.split('-')[0] + '_p999']} ms" for g in GROUPS)
              + f", {r['missing']} not acknowledged, {r['dup_acks']} duplicate acks; /api/groups said "
              f"{r['api_latency_ms']}", flush=True)
        e = latency_e2e(h, kafka, runs["orderstream"][0]["avg_value_bytes"])
        runs["EndToEndLatency"].append(e)
        print(f"  latency EndToEndLatency run {rep + 1}: p50/p99/p99.9 {e['shipping_p50']:.0f}/"
              f"{e['shipping_p99']:.0f}/{e['shipping_p999']:.0f} ms, avg {e['avg_ms']} ms", flush=True)
    rows = [metric("producer's rate in the measured window, orders/s", "higher",
                   {"orderstream": runs["orderstream"]}, "orders_per_s")]
    for g in GROUPS:
        short = g.split("-")[0]
        for q, label in (("p50", "p50"), ("p99", "p99"), ("p999", "p99.9")):
            rows.append(metric(f"{g}: produce → processed {label}, ms", "lower", runs, f"{short}_{q}"))
    e2e_p99 = statistics.median(r["shipping_p99"] for r in runs["EndToEndLatency"])
    ours = {g: statistics.median(r[f"{g.split('-')[0]}_p99"] for r in runs["orderstream"]) for g in GROUPS}
    worst = max(ours.values())
    missing = sum(r["missing"] for r in runs["orderstream"])
    rate = statistics.median(r["orders_per_s"] for r in runs["orderstream"])
    goals = [
        goal("p99 within 3× of EndToEndLatency's p99 (every group, medians)", worst <= 3 * e2e_p99,
             ", ".join(f"{g} {ours[g]:.0f} ms" for g in GROUPS) + f" vs {e2e_p99:.0f} ms: "
             f"{worst / e2e_p99:.1f}× at worst" if e2e_p99 else "EndToEndLatency p99 0 ms"),
        goal("every order in the window acknowledged by every group", missing == 0,
             f"{missing} (order, group) pairs without an acknowledgement"),
        goal("the producer keeps 1000 orders/s (≥ 950/s in the window)", rate >= 950,
             f"median {rate:.0f} orders/s with DELAY_SECONDS={LATENCY_DELAY}"),
    ]
    cpu = [r["producer_cpu_pct"] for r in runs["orderstream"] if r["producer_cpu_pct"] is not None]
    avg_bytes = runs["orderstream"][0]["avg_value_bytes"]
    notes = [
        f"The local real cluster, as for `producer` (ports {KAFKA_PORTS}); topics `orders` and "
        "`orders.acks` as `cluster up` creates them (3 partitions, replication factor 3, min ISR 2).",
        f"orderstream: `orderstream run --bootstrap-servers …` supervising `produce 0 {LATENCY_DELAY}` "
        "(DELAY_SECONDS is the pause after each order, so the rate is a little under 1/DELAY: the "
        "figure in the table is the achieved rate) and the three consumers, each its own group. "
        f"The producer runs {LATENCY_WARMUP:g} s of warm-up, the {LATENCY_SECONDS:g} s window and 2 s "
        "more, then the harness stops it (`POST /api/processes/producer/stop`) and waits until every "
        "group has committed to the end; every run uses order ids of its own.",
        "Delay per order and group: the consumer's `processed_ms` (its acknowledgement in "
        "`orders.acks`, taken when it processed the order) minus the order record's timestamp "
        "(CreateTime, set by librdkafka when produce() was called), both in ms, read back with kcat "
        "after the run. Only orders produced in the window count (it starts 2 s after every group's "
        "first acknowledgement at the earliest); for a duplicate acknowledgement the first counts.",
        f"EndToEndLatency (Kafka 4.4's tool): {E2E_RECORDS:,} records of {int(round(avg_bytes))} bytes "
        "(orderstream's average order) with an 8-byte key, acks=all, into `bench.e2e` (3 partitions, "
        "RF 3, min ISR 2). It sends one record, waits until its own consumer has it, then sends the "
        "next (a closed loop at whatever rate that allows, not 1000/s), and commits nothing; its "
        "figures are whole ms. The same figures stand in each group's rows.",
        f"The producer's own CPU: {', '.join(f'{c:.0f}' for c in cpu)} % of one core "
        "(its wait between orders polls librdkafka with a 0 ms timeout once less than 1 ms is left, "
        "so a sub-millisecond pause spins).",
        f"Shorter than a long soak ({LATENCY_SECONDS:g} s window, BENCH_LATENCY_SECONDS; "
        f"{E2E_RECORDS:,} EndToEndLatency records, BENCH_E2E_RECORDS) to keep the suite under 20 minutes.",
    ]
    return {"title": "latency", "rows": rows, "goals": goals, "notes": notes, "runs": runs}
