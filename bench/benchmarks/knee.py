"""knee: the latency knee over several rates, orderstream against the Python reference pipeline and
EndToEndLatency."""
import json
import os
import statistics
import subprocess
import time

from cluster import GROUPS, KAFKA_PORTS
from harness import BENCH_DIR, BenchError, PYTHON, RESULTS_DIR
from pipeline_runs import latency_e2e, run_pipeline, window_figures
from report import fmt, goal, info_confluent_kafka, run_gnuplot

KAFKA = True  # run against the real cluster, after its warm-up


# After the brokers' warm-up (pipeline_runs.warm_up), for each rate: orderstream's pipeline
# (the daemon supervising `produce N 1/RATE` and the three consumers), the Python reference of the
# seed's design (bench/reference_pipeline.py) and EndToEndLatency, one after the other. The knee
# of a system is the highest rate whose p99 stays under KNEE_P99_MS in every group.

KNEE_RATES = [int(x) for x in os.environ.get("BENCH_KNEE_RATES", "100 250 500 750 1000").split()]
KNEE_SECONDS = float(os.environ.get("BENCH_KNEE_SECONDS", 20))        # each rate's measured window
KNEE_RUN_WARMUP = float(os.environ.get("BENCH_KNEE_RUN_WARMUP", 8))   # orders before the window
KNEE_REPS = int(os.environ.get("BENCH_KNEE_REPS", 1))
KNEE_E2E_RECORDS = int(os.environ.get("BENCH_E2E_RECORDS", 3000))
KNEE_P99_MS = 50
KNEE_RATE_SHARE = 0.95    # a rate counts only if the system reached this share of it
KNEE_DEFAULT_BYTES = 164  # EndToEndLatency's record size when no orderstream run gave the average
KNEE_FIRST_ID = 1_000_000_000  # order ids of the knee's runs: KNEE_FIRST_ID + run × KNEE_ID_SPAN
KNEE_ID_SPAN = 10_000_000
REFERENCE_PIPELINE = os.path.join(BENCH_DIR, "reference_pipeline.py")
KNEE_SYSTEMS = ("orderstream", "Python reference", "EndToEndLatency")
# The previous knee: the single-rate latency benchmark in bench/RESULTS.md before this one
# (medians of 3 runs at 1000 orders/s asked). It found no rate with p99 under 50 ms.
KNEE_BEFORE = {
    "source": "bench/RESULTS.md, latency section, measured 2026-11-24 21:19 UTC, orderstream 9fdc9c0",
    "asked": 1000, "reached": 794,
    "p50": {"shipping-group": 433, "email-group": 438, "analytics-group": 438},
    "p99": {"shipping-group": 1612, "email-group": 1713, "analytics-group": 1577},
    "p999": {"shipping-group": 1902, "email-group": 2039, "analytics-group": 1885},
}
KNEE_BEFORE_FILE = os.environ.get("BENCH_KNEE_BEFORE")  # a knee.json of an older build, if any


def knee_delay(rate):
    return f"{1 / rate:.6g}"


def knee_orderstream(h, kafka, rate, rep, first_id):
    name = f"knee-orderstream-{rate}-{rep}"
    count = int(round(rate * (KNEE_RUN_WARMUP + KNEE_SECONDS + 3)))
    since = int(time.time() * 1000) - 1000
    produced, acks, dup_acks, sizes, producer_cpu, _ = run_pipeline(
        h, kafka, name, first_id, knee_delay(rate), count, count / rate, since=since, id_span=KNEE_ID_SPAN)
    r = window_figures(produced, acks, KNEE_RUN_WARMUP, KNEE_SECONDS, f"the {rate}/s run")
    ts = sorted(produced.values())
    r.update({"system": "orderstream", "rate": rate, "rep": rep, "sent": count, "written": len(produced),
              "dup_acks": dup_acks, "avg_value_bytes": statistics.mean(sizes),
              "producer_cpu_pct": 100 * producer_cpu / (ts[-1] - ts[0]) * 1000 if ts[-1] > ts[0] else None})
    return r


