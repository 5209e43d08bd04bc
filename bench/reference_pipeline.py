#!/usr/bin/env python3
"""The seed's design in Python: a producer and three consumers (shipping, email, analytics) written
the way the original scripts were, on python3-confluent-kafka from Debian; the Python reference of
`bench/run knee`.

  reference_pipeline.py run --bootstrap-servers LIST [--topic T] [--rate 100] [--seconds 20]
                            [--warmup 8] [--create-topic] [--group-prefix P] [--log-dir DIR]
  reference_pipeline.py produce ...        one producer (what `run` starts)
  reference_pipeline.py consume GROUP ...  one consumer (what `run` starts, once per group)

`run` creates the topic when asked (3 partitions, replication 3, min.insync.replicas 2), starts the
three consumers, starts the producer once each has its partitions, lets it send RATE orders/s for
WARMUP + SECONDS + 3 s, waits (at most 30 s) until every consumer has seen every delivered order,
stops them and prints one JSON line {"reference_pipeline": {...}}: per group p50/p99/p99.9 of the
delay (processing wall time minus the record's CreateTime, ms) over the orders created in the
window [first order + WARMUP, + SECONDS), and the rate reached in that window. Every wait is bounded (--timeout in all);
the children are stopped on the way out, on failure and on Ctrl-C or SIGTERM alike.
"""
import argparse
import ctypes
import datetime
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

GROUPS = ("shipping-group", "email-group", "analytics-group")
USERS = ["alice_smith", "bob_jones", "carol_white", "dave_brown", "eve_adams", "frank_miller",
         "grace_lee", "henry_wilson"]
CATALOG = {"Wireless Mouse": 24.99, "USB-C Cable": 17.99, "Mechanical Keyboard": 89.99,
           "27\" Monitor": 229.00, "Laptop Stand": 39.50, "Webcam HD": 59.99, "Headphones": 79.00,
           "Desk Lamp": 32.25}
JOIN_TIMEOUT = 60      # s for the three consumers to get their partitions
DRAIN_TIMEOUT = 30     # s after the producer's flush for the consumers to see every order
STOP_GRACE = 10        # s after SIGTERM before SIGKILL
PROGRESS_INTERVAL = 0.5


class Stop(Exception):
    """SIGTERM, SIGHUP or SIGINT: stop what was started and leave."""


def on_signal(signum, _frame):
    raise Stop(f"signal {signum}")


def write_json(path, value):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def die_with_parent():
    """In a child of `run`: SIGKILL when `run` dies, even by SIGKILL (Linux; best effort)."""
    parent = os.environ.get("REFERENCE_PIPELINE_PARENT")
    if not parent:
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):  # `run` died before the signal was armed
        sys.exit(1)


# ---------------------------------------------------------------------------------------------
# produce: the storefront script.

def produce_main(args):
    die_with_parent()
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": args.bootstrap_servers})
    delivered = {}  # order id -> the record's CreateTime (ms)
    failed = 0

    def delivery_report(err, msg):
        nonlocal failed
        if err is not None:
            failed += 1
            print(f"Delivery failed for order {msg.key().decode()}: {err}")
        else:
            delivered[int(msg.key())] = msg.timestamp()[1]
            print(f"Delivered order {msg.key().decode()} to {msg.topic()} [{msg.partition()}] "
                  f"at offset {msg.offset()}")

    rng = random.Random(args.seed)
    count = int(round(args.rate * args.seconds))
    order_id = args.first_order_id
    print(f"Producer started: topic {args.topic}, {count} orders at {args.rate:g}/s")
    started = time.monotonic()
    sent = 0
    try:
        for i in range(count):
            items = rng.sample(sorted(CATALOG), rng.randint(1, 4))
            order = {"order_id": order_id, "user": rng.choice(USERS),
                     "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
                     "items": items, "total": round(sum(CATALOG[item] for item in items), 2),
                     "status": "pending"}
            print(f"Order #{order_id} from {order['user']}")
            print(f"  Items: {', '.join(items)}")
            print(f"  Total: ${order['total']:.2f}")
            while True:
                try:
                    producer.produce(args.topic, key=str(order_id), value=json.dumps(order),
                                     callback=delivery_report)
                    break
                except BufferError:  # the local queue is full: serve reports, then again
                    producer.poll(0.1)
            producer.poll(0)
            sent += 1
            order_id += 1
            # Paced by schedule, as orderstream's producer is, so both send at the rate asked.
            wait = started + (i + 1) / args.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
    except (Stop, KeyboardInterrupt):
        print("Producer interrupted")
    finally:
        left = producer.flush(args.flush_timeout)
        print(f"Producer stopped: {len(delivered)} delivered, {failed} failed, {left} undelivered")
        if args.stats:
            write_json(args.stats, {"sent": sent, "failed": failed, "undelivered": left,
                                    "seconds": time.monotonic() - started,
                                    "delivered": sorted(delivered.items())})
    return 0 if failed == 0 and left == 0 else 1


