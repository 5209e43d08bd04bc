"""outputs: GET /api/outputs with four full rings under wrk, against nginx serving the same bytes
(and the same gzipped bytes with gzip_static) and the Python reference."""
import gzip
import os
import re
import shutil
import statistics
import subprocess

from harness import (
    BenchError, Client, START_TIMEOUT, fill_processes, free_port, rings_full, start_orderstream,
    start_reference, wait_until)
from report import goal, metric


WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", 10))


GZIP = {"Accept-Encoding": "gzip"}


def wrk(h, url, label, headers=None):
    argv = ["wrk", "-t2", "-c64", f"-d{WRK_SECONDS}s", "--latency", "--timeout", "5s"]
    argv += sum((["-H", f"{k}: {v}"] for k, v in (headers or {}).items()), []) + [url]
    h.note(argv)
    out = subprocess.run(["timeout", str(WRK_SECONDS + 30)] + argv, capture_output=True, text=True).stdout
    with open(h.path("logs", f"wrk-{label}.txt"), "a") as f:
        f.write(out + "\n")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not rps or not p99:
        raise BenchError(f"wrk against {label} printed no figures: {out[-500:]}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors += sum(int(x) for x in m.groups()) if m else 0
    return {"rps": float(rps.group(1)), "p99_ms": float(p99.group(1)) * scale, "errors": errors}


def run(h):
    runs = {}
    sizes = {}

    def measure(label, url, headers=None):
        runs[label] = []
        for rep in range(h.reps):
            r = wrk(h, url, label, headers)
            runs[label].append(r)
            print(f"  outputs {label} run {rep + 1}: {r['rps']:.0f} req/s, p99 {r['p99_ms']:.2f} ms"
                  + (f", {r['errors']} errors" if r["errors"] else ""), flush=True)

    saved = h.path("outputs", "www", "api", "outputs")
    proc, port, _ = start_orderstream(h, "outputs-orderstream", fill_processes(h, "outputs"))
    try:
        client = Client(port)
        body = wait_until("orderstream: four full rings",
                          lambda: (lambda r: r[1] if r[0] == 200 and rings_full(r[1]) else None)(
                              client.get("/api/outputs")), START_TIMEOUT, proc=proc)
        with open(saved, "wb") as f:
            f.write(body)
        sizes["orderstream"] = len(body)
        # The same rings gzipped, saved beside it for nginx's gzip_static: the very same bytes.
        status, packed = client.get("/api/outputs", GZIP)
        if status != 200 or client.headers.get("Content-Encoding") != "gzip" or gzip.decompress(packed) != body:
            raise BenchError("orderstream: /api/outputs with Accept-Encoding: gzip did not answer the rings gzipped")
        with open(saved + ".gz", "wb") as f:
            f.write(packed)
        sizes["orderstream gzip"] = len(packed)
        _, incremental = client.get("/api/outputs?since=0")
        seq = int(re.search(rb'"seq":(\d+)', incremental).group(1))
        _, empty = client.get(f"/api/outputs?since={seq}")
        sizes["orderstream ?since=SEQ"] = len(empty)
        client.close()
        measure("orderstream", f"http://127.0.0.1:{port}/api/outputs")
        measure("orderstream gzip", f"http://127.0.0.1:{port}/api/outputs", GZIP)
        measure("orderstream ?since=SEQ", f"http://127.0.0.1:{port}/api/outputs?since={seq}")
    finally:
        h.stop(proc)

    nginx_proc = start_nginx(h, os.path.dirname(os.path.dirname(saved)))
    try:
        proc, port = nginx_proc
        client = Client(port)
        sizes["nginx"] = len(client.get("/api/outputs")[1])
        status, packed = client.get("/api/outputs", GZIP)
        if status != 200 or client.headers.get("Content-Encoding") != "gzip":
            raise BenchError("nginx: gzip_static did not serve the gzipped rings")
        sizes["nginx gzip"] = len(packed)
        client.close()
        measure("nginx", f"http://127.0.0.1:{port}/api/outputs")
        measure("nginx gzip", f"http://127.0.0.1:{port}/api/outputs", GZIP)
    finally:
        h.stop(nginx_proc[0])

    proc, port = start_reference(h, "outputs-reference", fill_processes(h, "outputs"))
    try:
        client = Client(port)
        body = wait_until("python-ref: four full rings",
                          lambda: (lambda r: r[1] if r[0] == 200 and rings_full(r[1]) else None)(
                              client.get("/api/outputs")), START_TIMEOUT, proc=proc)
        sizes["python-ref"] = len(body)
        client.close()
        measure("python-ref", f"http://127.0.0.1:{port}/api/outputs")
    finally:
        h.stop(proc)

    full = {k: runs[k] for k in ("orderstream", "nginx", "python-ref")}
    rows = [
        metric("GET /api/outputs, requests/s", "higher", full, "rps"),
        metric("GET /api/outputs, p99 latency, ms", "lower", full, "p99_ms"),
        metric("GET /api/outputs with Accept-Encoding: gzip, requests/s", "higher",
               {"orderstream": runs["orderstream gzip"], "nginx": runs["nginx gzip"]}, "rps"),
        metric("GET /api/outputs with Accept-Encoding: gzip, p99 latency, ms", "lower",
               {"orderstream": runs["orderstream gzip"], "nginx": runs["nginx gzip"]}, "p99_ms"),
        metric("errors (non-2xx, socket)", "lower", runs, "errors"),
        metric("GET /api/outputs?since=SEQ (nothing new), requests/s", "higher",
               {"orderstream": runs["orderstream ?since=SEQ"]}, "rps"),
        metric("GET /api/outputs?since=SEQ (nothing new), p99 latency, ms", "lower",
               {"orderstream": runs["orderstream ?since=SEQ"]}, "p99_ms"),
    ]
    med = {k: statistics.median(r["rps"] for r in v) for k, v in runs.items()}
    goals = [
        goal("≥ 80 % of nginx's requests/s", med["orderstream"] >= 0.8 * med["nginx"],
             f"{med['orderstream']:.0f} vs {med['nginx']:.0f} req/s = "
             f"{100 * med['orderstream'] / med['nginx']:.0f} %"),
        goal("gzipped: ≥ 80 % of nginx's requests/s with gzip_static on the same compressed bytes",
             med["orderstream gzip"] >= 0.8 * med["nginx gzip"],
             f"{med['orderstream gzip']:.0f} vs {med['nginx gzip']:.0f} req/s = "
             f"{100 * med['orderstream gzip'] / med['nginx gzip']:.0f} %"),
        goal("≥ 50× the Python reference's requests/s", med["orderstream"] >= 50 * med["python-ref"],
             f"{med['orderstream']:.0f} vs {med['python-ref']:.1f} req/s = "
             f"{med['orderstream'] / med['python-ref']:.0f}×"),
    ]
    notes = [
        f"Four terminals × 1000 lines of 99 characters (each filled by bench/printer.c printing 1200 "
        f"lines, then sleeping). Response body: orderstream {sizes['orderstream']:,} bytes, nginx "
        f"{sizes['nginx']:,} (orderstream's response saved and served as a static file), python-ref "
        f"{sizes['python-ref']:,} (same children, same layout).",
        f"wrk -t2 -c64 -d{WRK_SECONDS}s --latency, keep-alive, on the same 2-core machine as the server "
        "(so client and server share the CPU; every system alike).",
        f"`?since=SEQ` is the steady-state poll of an up-to-date client: SEQ is the newest sequence "
        f"number, so the answer carries no lines ({sizes['orderstream ?since=SEQ']} bytes).",
        "nginx 'light' as a non-root user from a temporary prefix (`daemon off`, 2 workers, "
        "sendfile, access log off).",
        f"gzip: the same wrk with `-H 'Accept-Encoding: gzip'`. orderstream compresses the rings once per "
        f"change (zlib level 1; {sizes['orderstream gzip']:,} bytes) and shares that copy; nginx serves "
        f"orderstream's compressed bytes, saved as `api/outputs.gz`, with `gzip_static on` "
        f"({sizes['nginx gzip']:,} bytes). Both answers were checked to be gzip before measuring.",
    ]
    return {"title": "outputs", "rows": rows, "goals": goals, "notes": notes, "runs": runs,
            "sizes": sizes}


def start_nginx(h, root):
    d = h.path("nginx", "x")[:-2]
    port = free_port()
    for sub in ("logs", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off;
worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    gzip_static on;
    gzip_vary on;
    keepalive_requests 1000000;
    default_type application/json;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ }}
    }}
}}
""")
    h.keep_config("nginx", conf)
    argv = ["nginx", "-p", d, "-e", f"{d}/logs/error.log", "-c", conf]
    if os.geteuid() == 0:  # run it as nobody: it must read the file and write its own folder
        for path in (h.work, os.path.dirname(d), os.path.dirname(root)):
            os.chmod(path, 0o755)
        for base in (d, root):
            for dirpath, _, files in os.walk(base):
                shutil.chown(dirpath, "nobody")
                for name in files:
                    shutil.chown(os.path.join(dirpath, name), "nobody")
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + argv
    proc = h.start(argv, "nginx.log")
    client = Client(port)
    wait_until("nginx", lambda: client.get("/api/outputs")[0] == 200, START_TIMEOUT, proc=proc)
    client.close()
    return proc, port
