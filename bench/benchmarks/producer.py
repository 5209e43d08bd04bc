"""producer: orders/s with acks=all and idempotence, orderstream against kcat and Kafka's
ProducerPerformance on the same records, all into one topic."""
import os
import resource
import re
import statistics
import subprocess
import time

from cluster import KAFKA_PORTS, kcat_dump
from harness import BenchError, DAEMON
from report import goal, metric

KAFKA = True  # run against the real cluster, after its warm-up


PRODUCER_ORDERS = int(os.environ.get("BENCH_PRODUCER_ORDERS", 100_000))


PRODUCER_TOPIC = "bench.producer"


def children_cpu_s():
    """User + system CPU of every child process waited for so far (a JVM under a script included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def producer_orderstream(h, kafka, rep):
    out = h.path("producer", f"orderstream-{rep}.out")
    first_id = 10_000_000 * (rep + 1)
    argv = [DAEMON, "produce", PRODUCER_ORDERS, 0, "--bootstrap-servers", kafka.bootstrap, "--topic",
            PRODUCER_TOPIC, "--first-order-id", first_id]
    h.note(argv)
    before = kafka.end_offsets(PRODUCER_TOPIC)
    started, cpu = time.monotonic(), children_cpu_s()
    with open(out, "w") as f:
        res = subprocess.run([str(a) for a in argv], stdout=f, stderr=subprocess.STDOUT, timeout=600,
                             stdin=subprocess.DEVNULL)
    wall, cpu = time.monotonic() - started, children_cpu_s() - cpu
    with open(out, "rb") as f:
        text = f.read()
    delivered = text.count(b"\nDelivered order ")
    m = re.search(rb"Producer stopped: (\d+) delivered", text)
    if res.returncode != 0 or not m:
        raise BenchError(f"orderstream produce exited {res.returncode}: {text[-300:]!r}")
    written = kafka.end_offsets(PRODUCER_TOPIC) - before
    return {"orders_per_s": PRODUCER_ORDERS / wall, "wall_s": wall, "delivered": delivered,
            "written": written, "first_id": first_id, "cpu_ms_per_k": 1000 * cpu / (PRODUCER_ORDERS / 1000)}


def producer_records_file(h, kafka, first_id):
    """orderstream's orders of one run as kcat input (key TAB value) and as a payload file."""
    dump = h.path("producer", "dump.tsv")
    kcat_dump(kafka.bootstrap, PRODUCER_TOPIC, "%k\t%s\n", dump)
    records = os.path.join(h.work, "producer", "records.tsv")
    payloads = os.path.join(h.work, "producer", "payloads.txt")
    count = value_bytes = 0
    with open(dump) as f, open(records, "w") as r, open(payloads, "w") as p:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            if key.isdigit() and first_id <= int(key) < first_id + PRODUCER_ORDERS:
                r.write(f"{key}\t{value}\n")
                p.write(value + "\n")
                count += 1
                value_bytes += len(value.encode())
    if count != PRODUCER_ORDERS:
        raise BenchError(f"found {count} of orderstream's {PRODUCER_ORDERS} orders in {PRODUCER_TOPIC}")
    return records, payloads, value_bytes / count