def knee_reference(h, kafka, rate, rep):
    name = f"knee-reference-{rate}-{rep}"
    log_dir = os.path.dirname(h.path(name, "x"))
    timeout = KNEE_RUN_WARMUP + KNEE_SECONDS + 150
    argv = [PYTHON, REFERENCE_PIPELINE, "run", "--bootstrap-servers", kafka.bootstrap,
            "--topic", f"bench.reference.{rate}.{rep}", "--create-topic", "--group-prefix", "reference-",
            "--rate", rate, "--seconds", f"{KNEE_SECONDS:g}", "--warmup", f"{KNEE_RUN_WARMUP:g}",
            "--log-dir", log_dir, "--timeout", f"{timeout:g}"]
    proc = h.start(argv, f"{name}.log")
    try:
        proc.wait(timeout + 30)
    except subprocess.TimeoutExpired:
        raise BenchError(f"bench/reference_pipeline.py at {rate}/s did not finish within {timeout + 30:g} s")
    finally:
        h.stop(proc)
    with open(h.path("logs", f"{name}.log")) as f:
        text = f.read()
    found = [line for line in text.splitlines() if line.startswith('{"reference_pipeline"')]
    if proc.returncode != 0 or not found:
        raise BenchError(f"bench/reference_pipeline.py at {rate}/s exited {proc.returncode}: {text.strip()[-400:]}")
    data = json.loads(found[-1])["reference_pipeline"]
    r = {"system": "Python reference", "rate": rate, "rep": rep, "orders_per_s": data["rate_reached"],
         "overall_orders_per_s": data["overall_rate"], "window_orders": data["window_orders"],
         "sent": data["sent"], "written": data["delivered"], "missing": 0,
         "dup_acks": 0, "p99_quarters": [None] * 4}
    for group, g in data["groups"].items():
        short = group.removeprefix("reference-").split("-")[0]
        r.update({f"{short}_p50": g["p50"], f"{short}_p99": g["p99"], f"{short}_p999": g["p999"],
                  f"{short}_max": g["max"]})
        r["missing"] += g["missing"]
        r["dup_acks"] += g["duplicates"]
        r["p99_quarters"] = [max((x for x in (a, b) if x is not None), default=None)
                             for a, b in zip(r["p99_quarters"], g["p99_quarters"])]
    return r


def knee_e2e(h, kafka, rate, rep, record_bytes):
    r = latency_e2e(h, kafka, record_bytes, KNEE_E2E_RECORDS)
    # A closed loop, one record in flight: its rate is about 1 / its average latency.
    r.update({"system": "EndToEndLatency", "rate": rate, "rep": rep, "missing": 0, "p99_quarters": [None] * 4,
              "orders_per_s": 1000 / r["avg_ms"] if r.get("avg_ms") else None})
    return r


def knee_median(runs, system, rate, key):
    values = [r[key] for r in runs if r["system"] == system and r["rate"] == rate and r.get(key) is not None]
    return statistics.median(values) if values else None


def knee_worst_p99(runs, system, rate):
    values = [knee_median(runs, system, rate, f"{g.split('-')[0]}_p99") for g in GROUPS]
    return None if any(v is None for v in values) else max(values)


def knee_verdict(runs, system, rate):
    """(counts, why not): a rate counts for the knee when every run was measured, every order of
    the window was processed by every group, p99 < KNEE_P99_MS in every group (medians) and the
    rate was reached to KNEE_RATE_SHARE (not asked of EndToEndLatency: its own closed loop)."""
    these = [r for r in runs if r["system"] == system and r["rate"] == rate]
    if not these or any("error" in r for r in these):
        return False, "not measured"
    if any(r.get("missing") for r in these):
        return False, "orders missing"
    p99 = knee_worst_p99(runs, system, rate)
    if p99 is None or p99 >= KNEE_P99_MS:
        return False, f"p99 ≥ {KNEE_P99_MS} ms"
    reached = knee_median(runs, system, rate, "orders_per_s") or 0
    if system != "EndToEndLatency" and reached < KNEE_RATE_SHARE * rate:
        return False, f"rate reached {100 * reached / rate:.0f} %"
    return True, ""


def knee_of(runs, system, rates):
    """The highest rate that counts (knee_verdict)."""
    ok = [rate for rate in rates if knee_verdict(runs, system, rate)[0]]
    return max(ok) if ok else None


