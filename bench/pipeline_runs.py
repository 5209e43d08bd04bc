"""orderstream's whole pipeline against the real cluster (the daemon supervising the producer and
the three consumers), read back from the topics: what latency, knee and the brokers' warm-up run,
and Kafka's EndToEndLatency as the peer of both."""
import http.client
import json
import os
import re
import time

from cluster import GROUPS, kcat_dump
from harness import BenchError, Client, DAEMON, cpu_seconds, start_orderstream, wait_until


E2E_RECORDS = int(os.environ.get("BENCH_E2E_RECORDS", 3000))
# The brokers' warm-up, once per suite before the first Kafka benchmark: a fresh KRaft JVM runs on
# cold JIT for about a minute (p50 232 ms at 100 orders/s then, 8 ms once warm).
KAFKA_WARMUP = float(os.environ.get("BENCH_KAFKA_WARMUP", 60))
KAFKA_WARMUP_RATE = 500  # orders/s
KAFKA_WARMUP_FIRST_ID = 900_000_000  # apart from every benchmark's order ids


def percentile(values, q):
    s = sorted(values)
    if not s:
        return None
    return s[min(len(s) - 1, max(0, int(round(q * len(s) + 0.5)) - 1))]


def run_pipeline(h, kafka, name, first_id, delay, count, seconds, since="beginning", id_span=100_000_000,
                 read_back=True):
    """orderstream run against the real cluster, supervising `produce COUNT DELAY` and the three
    consumers. COUNT 0: the harness stops the producer after `seconds`; else it sends COUNT orders
    and exits. Then waits until every group has committed to the end, stops the daemon and reads
    back `orders` and `orders.acks` (from `since`, "beginning" or a time in ms) and keeps the orders
    with ids first_id up to first_id + id_span. Returns (produced {id: CreateTime},
    acks {group: {id: processed_ms}}, duplicate acks, record sizes, producer CPU s, /api/groups'
    latency); without read_back, only the daemon's run (a warm-up)."""
    processes = [("producer", [DAEMON, "produce", count, delay, "--first-order-id", first_id])]
    processes += [(g.split("-")[0], [DAEMON, "consume", g]) for g in GROUPS]
    proc = None
    try:
        proc, port, _ = start_orderstream(h, name, processes, kafka=kafka.bootstrap)
        client = Client(port)
        producer_cpu = 0.0

        def sample_producer():
            nonlocal producer_cpu
            status, body = client.get("/api/processes")
            producer = next((p for p in json.loads(body) if p["name"] == "producer"), {}) if status == 200 else {}
            if producer.get("pid"):
                try:
                    producer_cpu = cpu_seconds(producer["pid"])
                except OSError:
                    pass
            return producer

        def producer_done(producer):
            return producer.get("state") in ("STOPPED", "EXITED", "FATAL")

        # COUNT 0 runs until stopped: the harness stops it after `seconds`. A finite producer gets
        # a minute more than its schedule before the run counts as failed.
        deadline = time.monotonic() + seconds + (0 if count == 0 else 60)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BenchError(f"orderstream run exited with {proc.returncode}")
            if producer_done(sample_producer()):
                break
            time.sleep(0.5)
        else:
            if count != 0:
                raise BenchError(f"the producer did not send its {count} orders within {seconds + 60:.0f} s")
            h.note(["curl", "-X", "POST", f"http://127.0.0.1:{port}/api/processes/producer/stop"])
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/api/processes/producer/stop", body=b"")
            stopped = conn.getresponse()
            stopped.read()
            conn.close()
            if stopped.status != 200:
                raise BenchError(f"POST /api/processes/producer/stop answered {stopped.status}")

        def acked_all():
            """The producer has stopped and every group has committed up to the end."""
            if not producer_done(sample_producer()):
                return False
            status, body = client.get("/api/groups")
            groups = {g["group"]: g for g in json.loads(body)} if status == 200 else {}
            return all(g in groups and groups[g].get("lag") == 0 and groups[g].get("processed", 0) > 0
                       for g in GROUPS)

        wait_until("every group committed every order", acked_all, 120, interval=0.5, proc=proc)
        _, body = client.get("/api/groups")
        api = {g["group"]: g.get("latency_ms") for g in json.loads(body)}
        client.close()
    finally:
        if proc:
            h.stop(proc)
    if not read_back:
        return None
    orders_file, acks_file = h.path(name, "orders.txt"), h.path(name, "acks.txt")
    offset = since if since == "beginning" else "s@TIME"
    h.note(["kcat", "-C", "-b", kafka.bootstrap, "-t", "orders", "-o", offset, "-e", "-q", "-f", "%k %T %S\\n"])
    h.note(["kcat", "-C", "-b", kafka.bootstrap, "-t", "orders.acks", "-o", offset, "-e", "-q", "-f", "%s\\n"])
    kcat_dump(kafka.bootstrap, "orders", "%k %T %S\n", orders_file, start=since)
    kcat_dump(kafka.bootstrap, "orders.acks", "%s\n", acks_file, start=since)
    produced, sizes = {}, []
    with open(orders_file) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3:
                continue
            k, t, s = parts
            if k.isdigit() and first_id <= int(k) < first_id + id_span:
                produced[int(k)] = int(t)
                sizes.append(int(s))
    acks = {g: {} for g in GROUPS}
    dup_acks = 0
    with open(acks_file) as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            # One order per record ({"order_id","group","processed_ms",…}) or a batch of them
            # ({"group",…,"acks":[{…},…]}): both shapes are read.
            entries = record.get("acks") if isinstance(record, dict) and "acks" in record else [record]
            for a in entries if isinstance(entries, list) else []:
                if not isinstance(a, dict):
                    continue
                oid, g = a.get("order_id"), a.get("group")
                if g in acks and oid in produced and isinstance(a.get("processed_ms"), int):
                    if oid in acks[g]:
                        dup_acks += 1
                        acks[g][oid] = min(acks[g][oid], a["processed_ms"])
                    else:
                        acks[g][oid] = a["processed_ms"]
    return produced, acks, dup_acks, sizes, producer_cpu, api


