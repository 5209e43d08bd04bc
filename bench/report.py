"""Tables, charts and bench/RESULTS.md from the saved results, and the machine they were measured on."""
import json
import os
import re
import statistics
import subprocess

from harness import DAEMON, OUT_DIR, PYTHON, RESULTS_DIR, ROOT


def info_confluent_kafka():
    try:
        import confluent_kafka
        return f"{confluent_kafka.version()[0]} (librdkafka {confluent_kafka.libversion()[0]})"
    except ImportError:
        return "(not installed)"


def run_gnuplot(work, name, script, png):
    """Writes the gnuplot script for chart `name` into `work` and runs it; the PNG's file name, or
    None (with the reason printed) when gnuplot failed."""
    gp = os.path.join(work, f"chart-{name}.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    res = subprocess.run(["timeout", "60", "gnuplot", gp], capture_output=True, text=True)
    if res.returncode != 0:
        print(f"  gnuplot failed for {name}: {res.stderr.strip()[-400:]}", flush=True)
        return None
    return os.path.basename(png)


# Tables, charts, RESULTS.md

def metric(label, better, runs, key):
    return {"metric": label, "better": better,
            "systems": {s: [r[key] for r in rs] for s, rs in runs.items()}}


def goal(text, met, detail):
    """met: True, False, or None when the figures cannot decide it (said in the detail)."""
    return {"goal": text, "met": None if met is None else bool(met), "detail": detail}


def goal_mark(met, markdown=False):
    if markdown:
        return {True: "✅ met", False: "❌ not met"}.get(met, "❔ undecided")
    return {True: "met    ", False: "NOT met"}.get(met, "UNDECIDED")


def ratio(peer, ours, better):
    if better == "lower":
        return peer / ours if ours else float("inf")
    return ours / peer if peer else float("inf")


def ratio_text(a, b):
    return f"{a / b:.1f}×" if b else "∞"


def fmt(v):
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def table(result):
    out = ["| metric | system | median | min – max | orderstream's advantage |",
           "|---|---|---:|---:|---:|"]
    for row in result["rows"]:
        ours = statistics.median(row["systems"]["orderstream"])
        first = True
        for system, values in row["systems"].items():
            med = statistics.median(values)
            if system == "orderstream":
                adv = "—"
            elif ours == 0 and med == 0:
                adv = "equal"
            elif ours == 0:
                adv = "orderstream 0" if row["better"] == "lower" else "—"
            elif ours < 0 or med < 0:
                adv = "—"  # a shrink: no ratio to speak of
            else:
                adv = f"{ratio(med, ours, row['better']):.2f}×"
            out.append(f"| {row['metric'] if first else ''} | {system} | {fmt(med)} | "
                       f"{fmt(min(values))} – {fmt(max(values))} | {adv} |")
            first = False
    return "\n".join(out)


def chart(result, work):
    """One PNG per benchmark: a panel per metric, a bar per system (median) with min-max bars."""
    rows = [r for r in result["rows"] if any(any(v) for v in r["systems"].values())]
    rows = [r for r in rows if not r["metric"].startswith(("errors", "child's writes"))]
    png = os.path.join(RESULTS_DIR, f"{result['title']}.png")
    cols = min(3, len(rows))
    lines_ = (len(rows) + cols - 1) // cols
    script = [f"set terminal pngcairo size {420 * cols},{340 * lines_} font 'sans,9'",
              f"set output '{png}'",
              f"set multiplot layout {lines_},{cols} title 'orderstream bench: {result['title']} "
              f"(median of {result['reps']} runs, bars: min-max)'",
              "set style fill solid 0.6 border -1", "set boxwidth 0.6", "set yrange [0:*]",
              "set grid ytics", "unset key", "set xtics noenhanced font ',8'"]
    for i, row in enumerate(rows):
        data = os.path.join(work, f"chart-{result['title']}-{i}.dat")
        with open(data, "w") as f:
            for j, (system, values) in enumerate(row["systems"].items()):
                f.write(f'{j} "{system}" {statistics.median(values)} {min(values)} {max(values)}\n')
        title = row["metric"] + (" (higher is better)" if row["better"] == "higher" else " (lower is better)")
        script += [f"set title \"{title}\" noenhanced",
                   f"plot '{data}' using 1:3:xtic(2) with boxes lc rgb '#4c78a8', "
                   f"'' using 1:3:4:5 with yerrorbars lc rgb 'black' pt 0"]
    script.append("unset multiplot")
    return run_gnuplot(work, result['title'], script, png)


def machine():
    def first(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = proc_status_kb_file("/proc/meminfo", "MemTotal")
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        commit += " (with uncommitted changes)" if dirty else ""
    except OSError:
        commit = "?"
    return {
        "nproc": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1), "cpu": model,
        "kernel": os.uname().release, "load_at_start": load, "orderstream_commit": commit,
        "orderstream_binary": DAEMON.replace(ROOT + "/", ""),
        "supervisord": first(["supervisord", "--version"]), "nginx": first(["nginx", "-v"]),
        "wrk": first(["wrk", "--version"]).split(" [")[0], "python": first([PYTHON, "--version"]),
        "gcc": first(["gcc", "--version"]),
        "kcat": kcat_version(), "java": first(["java", "-version"]),
        "confluent_kafka": info_confluent_kafka(),
    }


def kcat_version():
    try:
        out = subprocess.run(["kcat", "-V"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "kcat ?"
    m = re.search(r"Version (\S+).*?(librdkafka \S+)", out)
    return f"kcat {m.group(1)} ({m.group(2)})" if m else "kcat ?"


def proc_status_kb_file(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def write_results_md(benchmarks):
    """RESULTS.md from every saved result; `benchmarks`: name -> module, in the suite's order (a
    module's own `table` replaces the common one; KAFKA ones name Java and kcat)."""
    saved = {}
    for name in benchmarks:
        path = os.path.join(RESULTS_DIR, f"{name}.json")
        if os.path.exists(path):
            with open(path) as f:
                saved[name] = json.load(f)
    out = ["# orderstream benchmarks", "",
           "Written by `bench/run` (do not edit by hand): run "
           "`bench/run [capture|outputs|memory|fanout|startup|producer|latency|knee]...` "
           "to measure again; each section keeps the date and machine of its own last run.", "",
           "**Reading the tables.** Each figure is the median of the runs, with the smallest and "
           "largest beside it. *orderstream's advantage* is the peer's median over orderstream's "
           "when lower is better (CPU, time, latency, memory) and orderstream's over the peer's "
           "when higher is better (requests/s): above 1× orderstream is better, below 1× worse. "
           "Timings never fail a run; the goals below say which were met.", ""]
    out += ["## Not yet measured", ""]
    for name in benchmarks:
        if name not in saved:
            out.append(f"- `{name}` (part of this suite; run `bench/run {name}`)"
                       + (": the latency knee over 100–1000 orders/s, replacing the single-rate `latency` "
                          "in a run of all benchmarks" if name == "knee" else ""))
    out.append("- PM2 as a peer in `capture` (optional; needs npm `pm2` pinned by a lockfile in bench/)")
    out.append("")
    for name, r in saved.items():
        m = r["machine"]
        out += [f"## {name}", "",
                f"Measured {r['date']} on {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, "
                f"Linux {m['kernel']}, load average {m['load_at_start']} before the suite and {r.get('load_at_end', '?')} after this benchmark; orderstream "
                f"{m['orderstream_commit']} (`{m['orderstream_binary']}`); {m['supervisord'] and 'supervisord ' + m['supervisord']}, "
                f"{m['nginx']}, {m['wrk']}, {m['python']}, {m['gcc']}"
                + (f", {m.get('java', '?')}, {m.get('kcat', '?')}" if getattr(benchmarks[name], "KAFKA", False) else "")
                + (f", python3-confluent-kafka {m.get('confluent_kafka', '?')}" if name == "knee" else "")
                + f". {r['reps']} run{'s' if r['reps'] != 1 else ''} each"
                + (" rate and system" if name == "knee" else "") + ".", ""]
        out += [getattr(benchmarks[name], "table", table)(r), ""]
        if r.get("chart"):
            out += [f"![{name}](results/{r['chart']})", ""]
        out += ["Goals:", ""]
        for g in r["goals"]:
            out.append(f"- {goal_mark(g['met'], markdown=True)}: {g['goal']} — {g['detail']}")
        out += ["", "How it was measured:", ""]
        out += [f"- {n}" for n in r["notes"]]
        out += ["", "<details><summary>Exact commands</summary>", "", "```sh",
                f"{r['invocation']}", "# ... which ran ($WORK is a temporary directory):"]
        out += r["commands"]
        out += ["```", ""]
        for kind, text in r.get("configs", {}).items():
            out += [f"{kind} config:", "", "```", text.rstrip(), "```", ""]
        out += ["</details>", ""]
    with open(os.path.join(OUT_DIR, "RESULTS.md"), "w") as f:
        f.write("\n".join(out))