def knee_before():
    """The previous knee: from BENCH_KNEE_BEFORE (a knee.json of an older build) when given, else
    KNEE_BEFORE (no knee found: its only rate had p99 over the line)."""
    if KNEE_BEFORE_FILE:
        with open(KNEE_BEFORE_FILE) as f:
            old = json.load(f)
        return {"source": f"{KNEE_BEFORE_FILE} (orderstream {old['machine']['orderstream_commit']}, "
                          f"{old['date']})", "knee": old["knees"].get("orderstream"), "measured": True}
    worst = max(KNEE_BEFORE["p99"].values())
    return {"source": KNEE_BEFORE["source"], "knee": None, "measured": False,
            "upper_bound": KNEE_BEFORE["reached"],
            "text": f"{KNEE_BEFORE['reached']} orders/s reached ({KNEE_BEFORE['asked']:,} asked) with p99 "
                    f"{min(KNEE_BEFORE['p99'].values()):,}–{worst:,} ms per group: over {KNEE_P99_MS} ms, so "
                    f"the previous knee lies below {KNEE_BEFORE['reached']} orders/s, not located (one rate "
                    f"was measured)"}


def run(h, kafka):
    kafka.create_topic(h, "bench.e2e")
    run_ids = iter(range(1, 1000))

    def first_id():
        return KNEE_FIRST_ID + next(run_ids) * KNEE_ID_SPAN

    runs = []
    avg_bytes = None

    def figures(r):
        return ", ".join(f"{g.split('-')[0]} {fmt(r[g.split('-')[0] + '_p50'])}/{fmt(r[g.split('-')[0] + '_p99'])}/"
                         f"{fmt(r[g.split('-')[0] + '_p999'])}" for g in GROUPS)

    def attempt(system, rate, rep, measure):
        """One run; one that could not be measured is kept as such and the others go on."""
        try:
            r = measure()
        except (BenchError, subprocess.TimeoutExpired) as e:
            print(f"  knee {rate}/s {system} run {rep + 1} could not be measured: {e}", flush=True)
            r = {"system": system, "rate": rate, "rep": rep, "error": str(e)[-300:]}
        runs.append(r)
        return r

    for rate in KNEE_RATES:
        for rep in range(KNEE_REPS):
            r = attempt("orderstream", rate, rep, lambda: knee_orderstream(h, kafka, rate, rep, first_id()))
            if "error" not in r:
                avg_bytes = avg_bytes or r["avg_value_bytes"]
                print(f"  knee {rate}/s orderstream run {rep + 1}: {r['orders_per_s']:.0f} orders/s reached, "
                      f"p50/p99/p99.9 ms {figures(r)}, {r['missing']} not acknowledged", flush=True)
            r = attempt("Python reference", rate, rep, lambda: knee_reference(h, kafka, rate, rep))
            if "error" not in r:
                print(f"  knee {rate}/s Python reference run {rep + 1}: {r['orders_per_s']:.0f} orders/s reached, "
                      f"p50/p99/p99.9 ms {figures(r)}, {r['missing']} not seen", flush=True)
            r = attempt("EndToEndLatency", rate, rep,
                        lambda: knee_e2e(h, kafka, rate, rep, avg_bytes or KNEE_DEFAULT_BYTES))
            if "error" not in r:
                print(f"  knee {rate}/s EndToEndLatency run {rep + 1}: p50/p99/p99.9 {fmt(r['shipping_p50'])}/"
                      f"{fmt(r['shipping_p99'])}/{fmt(r['shipping_p999'])} ms, avg {r['avg_ms']} ms "
                      f"(closed loop, ≈ {fmt(r['orders_per_s'])} records/s)", flush=True)
    if all("error" in r for r in runs):
        raise BenchError("no run of knee could be measured: " + runs[0]["error"] if runs else "no rates")

    knees = {s: knee_of(runs, s, KNEE_RATES) for s in KNEE_SYSTEMS}
    before = knee_before()
    goals = []
    # p99 within 3× of EndToEndLatency's at 100 and 500 orders/s.
    parts, verdicts = [], []
    for rate in (100, 500):
        if rate not in KNEE_RATES:
            parts.append(f"{rate}/s not measured (BENCH_KNEE_RATES)")
            verdicts.append(None)
            continue
        ours, e2e = knee_worst_p99(runs, "orderstream", rate), knee_worst_p99(runs, "EndToEndLatency", rate)
        ok = ours is not None and e2e is not None and ours <= 3 * e2e
        verdicts.append(ok)
        parts.append(f"{rate}/s: {fmt(ours)} vs {fmt(e2e)} ms" + (f" = {ours / e2e:.1f}×" if ours and e2e else ""))
    met = False if False in verdicts else (None if None in verdicts else True)
    goals.append(goal("p99 ≤ 3× EndToEndLatency's p99 at 100 and 500 orders/s (worst group, medians)", met,
                      "; ".join(parts)))
    # Ahead of the Python reference at every rate.
    parts, verdicts = [], []
    for rate in KNEE_RATES:
        pairs = [(knee_median(runs, "orderstream", rate, f"{g.split('-')[0]}_p99"),
                  knee_median(runs, "Python reference", rate, f"{g.split('-')[0]}_p99")) for g in GROUPS]
        if any(a is None or b is None for a, b in pairs):
            verdicts.append(None)
            remark = " (not measured)"
        else:
            verdicts.append(all(a < b for a, b in pairs))
            remark = "" if verdicts[-1] else " (behind)"
        ours, ref = knee_worst_p99(runs, "orderstream", rate), knee_worst_p99(runs, "Python reference", rate)
        parts.append(f"{rate}/s: {fmt(ours)} vs {fmt(ref)} ms{remark}")
    met = False if False in verdicts else (None if None in verdicts else True)
    goals.append(goal("ahead of the Python reference at every rate (every group's p99 lower, medians)", met,
                      "worst group's p99, orderstream vs reference: " + "; ".join(parts)))
    # Knee ≥ 1.5× the previous knee.
    now = knees["orderstream"]
    if before["measured"]:
        prev = before["knee"]
        met = now is not None and (prev is None or now >= 1.5 * prev)
        detail = f"now {fmt(now)} orders/s, before {fmt(prev)} orders/s ({before['source']})"
    else:
        bound = before["upper_bound"]
        met = True if now is not None and now >= 1.5 * bound else (False if now is None else None)
        detail = (f"now {fmt(now) if now else 'none'} orders/s; before: {before['text']} ({before['source']})"
                  + ("" if met is not None else f". Undecided: it takes a knee ≥ {1.5 * bound:,.0f}/s to be sure; "
                     "measure the old build's knee with ORDERSTREAM_BIN=<9fdc9c0 build> bench/run knee and "
                     "pass its bench/results/knee.json as BENCH_KNEE_BEFORE"))
    goals.append(goal("knee ≥ 1.5× the previous knee (orderstream)", met, detail))
    missing = sum(r.get("missing", 0) for r in runs if r["system"] == "orderstream")
    goals.append(goal("every order in the windows acknowledged by every group (orderstream)", missing == 0,
                      f"{missing} (order, group) pairs without an acknowledgement"))

    cpu = [r["producer_cpu_pct"] for r in runs if r["system"] == "orderstream" and r.get("producer_cpu_pct")]
    notes = [
        f"The local real cluster, as for `producer` (ports {KAFKA_PORTS}; 3 KRaft nodes on this same 2-CPU "
        "machine), warmed up as the first note says."
        + f" For each rate ({', '.join(map(str, KNEE_RATES))} orders/s; BENCH_KNEE_RATES), orderstream, "
        "the Python reference and EndToEndLatency run one after the other"
        + (f", {KNEE_REPS} times (BENCH_KNEE_REPS): figures are medians." if KNEE_REPS > 1
           else " once (BENCH_KNEE_REPS=1, to keep the benchmark near 10 minutes): there is no run-to-run "
                "spread; the *p99 per quarter* column is the spread within the run."),
        f"orderstream: `orderstream run --bootstrap-servers …` supervising `produce N 1/RATE` "
        f"(N = RATE × {KNEE_RUN_WARMUP + KNEE_SECONDS + 3:g} s; the producer paces by schedule) and the three "
        "consumers on `orders`, every run with order ids of its own; the harness waits until every group "
        "has committed to the end. Delay per order and group, as in `latency`: the consumer's "
        "`processed_ms` in `orders.acks` minus the order record's CreateTime, read back with kcat "
        "(`-o s@TIME`: only this run's records).",
        f"Python reference: bench/reference_pipeline.py, the seed's design on python3-confluent-kafka "
        f"{info_confluent_kafka()} (Debian): a producer (`Producer`, `produce(topic, key, value, "
        "callback)`, `poll(0)` after each order, paced by schedule, `flush()` at the end; librdkafka's "
        "defaults) and three consumers (`Consumer`, groups reference-shipping-group, reference-email-group, "
        "reference-analytics-group; auto.offset.reset=earliest, enable.auto.commit=true every 1000 ms, "
        "session.timeout.ms=6000; a `poll(1.0)` loop, `json.loads`, a printed block per order to a "
        "block-buffered log file), each a process of its own, on a topic of its own per run "
        "(`bench.reference.RATE.REP`, 3 partitions, RF 3, min ISR 2). The producer starts once every "
        "consumer has its partitions. Delay: the consumer's wall time after printing minus the "
        "record's CreateTime (`msg.timestamp()[1]`), in ms.",
        f"Window, for both: the orders created from {KNEE_RUN_WARMUP:g} s after the first order "
        f"(BENCH_KNEE_RUN_WARMUP; orderstream's also 2 s after every group's first acknowledgement at "
        f"the earliest), {KNEE_SECONDS:g} s long (BENCH_KNEE_SECONDS). *Reached*: orders created in the "
        "window over its span, from their CreateTimes. *p99 per quarter*: the worst group's p99 in "
        "each quarter of the window, lowest – highest.",
        f"EndToEndLatency (Kafka 4.4's tool), run in each rate's slot: {KNEE_E2E_RECORDS:,} records "
        f"(BENCH_E2E_RECORDS) of {int(round(avg_bytes or 0))} bytes (orderstream's average order) with an "
        "8-byte key, acks=all, into `bench.e2e`. It is a closed loop (one record in flight), so it does "
        "not run at the rate asked: its *reached* is ≈ 1 / its average latency, its figures are whole "
        "ms, and the same figures stand in each group's column. Its knee is that of the slots it ran in.",
        f"Knee: the highest rate asked whose p99 is under {KNEE_P99_MS} ms in every group (medians), "
        f"that the system reached to {KNEE_RATE_SHARE:.0%} at least (not asked of EndToEndLatency) and "
        "where every group processed every order of the window.",
        f"Before: {before.get('text', 'knee ' + fmt(before['knee']))} ({before['source']}).",
    ]
    failed_runs = [r for r in runs if "error" in r]
    if failed_runs:
        notes.append("Runs that could not be measured (their cells show –): " + "; ".join(
            f"{r['system']} at {r['rate']}/s run {r['rep'] + 1}: {r['error']}" for r in failed_runs))
    short = [f"{r['system']} at {r['rate']}/s: {r['missing']}" for r in runs if r.get("missing")]
    notes.append("A rate where some group never processed an order of the window (orderstream: not "
                 "acknowledged; reference: not seen before its 30 s drain ran out) does not count for "
                 "the knee; " + ("orders missing so: " + ", ".join(short) if short else "there were none") + ".")
    if cpu:
        notes.append(f"orderstream's producer used {', '.join(f'{c:.0f}' for c in cpu)} % of one core "
                     f"(in the order of the rates).")
    return {"title": "knee", "rows": [], "goals": goals, "notes": notes, "knee_runs": runs, "knees": knees,
            "rates": KNEE_RATES, "before": before, "reps": KNEE_REPS}