def producer_kcat(h, kafka, records, avg_bytes):
    argv = ["kcat", "-P", "-b", kafka.bootstrap, "-t", PRODUCER_TOPIC, "-K", "\t", "-X", "acks=all",
            "-X", "enable.idempotence=true", "-l", records]
    h.note(argv)
    before = kafka.end_offsets(PRODUCER_TOPIC)
    started, cpu = time.monotonic(), children_cpu_s()
    res = subprocess.run(argv, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    wall, cpu = time.monotonic() - started, children_cpu_s() - cpu
    if res.returncode != 0:
        raise BenchError(f"kcat -P exited {res.returncode}: {res.stderr.strip()[-300:]}")
    written = kafka.end_offsets(PRODUCER_TOPIC) - before
    return {"orders_per_s": PRODUCER_ORDERS / wall, "wall_s": wall, "written": written,
            "mb_per_s": PRODUCER_ORDERS * avg_bytes / wall / 1e6,
            "cpu_ms_per_k": 1000 * cpu / (PRODUCER_ORDERS / 1000)}


def producer_perf(h, kafka, payloads):
    before = kafka.end_offsets(PRODUCER_TOPIC)
    started, cpu = time.monotonic(), children_cpu_s()
    res = kafka.tool(h, ["org.apache.kafka.tools.ProducerPerformance", "--topic", PRODUCER_TOPIC,
                         "--num-records", PRODUCER_ORDERS, "--payload-file", payloads, "--throughput", -1,
                         "--producer-props", f"bootstrap.servers={kafka.bootstrap}", "acks=all",
                         "enable.idempotence=true"], "producer-performance.log", 600)
    wall, cpu = time.monotonic() - started, children_cpu_s() - cpu
    m = None
    for m in re.finditer(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\)", res.stdout):
        pass
    if res.returncode != 0 or not m or int(m.group(1)) != PRODUCER_ORDERS:
        raise BenchError(f"ProducerPerformance printed no total: {(res.stdout + res.stderr).strip()[-400:]}")
    written = kafka.end_offsets(PRODUCER_TOPIC) - before
    return {"orders_per_s": float(m.group(2)), "mb_per_s": float(m.group(3)), "jvm_wall_s": wall,
            "written": written, "cpu_ms_per_k": 1000 * cpu / (PRODUCER_ORDERS / 1000)}


def run(h, kafka):
    kafka.create_topic(h, PRODUCER_TOPIC)
    systems = ["orderstream", "ProducerPerformance", "kcat"]
    runs = {s: [] for s in systems}
    records = payloads = avg_bytes = None
    for rep in range(h.reps):
        r = producer_orderstream(h, kafka, rep)
        if records is None:
            records, payloads, avg_bytes = producer_records_file(h, kafka, r["first_id"])
        r["mb_per_s"] = r["orders_per_s"] * avg_bytes / 1e6
        runs["orderstream"].append(r)
        print(f"  producer orderstream run {rep + 1}: {r['orders_per_s']:,.0f} orders/s "
              f"({r['mb_per_s']:.2f} MB/s), {r['delivered']:,} delivered, {r['written']:,} written", flush=True)
        r = producer_perf(h, kafka, payloads)
        runs["ProducerPerformance"].append(r)
        print(f"  producer ProducerPerformance run {rep + 1}: {r['orders_per_s']:,.0f} records/s "
              f"({r['mb_per_s']:.2f} MB/s), {r['written']:,} written", flush=True)
        r = producer_kcat(h, kafka, records, avg_bytes)
        runs["kcat"].append(r)
        print(f"  producer kcat run {rep + 1}: {r['orders_per_s']:,.0f} records/s ({r['mb_per_s']:.2f} MB/s), "
              f"{r['written']:,} written", flush=True)
    rows = [
        metric(f"orders/s ({PRODUCER_ORDERS:,} orders, acks=all, idempotent)", "higher", runs, "orders_per_s"),
        metric("MB/s (record values)", "higher", runs, "mb_per_s"),
        metric("the producer's own CPU per 1,000 orders (user + system, whole process), ms", "lower", runs,
               "cpu_ms_per_k"),
        metric("records written (end offsets after − before)", "higher", runs, "written"),
    ]
    med = {s: statistics.median(r["orders_per_s"] for r in runs[s]) for s in systems}
    goals = [
        goal("≥ 1.0× ProducerPerformance's orders/s", med["orderstream"] >= med["ProducerPerformance"],
             f"{med['orderstream']:,.0f} vs {med['ProducerPerformance']:,.0f}/s = "
             f"{med['orderstream'] / med['ProducerPerformance']:.2f}×"),
        goal("≥ 0.9× kcat's orders/s", med["orderstream"] >= 0.9 * med["kcat"],
             f"{med['orderstream']:,.0f} vs {med['kcat']:,.0f}/s = {med['orderstream'] / med['kcat']:.2f}×"),
        goal("every order delivered and written (orderstream, every run)",
             all(r["delivered"] == PRODUCER_ORDERS == r["written"] for r in runs["orderstream"]),
             ", ".join(f"{r['delivered']:,}/{r['written']:,}" for r in runs["orderstream"])),
    ]
    jvm = statistics.median(r["jvm_wall_s"] for r in runs["ProducerPerformance"])
    notes = [
        f"The local real cluster (deploy/kafka/cluster: Apache Kafka 4.4, 3 KRaft nodes, one JVM each, "
        f"on this same 2-CPU machine; up in {kafka.up_seconds:.0f} s), ports {KAFKA_PORTS}. One topic for "
        f"every run, `{PRODUCER_TOPIC}` (3 partitions, replication factor 3, min.insync.replicas 2), "
        "created once; the runs are interleaved (orderstream, ProducerPerformance, kcat, repeat).",
        f"orderstream: `orderstream produce {PRODUCER_ORDERS} 0` (no delay: as fast as it can; its "
        "own settings enable.idempotence=true, acks=all, linger.ms=5; it prints 3 lines per order "
        "and a delivery report line, to a file here). Orders/s = orders / wall time from exec until "
        "it exited after flush(); start-up and the final flush included. Delivered: its "
        "`Delivered order` lines.",
        f"The records: orderstream's own orders of its first run, {avg_bytes:.1f} bytes per value on "
        "average (keys: the order id). kcat sends exactly those (key TAB value, `-l` file), timed the "
        "same way (wall time of the process). ProducerPerformance sends the same values "
        "(`--payload-file`, picked at random, no key) and reports its own rate, measured from its first "
        f"send to the end of its flush, so its JVM start-up is left out (the JVM ran {jvm:.1f} s in all).",
        "All three are librdkafka or Kafka client defaults apart from acks=all and "
        "enable.idempotence=true (librdkafka: linger.ms 5, batch.size 1 MB; Java client: linger.ms 5, "
        "batch.size 16 KB).",
        "CPU per 1,000 orders: the process's user + system time from getrusage(RUSAGE_CHILDREN) "
        "around it, start-up included (for ProducerPerformance, the JVM's start-up and JIT too).",
        "Records written: the sum of the partitions' end offsets after the run minus before (kcat -Q).",
        f"Fewer orders than a long run would use ({PRODUCER_ORDERS:,}; BENCH_PRODUCER_ORDERS) to keep "
        "the whole suite under 20 minutes.",
    ]
    return {"title": "producer", "rows": rows, "goals": goals, "notes": notes, "runs": runs,
            "avg_value_bytes": avg_bytes}
