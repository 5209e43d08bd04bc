#!/usr/bin/env python3
"""The images and the compose stack, built and run for real with podman (label `container`).

    container_test.py images SOURCE_DIR    builds both (deploy/podman/images)
    container_test.py image SOURCE_DIR     the orderstream image alone, on its embedded cluster
    container_test.py compose SOURCE_DIR   deploy/docker-compose.yml whole under podman-compose

The last two need the images the first builds. All need root, as rootful podman. Each removes what it started, also on failure, and fails if podman-compose
left anything of its project behind.
"""
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

SKIP = 77  # CTest's SKIP_RETURN_CODE for this test
# Each test's whole budget for its steps; CTest's TIMEOUT leaves 2 minutes more, for the clean-up.
BUDGET_SECONDS = {"images": 1680, "image": 240, "compose": 780}
ORDER_LINE = re.compile(r"^\[(shipping|email|analytics)\] order (\d+)\b")
DELIVERED_LINE = re.compile(r"^Delivered order (\d+) to orders ")
GROUPS = {"shipping": "shipping-group", "email": "email-group", "analytics": "analytics-group"}


class Failure(Exception):
    pass


deadline = None  # set by main() from BUDGET_SECONDS


def bounded(timeout):
    """`timeout`, cut to what is left of the test's budget."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise Failure("the test ran out of its budget")
    return min(timeout, left)


def log(message):
    print(f"[container] {message}", flush=True)


def signal_group(child, signum):
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        pass


def run_group(args, timeout, **popen):
    """subprocess.run in a process group of its own, stopped whole on a timeout or an interrupt
    (SIGTERM, then SIGKILL after 5 s): a `podman build` or `podman-compose` it started does not
    run on. (conmon starts a session of its own; `down` and remove_project deal with containers.)"""
    with subprocess.Popen(args, start_new_session=True, **popen) as child:
        try:
            out, err = child.communicate(timeout=timeout)
        except BaseException:
            signal_group(child, signal.SIGTERM)
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                signal_group(child, signal.SIGKILL)
                child.wait()
            raise  # the pipes are closed on leaving `with`, whoever else still holds them
    return subprocess.CompletedProcess(args, child.returncode, out, err)


def run(*args, timeout=120, check=True, env=None, cleanup=False):
    """Runs a command; only clean-up steps (at most 30 s each) may outlast the test's budget."""
    result = run_group(args, min(timeout, 30) if cleanup else bounded(timeout),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if check and result.returncode != 0:
        raise Failure(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, condition, timeout, interval=1.0):
    """Returns condition()'s first truthy value; raises Failure naming `what` after `timeout` s."""
    started = time.monotonic()
    until = started + bounded(timeout)
    last_error = None
    while time.monotonic() < until:
        try:
            value = condition()
            if value:
                return value
        except (OSError, urllib.error.URLError, ValueError, Failure) as e:
            last_error = e
        time.sleep(interval)
    raise Failure(f"timed out after {time.monotonic() - started:.0f} s waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


class Api:
    def __init__(self, port, token):
        self.base = f"http://127.0.0.1:{port}"
        self.token = token

    def get(self, path, auth=True):
        request = urllib.request.Request(self.base + path)
        if auth:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=bounded(10)) as response:
            return response.status, response.headers, response.read()

    def json(self, path):
        return json.loads(self.get(path)[2])

    def post(self, path):
        request = urllib.request.Request(self.base + path, data=b"", method="POST")
        request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=bounded(30)) as response:
            return json.loads(response.read())


class Ledger:
    """Every line of every terminal since the daemon started, read with ?since= (the consumers' own
    output is the source of truth that the dashboard's figures are checked against)."""

    def __init__(self, api):
        self.api = api
        self.seq = 0
        self.lines = {}
        self.missed = set()  # terminals whose ring dropped lines before the ledger read them

    def poll(self):
        answer = self.api.json(f"/api/outputs?since={self.seq}")
        self.seq = answer["seq"]
        self.missed.update(answer["missed"])
        for terminal, lines in answer["terminals"].items():
            self.lines.setdefault(terminal, []).extend(entry["line"] for entry in lines)

    def delivered(self):
        return {int(m.group(1)) for line in self.lines.get("producer", []) if (m := DELIVERED_LINE.match(line))}

    def processed(self, terminal):
        """Order id -> how many times the consumer printed it."""
        counts = {}
        for line in self.lines.get(terminal, []):
            m = ORDER_LINE.match(line)
            if m and m.group(1) == terminal:
                counts[int(m.group(2))] = counts.get(int(m.group(2)), 0) + 1
        return counts

    def wait_for_orders(self, minimum, timeout):
        def enough():
            self.poll()
            return all(len(self.processed(t)) >= minimum for t in GROUPS)
        wait_for(f"{minimum} orders in each consumer terminal", enough, timeout)