def window_figures(produced, acks, warmup, seconds, what):
    """Per group p50/p99/p99.9/max of processed_ms − CreateTime over the orders created in the
    window: from `warmup` s after the first order (and 2 s after every group's first
    acknowledgement at the earliest), `seconds` long; the rate reached in it; the worst group's
    p99 in each quarter of the window."""
    if len(produced) < 2:
        raise BenchError(f"found {len(produced)} orders of {what} in `orders`")
    ts = sorted(produced.values())
    silent = [g for g in GROUPS if not acks[g]]
    if silent:
        raise BenchError(f"no acknowledgements in orders.acks from {', '.join(silent)} in {what}")
    ready = max(min(acks[g].values()) for g in GROUPS)
    w0 = max(ready + 2000, ts[0] + warmup * 1000)
    w1 = w0 + seconds * 1000
    window = [oid for oid, t in produced.items() if w0 <= t < w1]
    in_window = [t for t in ts if w0 <= t < w1]
    rate = len(in_window) / ((in_window[-1] - in_window[0]) / 1000) if len(in_window) > 1 else 0.0
    overall_rate = len(ts) / ((ts[-1] - ts[0]) / 1000) if len(ts) > 1 else 0.0
    result = {"orders_per_s": rate, "overall_orders_per_s": overall_rate, "window_orders": len(window),
              "missing": 0}
    quarter = (w1 - w0) / 4
    by_quarter = [[] for _ in range(4)]
    for g in GROUPS:
        d = []
        for oid in window:
            if oid in acks[g]:
                delay = acks[g][oid] - produced[oid]
                d.append(delay)
                by_quarter[min(3, int((produced[oid] - w0) // quarter))].append((g, delay))
        result["missing"] += len(window) - len(d)
        short = g.split("-")[0]
        result[f"{short}_p50"] = percentile(d, 0.50)
        result[f"{short}_p99"] = percentile(d, 0.99)
        result[f"{short}_p999"] = percentile(d, 0.999)
        result[f"{short}_max"] = max(d) if d else None
    result["p99_quarters"] = [worst_group_p99(q) for q in by_quarter]
    return result


def worst_group_p99(pairs):
    """The highest of the groups' p99 among (group, delay) pairs; None without any."""
    per_group = {}
    for g, delay in pairs:
        per_group.setdefault(g, []).append(delay)
    return max((percentile(d, 0.99) for d in per_group.values()), default=None)


def latency_e2e(h, kafka, record_bytes, records=E2E_RECORDS):
    res = kafka.tool(h, ["org.apache.kafka.tools.EndToEndLatency", "--bootstrap-server", kafka.bootstrap,
                         "--topic", "bench.e2e", "--num-records", records, "--producer-acks", "all",
                         "--record-size", int(round(record_bytes)), "--record-key-size", 8],
                     "end-to-end-latency.log", 600)
    m = re.search(r"Percentiles: 50th = (\d+), 99th = (\d+), 99.9th = (\d+)", res.stdout)
    avg = re.search(r"Avg latency: ([\d.]+) ms", res.stdout)
    if res.returncode != 0 or not m:
        raise BenchError(f"EndToEndLatency printed no percentiles: {(res.stdout + res.stderr).strip()[-400:]}")
    p50, p99, p999 = (float(x) for x in m.groups())
    r = {"avg_ms": float(avg.group(1)) if avg else None}
    for g in GROUPS:
        short = g.split("-")[0]
        r.update({f"{short}_p50": p50, f"{short}_p99": p99, f"{short}_p999": p999})
    return r


def warm_up(h, kafka):
    """KAFKA_WARMUP seconds of orderstream's whole pipeline (producer, three consumers, their
    acknowledgements) at KAFKA_WARMUP_RATE orders/s on the brokers just started, not measured.
    Returns the sentence each Kafka benchmark's notes carry."""
    if KAFKA_WARMUP <= 0:
        return ("The brokers were not warmed up (BENCH_KAFKA_WARMUP=0): the first minute of the first "
                "Kafka benchmark ran on cold JIT.")
    print(f"  warming the brokers up: {KAFKA_WARMUP:g} s of orderstream's pipeline at {KAFKA_WARMUP_RATE} "
          "orders/s, not measured", flush=True)
    started = time.monotonic()
    count = int(round(KAFKA_WARMUP_RATE * KAFKA_WARMUP))
    run_pipeline(h, kafka, "warmup", KAFKA_WARMUP_FIRST_ID, f"{1 / KAFKA_WARMUP_RATE:.6g}", count,
                 KAFKA_WARMUP, read_back=False)
    took = time.monotonic() - started
    print(f"  warm-up done ({took:.0f} s with the daemon's start and the drain)", flush=True)
    return (f"The brokers' JVMs were started for this suite (`deploy/kafka/cluster up`, {kafka.up_seconds:.0f} s) "
            f"and warmed up before the first Kafka benchmark with {KAFKA_WARMUP:g} s of orderstream's pipeline "
            f"at {KAFKA_WARMUP_RATE} orders/s into `orders` (BENCH_KAFKA_WARMUP; {count:,} orders, not measured, "
            f"{took:.0f} s with the daemon's start and the drain).")