def knee_cell(runs, system, rate, key):
    values = [r[key] for r in runs if r["system"] == system and r["rate"] == rate and r.get(key) is not None]
    if not values:
        return "–"
    med = statistics.median(values)
    return fmt(med) if min(values) == max(values) else f"{fmt(med)} ({fmt(min(values))}–{fmt(max(values))})"


def table(result):
    runs, rates = result["knee_runs"], result["rates"]
    out = ["| orders/s asked | system | reached, orders/s | "
           + " | ".join(f"{g}: p50 / p99 / p99.9, ms" for g in GROUPS)
           + " | p99 per quarter, ms | counts for the knee |",
           "|---:|---|---:|" + "---:|" * len(GROUPS) + "---:|:---:|"]
    for rate in rates:
        for i, system in enumerate(KNEE_SYSTEMS):
            if not any(r["system"] == system and r["rate"] == rate for r in runs):
                continue
            cells = [" / ".join(knee_cell(runs, system, rate, f"{g.split('-')[0]}_{q}") for q in ("p50", "p99", "p999"))
                     for g in GROUPS]
            quarters = [q for r in runs if r["system"] == system and r["rate"] == rate
                        for q in r.get("p99_quarters") or [] if q is not None]
            spread = f"{fmt(min(quarters))} – {fmt(max(quarters))}" if quarters else "–"
            counts, why = knee_verdict(runs, system, rate)
            reached = knee_cell(runs, system, rate, "orders_per_s")
            if system == "EndToEndLatency":
                reached = f"≈ {reached} (closed loop)"
            under = "yes" if counts else f"no: {why}"
            out.append(f"| {f'{rate:,}' if i == 0 else ''} | {system} | {reached} | " + " | ".join(cells)
                       + f" | {spread} | {under} |")
    before = result.get("before", {})
    out += ["", f"| system | knee: highest rate with p99 < {KNEE_P99_MS} ms in every group | before |",
            "|---|---:|---|"]
    for system in KNEE_SYSTEMS:
        k = result["knees"].get(system)
        prev = "–"
        if system == "orderstream":
            prev = (f"{fmt(before['knee']) if before.get('knee') else 'none'} orders/s" if before.get("measured")
                    else f"none found: {before.get('text', '?')}")
        none = f"none of the {len(rates)} rates" if len(rates) != 1 else "none (1 rate measured)"
        out.append(f"| {system} | {f'{k:,} orders/s' if k else none} | {prev} |")
    return "\n".join(out)


