#!/usr/bin/env python3
"""deploy/docker-compose.yml and the Dockerfiles, checked in a second without building anything (the
`container` label builds and runs them): the compose file parses and describes the cluster the
README promises, and each Dockerfile builds in stages and runs as a non-root user.

    container_files_test.py SOURCE_DIR
"""
import re
import sys
from pathlib import Path

import yaml

source = Path(sys.argv[1])
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def interpolate(value):
    """${VAR:-default} and ${VAR:?error} as compose reads them with VAR unset (ORDERSTREAM_TOKEN aside)."""
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"\$\{(\w+)(?::-([^}]*))?(?::\?[^}]*)?\}", lambda m: m.group(2) if m.group(2) is not None else f"<{m.group(1)}>", value)
    return value


compose = interpolate(yaml.safe_load((source / "deploy/docker-compose.yml").read_text()))
services = compose.get("services", {})
kafka_version = re.search(r"<kafka.version>(.*)</kafka.version>", (source / "deploy/kafka/pom.xml").read_text()).group(1)
brokers = {name: s for name, s in services.items() if name.startswith("kafka") and name != "kafka-init"}
check(len(brokers) == 3, f"three Kafka brokers expected, found {sorted(brokers)}")

host_ports = set()
node_ids = set()
for name, broker in brokers.items():
    env = broker.get("environment", {})
    check(broker.get("image") == f"localhost/orderstream-kafka:{kafka_version}" and broker.get("build", {}).get("context") == "kafka",
          f"{name}: not the image deploy/kafka/Dockerfile builds for Kafka {kafka_version}: {broker.get('image')}")
    check(env.get("KAFKA_PROCESS_ROLES") == "broker,controller", f"{name}: not a combined KRaft node")
    check("ZOOKEEPER" not in " ".join(env), f"{name}: mentions ZooKeeper")
    check(str(env.get("KAFKA_DEFAULT_REPLICATION_FACTOR")) == "3", f"{name}: default replication is not 3")
    check(str(env.get("KAFKA_MIN_INSYNC_REPLICAS")) == "2", f"{name}: min ISR is not 2")
    check(str(env.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR")) == "3", f"{name}: offsets topic replication is not 3")
    check(len(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "").split(",")) == 3, f"{name}: the quorum is not three voters")
    node_ids.add(env.get("KAFKA_NODE_ID"))
    for port in broker.get("ports", []):
        address, _, host = str(port).rpartition(":")[0].rpartition(":")
        check(address == "127.0.0.1", f"{name}: Kafka without authentication is published beyond 127.0.0.1: {port}")
        host_ports.add(int(host))
        advertised = env.get("KAFKA_ADVERTISED_LISTENERS", "")
        check(f"localhost:{host}" in advertised, f"{name}: host port {host} is not advertised to host clients")
check(len(node_ids) == 3, f"node ids are not distinct: {node_ids}")
check(host_ports == {9092, 9093, 9094}, f"host ports are {sorted(host_ports)}, not 9092-9094")

init = services.get("kafka-init", {})
script = " ".join(init.get("command", []))
for topic in ("orders", "orders.dlq", "orders.acks"):
    check(re.search(rf"\b{re.escape(topic)}\b", script), f"kafka-init does not create {topic}")
check("--replication-factor 3" in script and "min.insync.replicas=2" in script,
      "kafka-init topics are not replication 3 with min ISR 2")

app = services.get("orderstream", {})
check(app.get("build", {}).get("dockerfile") == "Dockerfile", "orderstream is not built from the Dockerfile")
check((source / "deploy" / app.get("build", {}).get("context", "?") / "Dockerfile").resolve() == (source / "Dockerfile").resolve(),
      "the build context is not the repository root")
check("8080:8080" in [str(p) for p in app.get("ports", [])], "the dashboard is not on port 8080")
command = app.get("command", [])
servers = command[command.index("--bootstrap-servers") + 1] if "--bootstrap-servers" in command else ""
check(sorted(s.split(":")[0] for s in servers.split(",")) == sorted(brokers),
      f"orderstream is not pointed at the three brokers: {servers!r}")
check("ORDERSTREAM_TOKEN" in app.get("environment", {}), "listening on 0.0.0.0 needs ORDERSTREAM_TOKEN")
check(set(brokers) <= set(app.get("depends_on", {})), "orderstream does not wait for the brokers")

def check_dockerfile(path, build_only):
    """Multi-stage on Debian 12, a non-root runtime, and none of `build_only` in the runtime stage."""
    text = (source / path).read_text()
    instructions = [line.split(None, 1) for line in text.splitlines() if line and not line[0].isspace() and not line.startswith("#")]
    stages = [rest for word, *rest in instructions if word == "FROM"]
    check(len(stages) >= 2, f"{path} is not multi-stage")
    check(all(s and s[0].startswith("debian:12") for s in stages), f"{path}: not every stage is Debian 12: {stages}")
    users = [rest[0].strip() for word, *rest in instructions if word == "USER"]
    check(users and users[-1] not in ("root", "0"), f"{path}: the runtime image runs as {users[-1] if users else 'root'}")
    runtime = text[text.rindex("\nFROM "):]
    for word in build_only:
        check(word not in runtime, f"{path}: the runtime stage has {word!r}")
    return text, instructions


dockerfile, instructions = check_dockerfile("Dockerfile", ["COPY . ", "build-essential", "npm"])
check(any(word == "EXPOSE" and "8080" in rest[0] for word, *rest in instructions), "8080 is not exposed")
check(any(word == "HEALTHCHECK" for word, *rest in instructions), "no HEALTHCHECK")
check("npm ci --prefix web" in dockerfile, "the build stage does not install the page's chart library")
kafka_dockerfile, _ = check_dockerfile("deploy/kafka/Dockerfile", ["maven", "mvn", "extra-ca"])
check("COPY pom.xml" in kafka_dockerfile and "dependency:copy-dependencies" in kafka_dockerfile,
      "deploy/kafka/Dockerfile does not take its jars from deploy/kafka/pom.xml")

for failure in failures:
    print("FAIL:", failure)
print(f"{len(failures)} problem(s) in deploy/docker-compose.yml and the Dockerfiles")
sys.exit(1 if failures else 0)