# ---------------------------------------------------------------------------------------------
# consume: one department's script.

def department_block(group, order):
    if group.endswith("shipping-group"):
        return (f"[shipping] order {order['order_id']} for {order['user']}: pack "
                f"{len(order['items'])} items ({', '.join(order['items'])})\n"
                f"  shipping label printed for {order['user']}")
    if group.endswith("email-group"):
        return (f"[email] order {order['order_id']}: confirmation to {order['user']}@example.com\n"
                f"  subject: Your order of ${order['total']:.2f} is on its way")
    return (f"[analytics] order {order['order_id']}: revenue +${order['total']:.2f}, "
            f"{len(order['items'])} items\n  top item: {order['items'][0]}")


def consume_main(args):
    die_with_parent()
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": args.bootstrap_servers, "group.id": args.group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": True,
                         "auto.commit.interval.ms": 1000, "session.timeout.ms": 6000})
    consumer.subscribe([args.topic])
    seen = {}  # (order id, CreateTime ms) -> processing wall time (ms), the first time
    received = duplicates = errors = 0
    next_progress = 0.0
    print(f"Consumer {args.group} waiting for orders on {args.topic}")
    try:
        while True:
            msg = consumer.poll(1.0)
            if args.progress and time.monotonic() >= next_progress:
                write_json(args.progress, {"assigned": len(consumer.assignment()), "seen": len(seen)})
                next_progress = time.monotonic() + PROGRESS_INTERVAL
            if msg is None:
                continue
            if msg.error():
                errors += 1
                print(f"Consumer error: {msg.error()}")
                continue
            received += 1
            try:
                order = json.loads(msg.value())
                block = department_block(args.group, order)
            except (ValueError, TypeError, KeyError, IndexError) as e:
                errors += 1
                print(f"Message #{received} at offset {msg.offset()} is not an order: {e}")
                continue
            print(f"Message #{received} received from partition {msg.partition()} at offset {msg.offset()}")
            print(block)
            processed_ms = int(time.time() * 1000)
            key = (order["order_id"], msg.timestamp()[1])
            if key in seen:
                duplicates += 1
            else:
                seen[key] = processed_ms
    except (Stop, KeyboardInterrupt):
        pass
    finally:
        consumer.close()
        print(f"Consumer {args.group} stopped: {received} received, {duplicates} duplicates, {errors} errors")
        if args.out:
            write_json(args.out, {"group": args.group, "received": received, "duplicates": duplicates,
                                  "errors": errors,
                                  "processed": [[oid, created, done] for (oid, created), done in seen.items()]})
    return 0


# ---------------------------------------------------------------------------------------------
# run: the three consumers and the producer, measured.

def percentile(values, q):
    """Nearest rank, as bench/pipeline_runs.py computes it."""
    s = sorted(values)
    if not s:
        return None
    return s[min(len(s) - 1, max(0, int(round(q * len(s) + 0.5)) - 1))]


def create_topic(bootstrap, topic, timeout):
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = NewTopic(topic, num_partitions=3, replication_factor=3, config={"min.insync.replicas": "2"})
    try:
        admin.create_topics([new], operation_timeout=timeout)[topic].result(timeout)
    except KafkaException as e:
        if "TOPIC_ALREADY_EXISTS" not in str(e):
            raise RuntimeError(f"could not create topic {topic}: {e}")




