"""The harness every benchmark shares: processes started in sessions of their own and stopped on the
way out, HTTP clients, waits on conditions, and the supervisors under test started the same way
for every benchmark (orderstream, supervisord, the Python reference monitor)."""
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time



BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
# Where RESULTS.md and results/ go: bench/ itself unless BENCH_OUT names another folder (a trial run).
OUT_DIR = os.path.abspath(os.environ.get("BENCH_OUT") or BENCH_DIR)
RESULTS_DIR = os.path.join(OUT_DIR, "results")
DAEMON = os.environ.get("ORDERSTREAM_BIN", os.path.join(ROOT, "build", "daemon", "orderstream"))
PYTHON = "/usr/bin/python3"
REFERENCE = os.path.join(BENCH_DIR, "reference_monitor.py")
POLL_SECONDS = 0.02          # how often the harness looks for the last line
RUN_TIMEOUT = 180            # one measured run (start, ingest, stop)
START_TIMEOUT = 30           # a server must answer within this
CLK_TCK = os.sysconf("SC_CLK_TCK")



class BenchError(Exception):
    """A run that could not be measured (as opposed to a slow one)."""


# Processes: every one in its own session, its group id written down for bench/run's trap.

class Harness:
    def __init__(self, work, printer, reps, ticker=None, sse_clients=None):
        self.work = work
        self.printer = printer
        self.ticker = ticker
        self.sse_clients = sse_clients
        self.reps = reps
        self.running = []
        self.commands = ["gcc -O2 -Wall -o $WORK/printer bench/printer.c",  # for RESULTS.md
                         "gcc -O2 -Wall -o $WORK/bare_reader bench/bare_reader.c"]
        self.configs = {}  # the first config file of each kind, for RESULTS.md

    def path(self, *parts):
        p = os.path.join(self.work, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def note(self, argv, prefix=""):
        """Remembers a command line once, with the run's number, ports and markers generalised."""
        text = " ".join(shlex.quote(str(a)) for a in argv).replace(self.work, "$WORK").replace(ROOT + "/", "")
        text = re.sub(r"/([a-z]+-[a-z-]+)-\d+/", r"/\1-R/", text)
        text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
        text = re.sub(r"--port \d+", "--port PORT", text)
        text = re.sub(r"END-[0-9a-f]{32}", "END-UNIQUE", text)
        text = re.sub(r"since=\d+", "since=SEQ", text)
        text = prefix + text
        if text not in self.commands:
            self.commands.append(text)

    def keep_config(self, kind, path):
        if kind not in self.configs:
            with open(path) as f:
                text = f.read().replace(self.work, "$WORK")
            text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
            text = re.sub(r"/([a-z]+-[a-z-]+)-\d+/", r"/\1-R/", text)
            self.configs[kind] = re.sub(r"END-[0-9a-f]{32}", "END-UNIQUE", text)

    def start(self, argv, log_name, **kwargs):
        self.note(argv)
        log = open(self.path("logs", log_name), "ab")
        proc = subprocess.Popen([str(a) for a in argv], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)
        log.close()
        self.running.append(proc)
        with open(os.path.join(self.work, "pids"), "a") as f:
            f.write(f"{proc.pid}\n")
        return proc

    def stop(self, proc, grace=10):
        if proc in self.running:
            self.running.remove(proc)
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of the group (children that ignored SIGTERM)
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def stop_all(self):
        for proc in list(self.running):
            self.stop(proc)


def interleaved(h, systems, measure, describe):
    """measure(system, rep) for each of h.reps runs, the systems in turn within a run, so a noisy
    moment of the machine hits every system alike. Prints describe(system, rep, result) after each;
    returns {system: [result per run]}."""
    runs = {s: [] for s in systems}
    for rep in range(h.reps):
        for system in systems:
            r = measure(system, rep)
            runs[system].append(r)
            print(f"  {describe(system, rep, r)}", flush=True)
    return runs


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of the process itself (all its threads, none of its children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise BenchError(f"no {key} for pid {pid}")


def wait_until(what, predicate, timeout, interval=0.05, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"{what}: the server exited with {proc.returncode} (see $WORK/logs)")
        try:
            value = predicate()
        except (OSError, http.client.HTTPException, ValueError):
            value = None
        if value:
            return value
        time.sleep(interval)
    raise BenchError(f"{what}: not within {timeout} s")


class Client:
    """One keep-alive HTTP connection to 127.0.0.1:PORT (Host 127.0.0.1:PORT, as the daemon wants)."""

    def __init__(self, port, timeout=10):
        self.port, self.timeout, self.conn, self.headers = port, timeout, None, None

    def get(self, path, headers=None):
        """(status, body); the response's headers stay in self.headers."""
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                self.conn.request("GET", path, headers=headers or {})
                response = self.conn.getresponse()
                self.headers = response.headers
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def read_stats(path, timeout=15):
    wait_until("the printer's stats file", lambda: os.path.exists(path), timeout)
    with open(path) as f:
        return {k: float(v) for k, v in (line.strip().split("=", 1) for line in f if "=" in line)}


# The three supervisors, started the same way for every benchmark.

def toml_string(s):
    return json.dumps(str(s))  # a JSON string is a valid TOML basic string


def start_orderstream(h, name, processes, http_extra=(), kafka=None):
    """processes: [(name, argv)]; http_extra: more [http] lines; kafka: bootstrap servers (else the
    embedded cluster). Returns (proc, port, config)."""
    port = free_port()
    lines = ["[http]", f"listen = {toml_string(f'127.0.0.1:{port}')}", *http_extra,
             "[supervisor]", "stop_grace_seconds = 2.0", ""]
    if kafka:
        lines[-1:-1] = ["[kafka]", f"bootstrap_servers = {toml_string(kafka)}"]
    for pname, argv in processes:
        lines += ["[[processes]]", f"name = {toml_string(pname)}", f"command = {toml_string(argv[0])}",
                  "args = [" + ", ".join(toml_string(a) for a in argv[1:]) + "]",
                  "autorestart = false", "stable_seconds = 0.0", ""]
    config = h.path(name, "orderstream.toml")
    with open(config, "w") as f:
        f.write("\n".join(lines))
    h.keep_config(f"orderstream ({name.split('-')[0]})", config)
    for _, argv in processes:
        h.note(argv, "#   child: ")
    proc = h.start([DAEMON, "run", "--config", config, "--log-level", "warn"], f"{name}-orderstream.log")
    client = Client(port)
    wait_until("orderstream /healthz", lambda: client.get("/healthz")[0] == 200, START_TIMEOUT, proc=proc)

    def all_running():
        status, body = client.get("/api/processes")
        listed = json.loads(body) if status == 200 else []
        return len(listed) == len(processes) and all(p.get("pid") for p in listed)

    wait_until("orderstream's children", all_running, START_TIMEOUT, proc=proc)
    client.close()
    return proc, port, config


def start_reference(h, name, processes):
    port = free_port()
    config = h.path(name, "reference.json")
    with open(config, "w") as f:
        json.dump({"processes": [{"name": n, "command": [str(a) for a in argv]} for n, argv in processes]}, f)
    for _, argv in processes:
        h.note(argv, "#   child: ")
    proc = h.start([PYTHON, REFERENCE, "--port", port, "--config", config], f"{name}-reference.log")
    client = Client(port)
    wait_until("reference /api/outputs", lambda: client.get("/api/outputs")[0] == 200, START_TIMEOUT, proc=proc)
    client.close()
    return proc, port


def start_supervisord(h, name, processes):
    d = h.path(name, "supervisord", "x")[:-2]
    conf = os.path.join(d, "supervisord.conf")
    text = ["[supervisord]", "nodaemon=true", f"logfile={d}/supervisord.log", f"pidfile={d}/supervisord.pid",
            f"childlogdir={d}", "loglevel=warn", "user=root" if os.geteuid() == 0 else "", ""]
    for pname, argv in processes:
        text += [f"[program:{pname}]", "command=" + " ".join(shlex.quote(str(a)) for a in argv),
                 "autostart=true", "autorestart=false", "startsecs=0", "redirect_stderr=true",
                 f"stdout_logfile={d}/{pname}.log", "stdout_logfile_maxbytes=0",
                 "stdout_logfile_backups=0", ""]
    with open(conf, "w") as f:
        f.write("\n".join(text))
    h.keep_config(f"supervisord ({name.split('-')[0]})", conf)
    supervisord = shutil.which("supervisord") or "/usr/bin/supervisord"
    proc = h.start([supervisord, "-n", "-c", conf], f"{name}-supervisord.log")

    def children():
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        return len(out) >= len(processes)

    wait_until("supervisord's children", children, START_TIMEOUT, proc=proc)
    return proc, d


# Four terminals of 1000 lines each (outputs, memory).

def fill_processes(h, name):
    return [(f"t{i}", [h.printer, "--lines", 1200, "--marker", f"FILLED-t{i}", "--sleep", 3600])
            for i in range(1, 5)]


def rings_full(body, count=4):
    try:
        outputs = json.loads(body)
    except ValueError:
        return False
    return len(outputs) == count and all(len(v) == 1000 for v in outputs.values()) and \
        all(f"FILLED-{k}".encode() in body for k in outputs if k.startswith("t"))
