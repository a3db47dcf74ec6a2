"""bench/run.py - `make bench`: fcdash against its baselines, in one run on one machine.

These machines are shared and noisy, so every fcdash figure is printed as a
ratio to a baseline measured in the same run, minutes apart at most:

  HTTP, with wrk on 127.0.0.1 through one nginx (tests/lib/harness.py starts
  it, the spawn-fcgi pools and memcached in a temp dir, and stops them by pid):
    (a) bench/trivial_responder: a bare libfcgi responder answering a body
        of the same size as (b): the transport limit;
    (b) examples/signal: graph-1.figure for "apples", the body the renderer
        sends, a memoize hit after one warm-up call;
    (c) examples/scores: the opening app's trivial callback;
    (d) examples/session: output-1 for a session id from a page load,
        the session's value already computed;
  each at 8 and 64 connections: requests/s, p50 and p99 latency, and the
  fraction of (a)'s requests/s.  Then worker RSS: the signal workers' over
  BENCH_RSS_SECONDS of graph hits, and the scores workers' over a counted
  BENCH_RSS_REQUESTS (a million) of the trivial callback.

  In process (bench/micro): the split codec on 1 MB and 10 MB against
  Debian's pandas on the same text; a memoize hit against a bare
  libmemcached get of the same bytes; session-id mint and verify.

Settings: BENCH_SECONDS (each wrk run, default 5), BENCH_RSS_SECONDS (the
graph-hit RSS run, default 30), BENCH_RSS_REQUESTS (the counted scores RSS
run, default 1000000), BENCH_WORKERS (per pool, default 2).
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import harness as H  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
RSS_SECONDS = int(os.environ.get("BENCH_RSS_SECONDS", "30"))
RSS_REQUESTS = int(os.environ.get("BENCH_RSS_REQUESTS", "1000000"))
# The counted run stops itself; this only bounds it if the server stalls.
RSS_REQUESTS_MAX_SECONDS = 1200
# How often the counted run samples the workers' RSS.
RSS_SAMPLE_SECONDS = 10
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
CONNS = (8, 64)
# The codec's sizes, and how many single calls each side gets (the least
# CPU time counts: on these shared cores the wall clock also counts other
# processes' turns): the same number for fcdash and pandas.
CODEC_CALLS = ((1_000_000, 15), (10_000_000, 5))

# The targets.
T_GRAPH_RPS = 0.70     # (b) req/s >= 70% of (a)
T_GRAPH_P99 = 1.5      # (b) p99 <= 1.5 x (a)
T_CODEC = 5.0          # codec >= 5x pandas
T_MEMO = 1.3           # memoize hit <= 1.3 x bare get
T_RSS_KB = 1024        # worker RSS flat within 1 MB
T_RSS_REQUESTS = 1000000  # ... over a million requests


def out(line=""):
    print(line, flush=True)


# ---- wrk -------------------------------------------------------------------

def lua_for(body):
    text = json.dumps(body, separators=(",", ":"))
    assert "]==]" not in text
    return ('wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            'wrk.body = [==[%s]==]\n' % text)


def counted_lua(body, quota, marker):
    """lua_for(body), and each wrk thread stops itself once `quota` responses
    have come back to it and appends a line to `marker`: wrk has no request
    count of its own, and its main thread sleeps out -d even when every
    thread has stopped, so wrk_counted interrupts it then (SIGINT ends the
    sleep and wrk prints its summary as usual).  A thread counts a
    response before this callback sees it and may finish the responses
    already read when it stops, so the total is at least threads x quota;
    wrk prints the exact count."""
    assert "]==]" not in marker
    return lua_for(body) + (
        'local done = 0\n'
        'function response(status, headers, body)\n'
        '  done = done + 1\n'
        '  if done == %d then\n'
        '    local f = io.open([==[%s]==], "a")\n'
        '    f:write("stopped\\n")\n'
        '    f:close()\n'
        '    wrk.thread:stop()\n'
        '  end\n'
        'end\n' % (quota, marker))


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def to_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m|h)$", s)
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def wrk_threads(conns):
    return 2 if conns >= 2 else 1


def wrk_cmd(url, script, conns, seconds):
    return [H.tool("wrk"), "-t%d" % wrk_threads(conns), "-c%d" % conns, "-d%ds" % seconds,
            "--latency", "-s", script, url]


def wrk(url, script, conns, seconds):
    r = subprocess.run(wrk_cmd(url, script, conns, seconds), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("wrk failed: %s" % r.stderr)
    return wrk_parse(r.stdout)


def wrk_counted(url, script, marker, conns, seconds):
    """wrk with a counted_lua script: interrupted (SIGINT, which it handles)
    once every thread has written its line to `marker`, or after `seconds`
    at most."""
    threads = wrk_threads(conns)
    with subprocess.Popen(wrk_cmd(url, script, conns, seconds), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as p:
        while p.poll() is None:
            try:
                with open(marker) as f:
                    if len(f.readlines()) >= threads:
                        p.send_signal(signal.SIGINT)
                        break
            except OSError:
                pass
            time.sleep(0.1)
        o, e = p.communicate()
    if p.returncode != 0:
        raise RuntimeError("wrk failed: %s" % e)
    return wrk_parse(o)


def wrk_parse(o):
    res = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", o).group(1)),
           "requests": int(re.search(r"(\d+) requests in", o).group(1)),
           "seconds": to_ms(re.search(r"requests in ([\d.]+\w+),", o).group(1)) / 1e3,
           "non2xx": 0, "errors": 0}
    for pct in ("50", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % pct, o, re.M)
        res["p" + pct] = to_ms(m.group(1)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", o)
    if m:
        res["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", o)
    if m:
        res["errors"] = sum(int(x) for x in m.groups())
    return res


# ---- the apps --------------------------------------------------------------

def figure_body(category="apples"):
    return {"output": "graph-1.figure", "outputs": {"id": "graph-1", "property": "figure"},
            "inputs": [{"id": "signal", "property": "data", "value": category}],
            "changedPropIds": ["signal.data"]}


def compute_body(category="apples"):
    return {"output": "signal.data", "outputs": {"id": "signal", "property": "data"},
            "inputs": [{"id": "dropdown", "property": "value", "value": category}],
            "changedPropIds": ["dropdown.value"]}


def scores_body():
    return {"output": "output.children", "outputs": {"id": "output", "property": "children"},
            "inputs": [{"id": "score", "property": "value", "value": 5}],
            "changedPropIds": ["score.value"]}


def session_body(session):
    return {"output": "output-1.children", "outputs": {"id": "output-1", "property": "children"},
            "inputs": [{"id": "get-data-button", "property": "n_clicks", "value": 1},
                       {"id": "session-id", "property": "data", "value": session}],
            "changedPropIds": ["get-data-button.n_clicks"]}


def post(url, body, timeout=60):
    r = H.post_json(url, body, timeout=timeout)
    if r.status != 200:
        raise RuntimeError("%s answered %d: %s" % (url, r.status, r.body[:300]))
    return r


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# ---- microbenchmarks -------------------------------------------------------

PANDAS = r"""
import io, sys, time
import pandas as pd
text = open(sys.argv[1]).read()
rounds = int(sys.argv[2])
def best(fn):
    b = 1e300
    for _ in range(rounds):
        t0 = time.process_time(); fn(); b = min(b, time.process_time() - t0)
    return b * 1e9
