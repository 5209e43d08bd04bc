#!/usr/bin/env python3
"""The benchmarks' Python peer: the original monitor's design, rebuilt for comparison.

One thread per child calling readline(), per-terminal lists trimmed to the last 1000
{"timestamp", "line"} entries, the whole dict served as JSON at GET /api/outputs by
http.server. Standard library only.

    reference_monitor.py --port PORT --config FILE.json
    FILE.json: {"processes": [{"name": "t1", "command": ["prog", "arg"]}, ...]}
"""
import argparse
import json
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_LINES = 1000

outputs = {}
lock = threading.Lock()


def reader(name, stream):
    for raw in iter(stream.readline, b""):
        entry = {
            "timestamp": time.strftime("%H:%M:%S"),
            "line": raw.decode("utf-8", "replace").rstrip("\n"),
        }
        with lock:
            lines = outputs[name]
            lines.append(entry)
            if len(lines) > MAX_LINES:
                lines.pop(0)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a browser or wrk expects

    def do_GET(self):
        if self.path.split("?", 1)[0] != "/api/outputs":
            body, code = b'{"error":"not found"}', 404
        else:
            with lock:
                body = json.dumps(outputs, separators=(",", ":")).encode()
            code = 200
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    with open(args.config) as f:
        config = json.load(f)

    children = []
    for process in config["processes"]:
        outputs[process["name"]] = []
        child = subprocess.Popen(process["command"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        children.append(child)
        threading.Thread(target=reader, args=(process["name"], child.stdout), daemon=True).start()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True

    def stop(*_):
        for child in children:
            child.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        for child in children:
            child.kill()


if __name__ == "__main__":
    main()