class Children:
    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.procs = []
        # The children's stdout goes to files, block-buffered whatever the caller's environment says.
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        self.env["REFERENCE_PIPELINE_PARENT"] = str(os.getpid())

    def start(self, name, argv):
        with open(os.path.join(self.log_dir, f"{name}.log"), "ab") as log:
            proc = subprocess.Popen([sys.executable, os.path.abspath(__file__)] + argv, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env)
        self.procs.append((name, proc))
        return proc

    def check(self, allowed=()):
        for name, proc in self.procs:
            if name not in allowed and proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} (see {self.log_dir}/{name}.log)")

    def stop(self, names=None):
        chosen = [(n, p) for n, p in self.procs if names is None or n in names]
        for _, proc in chosen:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for _, proc in chosen:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for(what, predicate, deadline, children, allowed=()):
    while time.monotonic() < deadline:
        children.check(allowed)
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"{what}: not in time")


def measure(delivered, consumers, warmup, seconds):
    """The window's figures from the producer's (id, CreateTime) pairs and each group's records."""
    created = dict(delivered)
    first = min(created.values())
    w0, w1 = first + warmup * 1000, first + (warmup + seconds) * 1000
    window = sorted((t, oid) for oid, t in created.items() if w0 <= t < w1)
    times = [t for t, _ in window]
    rate = len(times) / ((times[-1] - times[0]) / 1000) if len(times) > 1 and times[-1] > times[0] else 0.0
    span = max(created.values()) - first
    result = {"rate_reached": rate, "overall_rate": len(created) / (span / 1000) if span > 0 else 0.0,
              "window_orders": len(window), "window_ms": [w0, w1], "groups": {}}
    quarter = (w1 - w0) / 4
    for group, data in consumers.items():
        done = {(oid, t): ms for oid, t, ms in data["processed"]}
        delays, by_quarter = [], [[] for _ in range(4)]
        for t, oid in window:
            ms = done.get((oid, t))
            if ms is not None:
                delays.append(ms - t)
                by_quarter[min(3, int((t - w0) // quarter))].append(ms - t)
        result["groups"][group] = {
            "p50": percentile(delays, 0.50), "p99": percentile(delays, 0.99),
            "p999": percentile(delays, 0.999), "max": max(delays) if delays else None,
            "count": len(delays), "missing": len(window) - len(delays),
            "duplicates": data["duplicates"], "errors": data["errors"],
            "p99_quarters": [percentile(q, 0.99) for q in by_quarter]}
    return result


def run_main(args):
    deadline = time.monotonic() + args.timeout
    log_dir = args.log_dir or tempfile.mkdtemp(prefix="reference-pipeline.")
    os.makedirs(log_dir, exist_ok=True)
    common = ["--bootstrap-servers", args.bootstrap_servers, "--topic", args.topic]
    children = Children(log_dir)
    try:
        if args.create_topic:
            create_topic(args.bootstrap_servers, args.topic, 30)
        groups = [args.group_prefix + g for g in GROUPS]
        files = {g: (os.path.join(log_dir, f"{g}.progress"), os.path.join(log_dir, f"{g}.json")) for g in groups}
        for g in groups:
            for path in files[g]:
                if os.path.exists(path):
                    os.remove(path)
            children.start(g, ["consume", g, *common, "--progress", files[g][0], "--out", files[g][1]])

        def progress():
            return {g: read_json(files[g][0]) or {} for g in groups}

        wait_for("the consumers' partition assignment",
                 lambda: all(p.get("assigned", 0) > 0 for p in progress().values()),
                 min(deadline, time.monotonic() + JOIN_TIMEOUT), children)
        seen_before = {g: p.get("seen", 0) for g, p in progress().items()}

        stats = os.path.join(log_dir, "producer.json")
        if os.path.exists(stats):
            os.remove(stats)
        producer = children.start("producer", ["produce", *common, "--rate", str(args.rate), "--seconds",
                                               str(args.warmup + args.seconds + 3), "--first-order-id",
                                               str(args.first_order_id), "--stats", stats])
        wait_for("the producer", lambda: producer.poll() is not None, deadline, children, allowed=("producer",))
        sent = read_json(stats)
        if sent is None or not sent["delivered"]:
            raise RuntimeError(f"the producer delivered nothing (exit {producer.returncode}; "
                               f"see {log_dir}/producer.log)")
        target = len(sent["delivered"])
        try:
            wait_for("every consumer seeing every order",
                     lambda: all(p.get("seen", 0) - seen_before[g] >= target for g, p in progress().items()),
                     min(deadline, time.monotonic() + DRAIN_TIMEOUT), children, allowed=("producer",))
            drained = True
        except TimeoutError:  # a consumer too far behind: what it missed counts as missing
            drained = False
        children.stop(groups)
        consumers = {}
        for g in groups:
            data = read_json(files[g][1])
            if data is None:
                raise RuntimeError(f"{g} wrote no results (see {log_dir}/{g}.log)")
            consumers[g] = data
        result = {"topic": args.topic, "rate_asked": args.rate, "seconds": args.seconds,
                  "warmup": args.warmup, "sent": sent["sent"], "delivered": target,
                  "failed": sent["failed"], "undelivered": sent["undelivered"], "drained": drained,
                  **measure(sent["delivered"], consumers, args.warmup, args.seconds)}
        for g, r in result["groups"].items():
            print(f"{g}: p50 {r['p50']} ms, p99 {r['p99']} ms, p99.9 {r['p999']} ms "
                  f"({r['count']} orders, {r['missing']} missing)", file=sys.stderr)
        print(json.dumps({"reference_pipeline": result}), flush=True)
        return 0
    except (RuntimeError, OSError) as e:
        print(f"reference_pipeline: {e}", file=sys.stderr)
        return 1
    except (Stop, KeyboardInterrupt) as e:
        print(f"reference_pipeline: stopped ({e})", file=sys.stderr)
        return 130
    finally:
        children.stop()


def main():
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--bootstrap-servers", default=os.environ.get("ORDERSTREAM_BOOTSTRAP_SERVERS",
                                                                     "localhost:9092"))
        p.add_argument("--topic", default="orders")

    run = sub.add_parser("run", help="three consumers and the producer, measured")
    common(run)
    run.add_argument("--rate", type=float, default=100.0, help="orders per second")
    run.add_argument("--seconds", type=float, default=20.0, help="the measured window")
    run.add_argument("--warmup", type=float, default=8.0, help="orders before the window")
    run.add_argument("--first-order-id", type=int, default=1001)
    run.add_argument("--create-topic", action="store_true")
    run.add_argument("--group-prefix", default="", help="before shipping-group, email-group, analytics-group")
    run.add_argument("--log-dir", help="the children's output and files (default: a new temporary folder)")
    run.add_argument("--timeout", type=float, help="for everything (default: warmup + seconds + 150)")
    produce = sub.add_parser("produce", help="the storefront")
    common(produce)
    produce.add_argument("--rate", type=float, default=1.0)
    produce.add_argument("--seconds", type=float, default=10.0)
    produce.add_argument("--first-order-id", type=int, default=1001)
    produce.add_argument("--seed", type=int)
    produce.add_argument("--flush-timeout", type=float, default=30.0)
    produce.add_argument("--stats", help="write what was delivered here (JSON) on exit")
    consume = sub.add_parser("consume", help="one department")
    consume.add_argument("group")
    common(consume)
    consume.add_argument("--progress", help="write {assigned, seen} here twice a second")
    consume.add_argument("--out", help="write every order's times here (JSON) on exit")
    args = parser.parse_args()
    if args.command == "run":
        if args.rate <= 0 or args.seconds <= 0 or args.warmup < 0:
            parser.error("--rate and --seconds must be positive, --warmup not negative")
        if args.timeout is None:
            args.timeout = args.warmup + args.seconds + 150
        signal.signal(signal.SIGINT, on_signal)
        return run_main(args)
    if args.command == "produce":
        if args.rate <= 0:
            parser.error("--rate must be positive")
        return produce_main(args)
    return consume_main(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (Stop, KeyboardInterrupt):
        sys.exit(130)