df = pd.read_json(io.StringIO(text), orient="split")
dec = best(lambda: pd.read_json(io.StringIO(text), orient="split"))
enc = best(lambda: df.to_json(orient="split"))
print("pandas %s encode_ns=%.0f decode_ns=%.0f rows=%d" % (pd.__version__, enc, dec, len(df)))
"""


def kv(line):
    return {k: v for k, v in re.findall(r"(\w+)=(\S+)", line)}


def micro(prog, *args):
    r = subprocess.run([prog] + [str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("micro %s failed: %s" % (args[0], r.stderr.strip()))
    return kv(r.stdout)


def verdict(ok):
    return "met" if ok else "MISSED"


# ---- the run ---------------------------------------------------------------

def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    load = os.getloadavg()
    return "%s, %d cores, load %.2f %.2f %.2f" % (cpu, os.cpu_count(), *load)


def http_bench(h, summary):
    mc = h.memcached()
    static = h.static_root()
    common = {"FCDASH_CACHE": "memcached://" + mc, "FCDASH_LOG_REQUESTS": "0",
              "FCDASH_STATIC_ROOT": static}
    h.pool("signal", H.program("examples/signal/signal"), workers=WORKERS,
                    env=dict(common, FCDASH_PREFIX="/signal/"))
    h.pool("scores", H.program("examples/scores/scores"), workers=WORKERS,
           env=dict(common, FCDASH_PREFIX="/scores/"))
    h.pool("session", H.program("examples/session/session"), workers=WORKERS,
           env=dict(common, FCDASH_PREFIX="/session/", FCDASH_SECRET=secrets.token_hex(32)))
    trivial_sock = h.path("pools", "trivial.sock")
    ups = {p.name: p.upstream for p in h.pools}
    base = h.start_nginx({"/signal/": ups["signal"], "/scores/": ups["scores"],
                          "/session/": ups["session"], "/trivial/": "unix:" + trivial_sock})

    upd = "_dash-update-component"
    # Warm-up: the signal chain as the page does it (compute, then graph),
    # which computes apples once (3 s), then a hit.
    post(base + "/signal/" + upd, compute_body())
    post(base + "/signal/" + upd, figure_body())
    size = len(post(base + "/signal/" + upd, figure_body()).body)
    post(base + "/scores/" + upd, scores_body())
    layout = H.fetch("GET", base + "/session/_dash-layout").json()
    session = layout["props"]["children"][0]["props"]["data"]
    post(base + "/session/" + upd, session_body(session), timeout=120)
    # The trivial responder answers as many bytes as the graph callback.
    h.pool("trivial", H.program("bench/trivial_responder"), workers=WORKERS,
           env={"BENCH_BODY_BYTES": str(size)})
    tsize = len(post(base + "/trivial/" + upd, figure_body()).body)

    targets = [
        ("a", "trivial libfcgi responder", "/trivial/", figure_body()),
        ("b", "signal graph-1.figure (memoize hit)", "/signal/", figure_body()),
        ("c", "scores (trivial callback)", "/scores/", scores_body()),
        ("d", "session output-1 (session value)", "/session/", session_body(session)),
    ]
    scripts = {}
    for key, _, _, body in targets:
        path = h.path("wrk-%s.lua" % key)
        with open(path, "w") as f:
            f.write(lua_for(body))
        scripts[key] = path

    out("## HTTP: wrk -t2 -dN %ds on 127.0.0.1, one nginx, %d workers per pool" % (SECONDS, WORKERS))
    out("   (a) answers %d bytes, (b) %d bytes; memcached %s" % (tsize, size, mc))
    out()
    out("%-40s %6s %10s %9s %9s %8s %8s" % ("", "conns", "req/s", "p50 ms", "p99 ms",
                                          "vs (a)", "non-2xx"))
    results = {}
    for conns in CONNS:
        for key, label, prefix, _ in targets:
            r = wrk(base + prefix + upd, scripts[key], conns, SECONDS)
            results[(key, conns)] = r
            ratio = r["rps"] / results[("a", conns)]["rps"]
            out("%-40s %6d %10.0f %9.2f %9.2f %7.0f%% %8d" % (
                "(%s) %s" % (key, label), conns, r["rps"], r["p50"], r["p99"],
                100 * ratio, r["non2xx"] + r["errors"]))
        out()
    for conns in CONNS:
        a, b = results[("a", conns)], results[("b", conns)]
        rr, pr = b["rps"] / a["rps"], b["p99"] / a["p99"]
        summary.append(("graph hit req/s vs (a), %d conns" % conns, ">= 0.70",
                        "%.2f" % rr, verdict(rr >= T_GRAPH_RPS)))
        summary.append(("graph hit p99 vs (a), %d conns" % conns, "<= 1.50x",
                        "%.2fx" % pr, verdict(pr <= T_GRAPH_P99)))

    # Worker RSS over long runs: the graph hits (the heaviest callback) for
    # BENCH_RSS_SECONDS, and the trivial callback for a counted million.
    pools = {p.name: p for p in h.pools}
    rss_timed(pools["signal"], base + "/signal/" + upd, scripts["b"], summary)
    counted, marker = h.path("wrk-c-counted.lua"), h.path("wrk-c-counted.stopped")
    with open(counted, "w") as f:
        f.write(counted_lua(scores_body(), -(-RSS_REQUESTS // wrk_threads(RSS_CONNS)), marker))
    rss_counted(pools["scores"], base + "/scores/" + upd, counted, marker, summary)
    return mc


# Connections of the RSS runs.
RSS_CONNS = 8


class RssWatch:
    """The workers' RSS before a run, every `every` seconds during it (a
    thread), and after; growth is the largest change of any worker from
    its own starting RSS, at any sample or at the end."""

    def __init__(self, pool, every):
        self.pids = pool.pids()
        self.before = {p: rss_kb(p) for p in self.pids}
        self.samples = []  # one {pid: kB} per sample
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self):
        while not self.stop.wait(self.every):
            self.samples.append({p: rss_kb(p) for p in self.pids})

    def finish(self):
        self.stop.set()
        self.thread.join()
        self.after = {p: rss_kb(p) for p in self.pids}
        growth = 0
        for seen in self.samples + [self.after]:
            for p in self.pids:
                if seen[p] is None or self.before[p] is None:
                    growth = max(growth, 1 << 30)  # a worker went away
                else:
                    growth = max(growth, abs(seen[p] - self.before[p]))
        self.growth = growth

    def report(self):
        for p in self.pids:
            b, a = self.before[p], self.after[p]
            out("   worker %d: %s kB -> %s kB (%s)" % (
                p, b, a, "%+d kB" % (a - b) if a is not None and b is not None else "gone"))
        sums = [sum(x or 0 for x in s.values()) for s in self.samples]
        out("   sum of workers' RSS every %d s: %s kB" % (self.every, " ".join(map(str, sums))))
        out("   largest change of a worker from its start, at any sample: %d kB" % self.growth)
        out()


def rss_timed(pool, url, script, summary):
    w = RssWatch(pool, max(1, RSS_SECONDS // 6))
    r = wrk(url, script, RSS_CONNS, RSS_SECONDS)
    w.finish()
    out("## %s worker RSS over %d graph hits (%d s at %d connections, %d non-2xx)" % (
        pool.name, r["requests"], RSS_SECONDS, RSS_CONNS, r["non2xx"] + r["errors"]))
    w.report()
    summary.append(("%s worker RSS growth, %dk requests" % (pool.name, r["requests"] // 1000),
                    "<= 1024 kB", "%d kB" % w.growth, verdict(w.growth <= T_RSS_KB)))


def rss_counted(pool, url, script, marker, summary):
    """At least RSS_REQUESTS requests: wrk runs until the script's count
    stops it (the duration is only a bound), and its own count is what is
    reported and judged."""
    w = RssWatch(pool, RSS_SAMPLE_SECONDS)
    r = wrk_counted(url, script, marker, RSS_CONNS, RSS_REQUESTS_MAX_SECONDS)
    w.finish()
    bad = r["non2xx"] + r["errors"]
    out("## %s worker RSS over %d trivial callbacks (counted: wrk stopped at %d per thread; "
        "%.0f s at %d connections, %.0f req/s, %d non-2xx)" % (
            pool.name, r["requests"], -(-RSS_REQUESTS // wrk_threads(RSS_CONNS)),
            r["seconds"], RSS_CONNS, r["rps"], bad))
    w.report()
    summary.append(("%s worker RSS growth, %d req" % (pool.name, r["requests"]),
                    "<= 1024 kB", "%d kB" % w.growth, verdict(w.growth <= T_RSS_KB)))
    summary.append(("%s RSS run, 2xx answers" % pool.name, ">= %d" % T_RSS_REQUESTS,
                    "%d" % (r["requests"] - bad),
                    verdict(r["requests"] - bad >= T_RSS_REQUESTS)))


def micro_bench(mc, summary):
    prog = H.program("bench/micro")
    out("## Split-format codec: fcd_frame_to_json / fcd_frame_from_json vs pandas "
        "to_json(orient='split') / read_json, the same text; the least process CPU time of "
        "N single calls, each side")
    with tempfile.TemporaryDirectory(prefix="fcdash-bench-") as d:
        for target, calls in CODEC_CALLS:
            path = os.path.join(d, "frame-%d.json" % target)
            c = micro(prog, "codec", target, path, calls)
            r = subprocess.run(["/usr/bin/python3", "-c", PANDAS, path, str(calls)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("pandas: %s" % r.stderr.strip()[-500:])
            p = kv(r.stdout)
            name = "%d MB" % (target // 1_000_000)
            for op in ("encode", "decode"):
                cf, pf = float(c[op + "_ns"]), float(p[op + "_ns"])
                sp = pf / cf
                out("   %-6s %-6s fcdash %8.2f ms   pandas %8.2f ms   %5.1fx" % (
                    name, op, cf / 1e6, pf / 1e6, sp))
                summary.append(("codec %s %s vs pandas" % (name, op), ">= 5x", "%.1fx" % sp,
                                verdict(sp >= T_CODEC)))
            out("          (%s bytes, %s rows; N = %d; pandas %s)" % (
                c["bytes"], c["rows"], calls, r.stdout.split()[1]))
    out()
    out("## Memoize hit (fcd_memo_call, memcached) vs bare libmemcached get of the same bytes")
    for size in (1024, 32768):
        m = micro(prog, "memoize", mc, size)
        hit, get = float(m["hit_ns"]), float(m["bare_get_ns"])
        out("   %6d bytes: hit %7.1f us   bare get %7.1f us   %.2fx%s" % (
            size, hit / 1e3, get / 1e3, hit / get,
            "" if m.get("non_hits", "0") == "0" else
            "   (%s calls were not hits: the cache declined under load)" % m["non_hits"]))
        summary.append(("memoize hit vs bare get, %d B" % size, "<= 1.30x",
                        "%.2fx" % (hit / get), verdict(hit / get <= T_MEMO)))
    out()
    s = micro(prog, "session")
    out("## Session ids: mint %.2f us, verify %.2f us (HMAC-SHA512-256 over 83 bytes)" % (
        float(s["mint_ns"]) / 1e3, float(s["verify_ns"]) / 1e3))
    out()


def main():
    out("# fcdash bench, %s" % time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    out("# machine: %s" % machine())
    out()
    summary = []
    h = H.Harness("fcdash-bench")
    try:
        mc = http_bench(h, summary)
        micro_bench(mc, summary)
    finally:
        h.stop()
    out("## Targets (issue 8)")
    for name, target, got, v in summary:
        out("   %-40s target %-10s measured %-9s %s" % (name, target, got, v))
    missed = sum(1 for s in summary if s[3] != "met")
    out("%d of %d targets met" % (len(summary) - missed, len(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