def podman_env(source):
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(source / "deploy/podman/containers.conf"))
    return env


def check_health(container, env, timeout):
    """Health checks run only when called without systemd: call the image's or the service's own."""
    wait_for(f"the health check of {container} to pass",
             lambda: run("podman", "healthcheck", "run", container, check=False, env=env).returncode == 0, timeout, 2)


def test_image(source):
    env = podman_env(source)
    image = "localhost/orderstream:latest"
    name = "orderstream-image-test"
    run("podman", "rm", "--force", "--time", "5", name, check=False, env=env, cleanup=True)  # a killed run's
    port, token = free_port(), secrets.token_hex(16)
    # No compiler or build tool in the runtime image.
    found = run("podman", "run", "--rm", "--entrypoint", "sh", image, "-c",
                "for tool in cc gcc g++ c++ clang ld make cmake ninja; do command -v $tool; done; true", env=env).stdout.split()
    if found:
        raise Failure(f"the runtime image holds build tools: {found}")
    try:
        run("podman", "run", "-d", "--name", name, "--init", "-p", f"127.0.0.1:{port}:8080",
            "-e", f"ORDERSTREAM_TOKEN={token}", image, env=env)
        api = Api(port, token)
        wait_for("/healthz on the published port", lambda: api.get("/healthz", auth=False)[0] == 200, 60)
        check_health(name, env, 60)
        status, headers, body = api.get("/", auth=False)
        if status != 200 or "text/html" not in headers.get("Content-Type", "") or b"orderstream" not in body.lower():
            raise Failure(f"the page is not served: {status} {headers.get('Content-Type')}")
        ledger = Ledger(api)
        ledger.wait_for_orders(5, 90)
        users = set(run("podman", "top", name, "user", env=env).stdout.split()[1:])
        if not users or users & {"root", "0"}:
            raise Failure(f"processes in the container run as {sorted(users)}, not only a non-root user")
        embedded = api.json("/api/cluster")
        if not embedded.get("embedded") or not embedded.get("reachable"):
            raise Failure(f"not on the embedded cluster: {embedded}")
        log(f"image: dashboard on 127.0.0.1:{port}, health check passed, runs as {sorted(users)}, "
            + ", ".join(f"{t} {len(ledger.processed(t))} orders" for t in GROUPS))
    finally:
        run("podman", "rm", "--force", "--time", "5", name, check=False, env=env, cleanup=True)


def project_leftovers(project, env):
    label = f"label=io.podman.compose.project={project}"
    left = {
        "containers": run("podman", "ps", "--all", "--quiet", "--filter", label, env=env, cleanup=True).stdout.split(),
        "volumes": run("podman", "volume", "ls", "--quiet", "--filter", label, env=env, cleanup=True).stdout.split(),
        "networks": run("podman", "network", "ls", "--quiet", "--filter", label, env=env, cleanup=True).stdout.split(),
    }
    return {kind: ids for kind, ids in left.items() if ids}


def remove_project(project, env):
    left = project_leftovers(project, env)
    for container in left.get("containers", []):
        run("podman", "rm", "--force", "--volumes", container, check=False, env=env, cleanup=True)
    for volume in left.get("volumes", []):
        run("podman", "volume", "rm", "--force", volume, check=False, env=env, cleanup=True)
    for network in set(left.get("networks", [])) | {f"{project}_default"}:
        run("podman", "network", "rm", "--force", network, check=False, env=env, cleanup=True)


def run_state(api, name):
    return next((p["state"] for p in api.json("/api/processes") if p["name"] == name), None)


def group_figures(api):
    return {g["group"]: g for g in api.json("/api/groups")}