def chart(result, work):
    """p99 of the worst group and the rate reached against the rate asked, one line per system."""
    runs, rates = result["knee_runs"], result["rates"]
    png = os.path.join(RESULTS_DIR, "knee.png")
    data = os.path.join(work, "chart-knee.dat")
    with open(data, "w") as f:
        for rate in rates:
            cols = [knee_worst_p99(runs, s, rate) for s in KNEE_SYSTEMS]
            cols += [knee_median(runs, s, rate, "orders_per_s") for s in KNEE_SYSTEMS]
            f.write(f"{rate} " + " ".join("?" if v is None else f"{max(v, 0.5):g}" for v in cols) + "\n")
    styles = ["lc rgb '#4c78a8' pt 7", "lc rgb '#e45756' pt 5", "lc rgb '#54a24b' pt 9"]
    p99 = ", ".join(f"'{data}' using 1:{2 + i} with linespoints {styles[i]} title '{s}'"
                    for i, s in enumerate(KNEE_SYSTEMS))
    reached = ", ".join(f"'{data}' using 1:{2 + len(KNEE_SYSTEMS) + i} with linespoints {styles[i]} title '{s}'"
                        for i, s in enumerate(KNEE_SYSTEMS))
    script = ["set terminal pngcairo size 1100,420 font 'sans,9'", f"set output '{png}'",
              "set datafile missing '?'",
              f"set multiplot layout 1,2 title 'orderstream bench: knee (medians of {result['reps']} "
              f"run{'s' if result['reps'] != 1 else ''} per rate)'",
              "set grid", "set key top left noenhanced", "set xlabel 'orders/s asked'",
              f"set xrange [0:{max(rates) * 1.05:g}]",
              "set logscale y", "set ylabel 'p99, worst group, ms (log)'",
              f"set title 'produce → processed p99 (line: {KNEE_P99_MS} ms)'",
              f"plot {p99}, {KNEE_P99_MS} with lines dt 2 lc rgb 'gray' title '{KNEE_P99_MS} ms'",
              "unset logscale y", "set yrange [0:*]", "set ylabel 'orders/s reached'",
              "set title 'rate reached (EndToEndLatency: closed loop)'",
              f"plot {reached}, x with lines dt 2 lc rgb 'gray' title 'asked'",
              "unset multiplot"]
    return run_gnuplot(work, "knee", script, png)
