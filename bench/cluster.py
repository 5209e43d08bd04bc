"""The real 3-broker cluster for the Kafka benchmarks, driven only through deploy/kafka/cluster:
ports and a run directory of its own, brought up once per suite and always brought down."""
import os
import re
import shlex
import socket
import subprocess
import time

from harness import BenchError, ROOT


CLUSTER = os.path.join(ROOT, "deploy", "kafka", "cluster")
KAFKA_PORTS = os.environ.get("BENCH_KAFKA_PORTS", "29092 29093 29094")
# Below the ephemeral range (32768-60999): cluster's default, client port + 10000, lies inside it,
# where an outgoing connection of anything on the machine can hold it.
KAFKA_CONTROLLER_PORTS = os.environ.get("BENCH_KAFKA_CONTROLLER_PORTS", "29192 29193 29194")
KAFKA_UP_TIMEOUT = 300
GROUPS = ("shipping-group", "email-group", "analytics-group")


class KafkaCluster:
    def __init__(self, work):
        self.env = dict(os.environ, ORDERSTREAM_KAFKA_PORTS=KAFKA_PORTS,
                        ORDERSTREAM_KAFKA_CONTROLLER_PORTS=KAFKA_CONTROLLER_PORTS,
                        ORDERSTREAM_KAFKA_RUN_DIR=os.environ.get("BENCH_KAFKA_RUN_DIR",
                                                                 os.path.join(work, "kafka")))
        self.work = work
        os.makedirs(os.path.join(work, "logs"), exist_ok=True)
        self.bootstrap = None
        self.up_seconds = None
        self.warmed_up = None  # what the warm-up did, for the notes of every Kafka benchmark
        self.warm_up_commands = []

    def run(self, args, timeout, log=None):
        res = subprocess.run([CLUSTER] + args, env=self.env, capture_output=True, text=True,
                             timeout=timeout, stdin=subprocess.DEVNULL)
        if log:
            with open(log, "a") as f:
                f.write(f"$ cluster {' '.join(args)}\n{res.stdout}{res.stderr}\n")
        return res

    def up(self):
        for port in (KAFKA_PORTS + " " + KAFKA_CONTROLLER_PORTS).split():
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Kafka binds
                try:
                    s.bind(("127.0.0.1", int(port)))
                except OSError:
                    raise BenchError(f"port {port} is taken: set BENCH_KAFKA_PORTS and "
                                     "BENCH_KAFKA_CONTROLLER_PORTS to free ports")
        # Written before `up`, so that bench/run's trap can bring it down if this process is killed.
        with open(os.path.join(self.work, "kafka-cluster.env"), "w") as f:
            f.write(f"ORDERSTREAM_KAFKA_PORTS={shlex.quote(self.env['ORDERSTREAM_KAFKA_PORTS'])}\n"
                    f"ORDERSTREAM_KAFKA_CONTROLLER_PORTS={shlex.quote(KAFKA_CONTROLLER_PORTS)}\n"
                    f"ORDERSTREAM_KAFKA_RUN_DIR={shlex.quote(self.env['ORDERSTREAM_KAFKA_RUN_DIR'])}\n")
        started = time.monotonic()
        print(f"  starting the 3-broker cluster on ports {KAFKA_PORTS} (controllers {KAFKA_CONTROLLER_PORTS})",
              flush=True)
        try:
            res = self.run(["up"], KAFKA_UP_TIMEOUT, os.path.join(self.work, "logs", "kafka-cluster.log"))
        except subprocess.TimeoutExpired:
            raise BenchError(f"deploy/kafka/cluster up took over {KAFKA_UP_TIMEOUT} s")
        if res.returncode != 0:
            raise BenchError(f"deploy/kafka/cluster up failed: {res.stderr.strip()[-600:]}")
        self.up_seconds = time.monotonic() - started
        self.bootstrap = self.run(["bootstrap"], 30).stdout.strip()

    def down(self):
        try:
            self.run(["down"], 120, os.path.join(self.work, "logs", "kafka-cluster.log"))
        except subprocess.TimeoutExpired:
            print("  deploy/kafka/cluster down timed out", flush=True)

    def tool(self, h, args, log_name, timeout):
        """A Kafka main class on the cluster's classpath (deploy/kafka/cluster tool ...)."""
        h.note(["deploy/kafka/cluster", "tool"] + args)
        res = subprocess.run([CLUSTER, "tool"] + [str(a) for a in args], env=self.env, capture_output=True,
                             text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        with open(h.path("logs", log_name), "a") as f:
            f.write(f"$ tool {' '.join(map(str, args))}\n{res.stdout}{res.stderr}\n")
        return res

    def create_topic(self, h, topic, partitions=3):
        res = self.tool(h, ["org.apache.kafka.tools.TopicCommand", "--bootstrap-server", self.bootstrap,
                            "--create", "--if-not-exists", "--topic", topic, "--partitions", partitions,
                            "--replication-factor", 3, "--config", "min.insync.replicas=2"],
                        "kafka-topics.log", 120)
        if res.returncode != 0:
            raise BenchError(f"creating topic {topic} failed: {(res.stdout + res.stderr).strip()[-400:]}")

    def end_offsets(self, topic):
        """The sum of the partitions' end offsets (records written so far; kcat -Q, timestamp -1)."""
        listing = subprocess.run(["kcat", "-L", "-b", self.bootstrap, "-t", topic], capture_output=True,
                                 text=True, timeout=60).stdout
        partitions = len(re.findall(r"^\s+partition \d+,", listing, re.M))
        if not partitions:
            raise BenchError(f"kcat -L lists no partitions of {topic}: {listing[-300:]}")
        argv = ["kcat", "-Q", "-b", self.bootstrap] + sum((["-t", f"{topic}:{p}:-1"] for p in range(partitions)), [])
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout
        offsets = [int(x) for x in re.findall(r"\[\d+\] offset (-?\d+)", out)]
        if len(offsets) != partitions:
            raise BenchError(f"kcat -Q printed no offsets for {topic}: {out[-300:]}")
        return sum(offsets)


def kcat_dump(bootstrap, topic, fmt, path, timeout=180, start="beginning"):
    """Every record of topic (or those from `start`, a time in ms, on), one line each in kcat's -f
    format, to path."""
    offset = start if start == "beginning" else f"s@{int(start)}"
    with open(path, "w") as f:
        res = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", offset, "-e", "-q",
                              "-f", fmt], stdout=f, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if res.returncode != 0:
        raise BenchError(f"kcat could not read {topic}: {res.stderr.strip()[-300:]}")