def test_compose(source):
    project = "orderstream-container-test"
    env = podman_env(source)
    remove_project(project, env)  # what a killed earlier run left
    env.update({
        "ORDERSTREAM_TOKEN": secrets.token_hex(16),
        "ORDERSTREAM_PORT": str(free_port()),
        "ORDERSTREAM_KAFKA1_PORT": str(free_port()),
        "ORDERSTREAM_KAFKA2_PORT": str(free_port()),
        "ORDERSTREAM_KAFKA3_PORT": str(free_port()),
    })
    compose = ["podman-compose", "--project-name", project, "--file", str(source / "deploy/docker-compose.yml")]
    api = Api(env["ORDERSTREAM_PORT"], env["ORDERSTREAM_TOKEN"])
    torn_down = False
    try:
        started = time.monotonic()
        run(*compose, "up", "--detach", "--no-build", env=env, timeout=300)
        wait_for("the dashboard on the published port", lambda: api.get("/healthz", auth=False)[0] == 200, 120)
        ledger = Ledger(api)
        ledger.wait_for_orders(10, 240)
        log(f"compose: orders in all three consumer terminals {time.monotonic() - started:.0f} s after `up`")
        for service in ("kafka1", "kafka2", "kafka3", "orderstream"):
            check_health(f"{project}_{service}_1", env, 60)
        for service, user in (("kafka1", "appuser"), ("orderstream", "orderstream")):
            users = set(run("podman", "top", f"{project}_{service}_1", "user", env=env).stdout.split()[1:])
            if users != {user}:
                raise Failure(f"{service} runs as {sorted(users)}, not only {user}")

        cluster = api.json("/api/cluster")
        topics = {t["name"]: t for t in cluster["topics"]}
        for name in ("orders", "orders.dlq", "orders.acks"):
            topic = topics.get(name)
            if topic is None or not topic["partitions"] or any(len(p["replicas"]) != 3 for p in topic["partitions"]):
                raise Failure(f"`{name}` does not have 3 replicas on every partition: {topic}")
        orders = topics["orders"]
        if sorted(b["id"] for b in cluster["brokers"] if b["up"]) != [1, 2, 3]:
            raise Failure(f"not all three brokers are up: {cluster['brokers']}")

        # Take down the broker leading partition 0: orders must keep flowing on the other two.
        leader = next(p["leader"] for p in orders["partitions"] if p["partition"] == 0)
        ledger.poll()
        before = {t: len(ledger.processed(t)) for t in GROUPS}
        run("podman", "stop", "--time", "10", f"{project}_kafka{leader}_1", env=env)
        log(f"compose: stopped kafka{leader} with {before} orders processed")
        wait_for(f"the dashboard to see kafka{leader} down",
                 lambda: any(b["id"] == leader and not b["up"] for b in api.json("/api/cluster")["brokers"]), 60)
        ledger.wait_for_orders(max(before.values()) + 20, 180)

        # Stop the storefront, let every group catch up, and compare the ledger with the dashboard.
        api.post("/api/processes/producer/stop")
        wait_for("the producer to stop", lambda: run_state(api, "producer") == "STOPPED", 60)
        ledger.poll()
        delivered = ledger.delivered()

        def caught_up():
            ledger.poll()
            figures = group_figures(api)
            return all(set(ledger.processed(t)) >= delivered and figures[g]["lag"] == 0
                       and figures[g]["processed"] == len(ledger.processed(t)) for t, g in GROUPS.items()) and figures
        figures = wait_for("every group to process every delivered order, as the dashboard counts them", caught_up, 120)
        if ledger.missed:
            raise Failure(f"the rings of {sorted(ledger.missed)} dropped lines before the ledger read them")
        for terminal, group in GROUPS.items():
            processed = ledger.processed(terminal)
            again = sum(n - 1 for n in processed.values())
            g = figures[group]
            if g["lost"] != 0 or g["duplicates"] > again:
                raise Failure(f"{group}: lost {g['lost']}, duplicates {g['duplicates']} (the ledger shows {again})")
            log(f"compose: {group}: processed {g['processed']} (ledger {len(processed)}), lost {g['lost']}, "
                f"duplicates {g['duplicates']} (ledger {again}); delivered {len(delivered)}")

        run(*compose, "down", "--volumes", "--timeout", "10", env=env, timeout=300)
        # podman-compose 1.0.3 leaves the project's network behind (`docker compose down` does not).
        run("podman", "network", "rm", f"{project}_default", check=False, env=env)
        torn_down = True
        left = project_leftovers(project, env)
        if left:
            raise Failure(f"left behind after `down`: {left}")
        log(f"compose: torn down, nothing of {project} left; {time.monotonic() - started:.0f} s in all")
    finally:
        if not torn_down:
            for service in ("kafka-init", "orderstream"):
                try:
                    logs = run("podman", "logs", "--tail", "30", f"{project}_{service}_1", check=False, env=env,
                               cleanup=True, timeout=15)
                    log(f"last lines of {service}:\n{logs.stdout}{logs.stderr}")
                except subprocess.TimeoutExpired:
                    log(f"no logs of {service} within 15 s")
        remove_project(project, env)


def build_images(source):
    started = time.monotonic()
    result = run_group([str(source / "deploy/podman/images")], bounded(1680), env=podman_env(source))
    if result.returncode != 0:
        raise Failure(f"deploy/podman/images exited {result.returncode}")
    log(f"images: both built in {time.monotonic() - started:.0f} s")


def main():
    tests = {"images": build_images, "image": test_image, "compose": test_compose}
    if len(sys.argv) != 3 or sys.argv[1] not in tests:
        print(__doc__, file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        log("skipped: rootful podman needs root (run the `container` label as root)")
        return SKIP
    source = Path(sys.argv[2]).resolve()
    global deadline
    deadline = time.monotonic() + BUDGET_SECONDS[sys.argv[1]]
    try:
        tests[sys.argv[1]](source)
    except (Failure, subprocess.TimeoutExpired) as e:
        log(f"FAILED: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
