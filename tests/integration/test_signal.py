"""test_signal.py - the guide's Example 3 (caching and signaling) on the shared cache.

nginx in front of two spawn-fcgi pools of examples/signal, 4 workers each:
  /signal/      FCDASH_CACHE=memcached://A (one memcached);
  /signal-two/  FCDASH_CACHE=memcached://B,C (two memcached servers).
Each memcached is our own, on a free port, stopped by pid.

global_store(category) sleeps 3 s and logs "Computing value with
<category>" on stderr, which lands in the pool's log: those lines count the
real computations.  The cache counters come from <prefix>_fcdash/metrics.
Those counters are per host and per app name, so both pools (and any other
"signal" app of this user on the machine) add to the same totals; the
checks use differences over one step at a time and the log lines of one
pool.

In order:
  the page: index, layout (dropdown, four graphs, the signal Store) and the
      five callbacks;
  the browser (tests/browser/signal.mjs, in headless Chromium): the page
      load computes apples (about 3 s), a first pick of oranges about 3 s,
      both again well under a second; then a second, fresh browser gets
      both from the cache; the pool log shows one computation of each;
  single flight: 12 concurrent cold requests for figs over the 4 workers:
      one computation, every answer equal, every worker took part;
  the four figures for each category (types, marker, line, margins, the
      right number of rows: apples 500, oranges 1000, figs 2000,
      pineapples 1500; x and y as the very text json.dumps writes, and the
      whole answer too), each category computed once in all;
  across workers: values computed through one worker are hits on the
      others (16 concurrent requests, no computation, hits grow);
  memcached killed (SIGKILL) in the middle of a run: every request still
      200 with the same figure; restarted on the same port, the values are
      stored again and hits resume with no further computation;
  two memcached servers, one stopped: requests succeed with the same
      figures, the stopped server's keys move to the other one, and once
      they are there every request is a hit, and stays one for 25 s (more
      than two of the backend's 10-s retry periods) while the server is
      still down.
"""

import collections
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

APP_NAME = "signal"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # importing test_browser leaves no __pycache__ in the tree
import harness as H  # noqa: E402
from harness import check, equal, fetch, post_json, section  # noqa: E402
import test_browser as B  # noqa: E402  (run_node, browser_dir: the browser runner)

ROWS = {"apples": 500, "oranges": 1000, "figs": 2000, "pineapples": 1500}
GRAPHS = ["graph-1", "graph-2", "graph-3", "graph-4"]
# The guide's figures, with the margins every one of them gets.
TRACE = {
    "graph-1": {"type": "scatter", "mode": "markers",
                "marker": {"opacity": 0.5, "size": 14, "line": {"border": "thin darkgrey solid"}}},
    "graph-2": {"type": "scatter", "mode": "lines", "line": {"shape": "spline", "width": 0.5}},
    "graph-3": {"type": "histogram2d"},
    "graph-4": {"type": "histogram2dcontour"},
}
MARGIN = {"l": 20, "r": 10, "b": 20, "t": 10}
COMPUTE_S = 3.0


def private_shm():
    """Re-run this script in a mount namespace of its own with a fresh
    /dev/shm.  The cache counters live in a POSIX shared-memory segment
    named after the user and the app (/dev/shm/fcdash-0-signal), which every
    process of that app and user on the host shares: a demo or another
    test running the same example as root adds to the very counts these
    checks take differences of.  A private /dev/shm makes the counters this
    test's own.  It takes root (unshare -m); without it the test runs as it
    is and says so."""
    if os.environ.get("FCDASH_TEST_PRIVATE_SHM"):
        print("# a private /dev/shm: the cache counters are this test's own", flush=True)
        return
    unshare = shutil.which("unshare")
    if os.getuid() != 0 or unshare is None or subprocess.run(
            [unshare, "--mount", "true"], capture_output=True).returncode != 0:
        print("# no private /dev/shm (needs root and unshare): other %s apps of this user "
              "share the cache counters" % APP_NAME, flush=True)
        return
    os.environ["FCDASH_TEST_PRIVATE_SHM"] = "1"
    script = 'mount -t tmpfs -o mode=1777 fcdash-test-shm /dev/shm && exec "$@"'
    os.execv(unshare, [unshare, "--mount", "--propagation", "private", "--", "sh", "-c", script,
                       "sh", sys.executable] + sys.argv)


# ---- requests --------------------------------------------------------------

def compute_body(category):
    return {"output": "signal.data", "outputs": {"id": "signal", "property": "data"},
            "inputs": [{"id": "dropdown", "property": "value", "value": category}],
            "changedPropIds": ["dropdown.value"]}


def figure_body(graph, category):
    return {"output": graph + ".figure", "outputs": {"id": graph, "property": "figure"},
            "inputs": [{"id": "signal", "property": "data", "value": category}],
            "changedPropIds": ["signal.data"]}


def update(url, prefix, body, timeout=30):
    return post_json(url + prefix + "_dash-update-component", body, timeout=timeout)


def figure_of(r, graph):
    try:
        return r.json()["response"][graph]["figure"]
    except (TypeError, KeyError):
        return None


def many(url, prefix, bodies, workers):
    """Send `bodies` with `workers` requests in flight; returns the
    responses in order and the seconds it took."""
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=workers) as ex:
        rs = list(ex.map(lambda b: update(url, prefix, b), bodies))
    return rs, time.time() - t0


# ---- what the pool log and the metrics say ----------------------------------

def computations(text):
    """Counter of categories from the "Computing value with X" lines."""
    return collections.Counter(re.findall(r"^Computing value with (.*)$", text, re.M))


def answering_pids(text, prefix):
    return set(re.findall(r"\[(\d+)\] rid=\S+ POST %s_dash-update-component 200 "
                          % re.escape(prefix), text))


def metrics(url, prefix):
    r = fetch("GET", url + prefix + "_fcdash/metrics")
    out = {}
    for line in r.text.splitlines():
        m = re.match(r'fcdash_cache_(\w+)_total\{app="signal"\} (\d+)$', line)
        if m:
            out[m.group(1)] = int(m.group(2))
    if r.status != 200 or "hits" not in out:
        raise AssertionError("metrics: %s" % r)
    return out


def delta(after, before):
    return {k: after[k] - before.get(k, 0) for k in after}


# ---- memcached we can kill and restart on the same port ---------------------

class Memcached:
    def __init__(self, h, port=None):
        self.h = h
        self.port = port or H.free_port()
        self.proc = None

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        argv = [H.tool("memcached"), "-l", "127.0.0.1", "-p", str(self.port), "-U", "0",
                "-m", "32"]
        if os.getuid() == 0:
            argv += ["-u", "nobody"]
        self.proc = self.h.spawn(argv, log=self.h.path("memcached-%d.log" % self.port))
        end = time.time() + 5
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise H.Missing("memcached did not start on port %d" % self.port)

    def kill(self, sig=signal.SIGKILL):
        """Signal our memcached by its pid and wait until it is gone."""
        os.kill(self.proc.pid, sig)
        self.proc.wait(5)

    def items(self):
        """curr_items from `stats`, or None when it does not answer."""
        try:
            s = socket.create_connection(("127.0.0.1", self.port), 1)
        except OSError:
            return None
        try:
            s.settimeout(2)
            s.sendall(b"stats\r\n")
            buf = b""
            while not buf.endswith(b"END\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except OSError:
            return None
        finally:
            s.close()
        m = re.search(rb"STAT curr_items (\d+)", buf)
        return int(m.group(1)) if m else None


# ---- the checks -------------------------------------------------------------

def page(url):
    r = fetch("GET", url + "/signal/")
    check("page: GET /signal/ answers the index page", r.status == 200
          and "new DashRenderer()" in r.text, r)
    lay = fetch("GET", url + "/signal/_dash-layout").json() or {}
    text = str(lay)
    check("page: the layout has the dropdown (four categories, apples chosen), four graphs "
          "and the signal Store",
          "'options': ['apples', 'oranges', 'figs', 'pineapples']" in text
          and "'value': 'apples'" in text and all("'id': '%s'" % g in text for g in GRAPHS)
          and "'type': 'Store'" in text and "'id': 'signal'" in text, H.short(lay))
    deps = fetch("GET", url + "/signal/_dash-dependencies").json() or []
    got = sorted((d.get("output"), tuple(i["id"] + "." + i["property"] for i in d.get("inputs", [])))
                 for d in deps)
    want = sorted([("signal.data", ("dropdown.value",))]
                  + [(g + ".figure", ("signal.data",)) for g in GRAPHS])
    equal("page: five callbacks: signal.data <- dropdown.value, graph-N.figure <- signal.data",
          got, want)


def browser(url, pool):
    where = B.browser_dir(pool.harness)
    shots = os.path.join(H.BUILDDIR, "run", "tests")
    os.makedirs(shots, exist_ok=True)
    off = pool.log_size()
    B.run_node(where, "signal.mjs", [url, "first", os.path.join(shots, "signal-first.png")],
               "signal browser 1")
    time.sleep(0.3)
    equal("signal browser 1: the pool computed apples and oranges once each, nothing else",
          dict(computations(pool.log_since(off))), {"apples": 1, "oranges": 1})
    off = pool.log_size()
    B.run_node(where, "signal.mjs", [url, "second", os.path.join(shots, "signal-second.png")],
               "signal browser 2")
    time.sleep(0.3)
    equal("signal browser 2: a second browser computed nothing (both from the cache)",
          dict(computations(pool.log_since(off))), {})


def single_flight(url, pool):
    prefix = "/signal/"
    # Cold: nothing has asked for figs yet.
    m0 = metrics(url, prefix)
    off = pool.log_size()
    bodies = [compute_body("figs"), figure_body("graph-1", "figs")] * 6
    rs, took = many(url, prefix, bodies, 12)
    time.sleep(0.3)
    log = pool.log_since(off)
    m1 = metrics(url, prefix)
    check("single flight: 12 concurrent cold requests for figs all answer 200",
          all(r.status == 200 for r in rs), [r for r in rs if r.status != 200][:3])
    equal("single flight: global_store computed figs exactly once (\"Computing value with\" "
          "lines)", dict(computations(log)), {"figs": 1})
    d = delta(m1, m0)
    equal("single flight: metrics: one compute", d["computes"], 1)
    check("single flight: metrics: the other workers waited for it (lock_waits %d)"
          % d["lock_waits"], d["lock_waits"] >= 1, d)
    pids = answering_pids(log, prefix)
    equal("single flight: all 4 workers took part (pids %s)" % sorted(pids), len(pids), 4)
    check("single flight: the whole burst took about one computation (%.2f s)" % took,
          COMPUTE_S - 0.1 <= took < 2 * COMPUTE_S, took)
    signals = {r.text for r in rs[0::2]}
    equal("single flight: every compute_value answer is the same signal",
          [H.json.loads(t) for t in signals],
          [{"multi": True, "response": {"signal": {"data": "figs"}}}])
    figs = {r.text for r in rs[1::2]}
    check("single flight: every graph-1 answer is byte for byte the same", len(figs) == 1,
          "%d different answers" % len(figs))
    fig = figure_of(rs[1], "graph-1") or {}
    n = len(((fig.get("data") or [{}])[0]).get("x") or [])
    equal("single flight: and it holds figs' 2000 rows", n, 2000)


def figures(url, pool, reference):
    """All four figures of every category; fills reference[(graph, category)]."""
    prefix = "/signal/"
    bodies = [figure_body(g, c) for c in ROWS for g in GRAPHS]
    rs, _ = many(url, prefix, bodies, 16)
    for b, r in zip(bodies, rs):
        g = b["outputs"]["id"]
        c = b["inputs"][0]["value"]
        fig = figure_of(r, g)
        if not check("figures: %s for %s answers 200 with a figure" % (g, c),
                     r.status == 200 and isinstance(fig, dict), r):
            continue
        reference[(g, c)] = fig
        trace = (fig.get("data") or [{}])[0]
        props = {k: v for k, v in trace.items() if k not in ("x", "y")}
        equal("figures: %s for %s: one trace %s" % (g, c, H.short(TRACE[g])),
              (len(fig.get("data") or []), props), (1, TRACE[g]))
        equal("figures: %s for %s: x and y hold %d numbers each" % (g, c, ROWS[c]),
              (len(trace.get("x") or []), len(trace.get("y") or []),
               all(isinstance(v, float) for v in (trace.get("x") or []) + (trace.get("y") or []))),
              (ROWS[c], ROWS[c], True))
        equal("figures: %s for %s: layout margin l 20, r 10, b 20, t 10" % (g, c),
              fig.get("layout"), {"margin": MARGIN})
        # The numbers' text, not only their values: Python's json module
        # writes each float as repr(), and so must fcdash, digit for digit
        # (a longer text that reads back the same would pass the checks
        # above).  Then the whole answer: what json.dumps writes for it.
        raw = r.text
        for axis in ("x", "y"):
            text = '"%s":%s' % (axis, H.json.dumps(trace.get(axis), separators=(",", ":")))
            check("figures: %s for %s: %s is written as Python's json.dumps writes it"
                  % (g, c, axis), text in raw, raw[raw.find('"%s":' % axis):][:200])
        check("figures: %s for %s: the whole answer is json.dumps(answer, separators=(',', ':'))"
              % (g, c), H.json.dumps(r.json(), separators=(",", ":")) == raw, raw[:200])
    for c in ROWS:
        xs = {H.json.dumps(reference.get((g, c), {}).get("data", [{}])[0].get("x")) for g in GRAPHS}
        ys = {H.json.dumps(reference.get((g, c), {}).get("data", [{}])[0].get("y")) for g in GRAPHS}
        check("figures: the four graphs of %s show the same rows" % c,
              len(xs) == 1 and len(ys) == 1, "%d x, %d y variants" % (len(xs), len(ys)))
    firsts = {c: (reference.get(("graph-1", c)) or {}).get("data", [{}])[0].get("x", [None])[0]
              for c in ROWS}
    check("figures: each category has rows of its own (first x: %s)" % firsts,
          len(set(firsts.values())) == 4, firsts)
    time.sleep(0.3)
    # Since the pool started: the browser's apples and oranges, figs, and
    # now pineapples -- each computed once, never twice.
    equal("figures: over the whole run so far each category was computed exactly once",
          dict(computations(pool.log_text())), {c: 1 for c in ROWS})


def across_workers(url, pool, reference):
    prefix = "/signal/"
    m0 = metrics(url, prefix)
    off = pool.log_size()
    bodies = [figure_body(g, c) for c in ROWS for g in GRAPHS]
    rs, _ = many(url, prefix, bodies, 16)
    time.sleep(0.3)
    log = pool.log_since(off)
    d = delta(metrics(url, prefix), m0)
    same = all(figure_of(r, b["outputs"]["id"]) == reference.get((b["outputs"]["id"],
                                                                   b["inputs"][0]["value"]))
               for b, r in zip(bodies, rs))
    check("across workers: 16 concurrent requests answer 200 with the same figures as before",
          same and all(r.status == 200 for r in rs), [r for r in rs if r.status != 200][:3])
    pids = answering_pids(log, prefix)
    check("across workers: %d different workers answered" % len(pids), len(pids) >= 2, pids)
    equal("across workers: nothing was computed (no log line)", dict(computations(log)), {})
    equal("across workers: metrics: no compute, no miss", (d["computes"], d["misses"]), (0, 0))
    check("across workers: metrics: hits grew by at least 16 (%d)" % d["hits"], d["hits"] >= 16, d)


def memcached_killed(url, pool, mc, reference):
    prefix = "/signal/"
    want = reference.get(("graph-1", "figs"))
    if want is None:
        raise AssertionError("no reference figure for figs (the figures step failed)")
    m0 = metrics(url, prefix)
    off = pool.log_size()
    done = []
    lock = threading.Lock()
    killed_after = []

    def one(i):
        r = update(url, prefix, figure_body("graph-1", "figs"))
        with lock:
            done.append(i)
        return r

    with ThreadPoolExecutor(max_workers=4) as ex:
        futures = [ex.submit(one, i) for i in range(12)]
        end = time.time() + 20
        while len(done) < 4 and time.time() < end:
            time.sleep(0.005)
        killed_after.append(len(done))
        mc.kill(signal.SIGKILL)
        rs = [f.result() for f in futures]
    # The 8 still in flight may all have read the cache before the kill
    # landed (their answers were only on the wire): two more, certainly
    # after it, must be computed by the workers themselves.
    rs += [one(12), one(13)]
    time.sleep(0.3)
    log = pool.log_since(off)
    d = delta(metrics(url, prefix), m0)
    check("memcached killed: SIGKILL by pid after %s of 12 requests answered, while others "
          "were in flight" % killed_after, killed_after and 4 <= killed_after[0] < 12,
          killed_after)
    bad = [(i, r.status, r.text[:150]) for i, r in enumerate(rs)
           if r.status != 200 or figure_of(r, "graph-1") != want]
    check("memcached killed: every one of the 14 requests answered 200 with figs' figure",
          not bad, bad[:3])
    check("memcached killed: the workers computed figs themselves meanwhile (%d log lines)"
          % computations(log)["figs"], computations(log)["figs"] >= 1, dict(computations(log)))
    check("memcached killed: metrics: the cache errors were counted (%d)" % d["errors"],
          d["errors"] >= 1, d)
    check("memcached killed: the log remarks on the degraded cache",
          "cache degraded" in log, log[-1500:])
    equal("memcached killed: the workers all still run", len(pool.pids()), 4)

    # Back on the same port, empty.  Each worker retries the server after
    # its dead time; until then it computes, then values are stored again.
    mc.start()
    bodies = [figure_body(g, "figs") for g in GRAPHS] * 2
    t0 = time.time()
    rounds = []
    recovered = False
    while time.time() - t0 < 60:
        m0 = metrics(url, prefix)
        off = pool.log_size()
        rs, _ = many(url, prefix, bodies, 8)
        time.sleep(0.2)
        n = computations(pool.log_since(off))["figs"]
        d = delta(metrics(url, prefix), m0)
        ok = all(r.status == 200 and figure_of(r, b["outputs"]["id"])
                 == reference.get((b["outputs"]["id"], "figs")) for b, r in zip(bodies, rs))
        rounds.append((round(time.time() - t0, 1), ok, n, d["hits"]))
        if not ok:
            break
        if n == 0 and d["computes"] == 0 and d["hits"] >= len(bodies):
            recovered = True
            break
        time.sleep(0.5)
    print("# restart rounds (s, all right, computations, hits): %s" % rounds, flush=True)
    check("memcached restarted: every request answered 200 with the right figure meanwhile",
          all(r[1] for r in rounds), rounds)
    check("memcached restarted: hits resumed within 60 s: a round of 8 concurrent requests "
          "with no computation, all hits", recovered, rounds)
    check("memcached restarted: the restarted memcached holds values again (%s items)"
          % mc.items(), (mc.items() or 0) >= 1, mc.items())
    m0 = metrics(url, prefix)
    off = pool.log_size()
    rs, _ = many(url, prefix, [figure_body(g, c) for c in ROWS for g in GRAPHS], 16)
    time.sleep(0.3)
    d = delta(metrics(url, prefix), m0)
    log = pool.log_since(off)
    check("memcached restarted: afterwards only the categories not yet stored again are "
          "computed, each once (%s)" % dict(computations(log)),
          all(v == 1 for v in computations(log).values()) and "figs" not in computations(log)
          and all(r.status == 200 for r in rs), dict(computations(log)))
    m0 = metrics(url, prefix)
    off = pool.log_size()
    rs, _ = many(url, prefix, [figure_body(g, c) for c in ROWS for g in GRAPHS], 16)
    time.sleep(0.3)
    d = delta(metrics(url, prefix), m0)
    check("memcached restarted: then every category is a hit: 16 requests, no computation, "
          "hits +%d" % d["hits"],
          not computations(pool.log_since(off)) and d["computes"] == 0 and d["hits"] >= 16
          and all(r.status == 200 for r in rs), (dict(computations(pool.log_since(off))), d))


def two_servers(url, pool, mc_b, mc_c, reference):
    prefix = "/signal-two/"
    bodies = [figure_body(g, c) for c in ROWS for g in GRAPHS]
    off = pool.log_size()
    rs, _ = many(url, prefix, bodies, 16)
    time.sleep(0.3)

    def right(b, r):
        g, c = b["outputs"]["id"], b["inputs"][0]["value"]
        return r.status == 200 and figure_of(r, g) == reference.get((g, c))

    check("two servers: all four categories answer 200 with the same figures as /signal/",
          all(right(b, r) for b, r in zip(bodies, rs)),
          [(b["output"], r.status) for b, r in zip(bodies, rs) if not right(b, r)][:4])
    equal("two servers: each category computed once", dict(computations(pool.log_since(off))),
          {c: 1 for c in ROWS})
    items = {"B": mc_b.items(), "C": mc_c.items()}
    check("two servers: the values are stored on the servers (items %s)" % items,
          (items["B"] or 0) + (items["C"] or 0) >= 4, items)
    # Stop the one holding more (so that keys must move, whatever the
    # ports did to the continuum).
    stop, keep = (mc_b, mc_c) if (items["B"] or 0) >= (items["C"] or 0) else (mc_c, mc_b)
    before = keep.items() or 0
    print("# stopping memcached %s (%s items); %s keeps %d" % (
        stop.addr, stop.items(), keep.addr, before), flush=True)
    stop.kill(signal.SIGTERM)
    t0 = time.time()
    rounds = []
    settled = False
    body_set = [figure_body(g, c) for c in ROWS for g in ("graph-1", "graph-3")]
    while time.time() - t0 < 60:
        off = pool.log_size()
        rs, _ = many(url, prefix, body_set, 8)
        time.sleep(0.2)
        n = sum(computations(pool.log_since(off)).values())
        ok = all(right(b, r) for b, r in zip(body_set, rs))
        rounds.append((round(time.time() - t0, 1), ok, n))
        if not ok:
            break
        if n == 0:
            settled = True
            break
        time.sleep(0.3)
    print("# rounds with one server stopped (s, all right, computations): %s" % rounds,
          flush=True)
    check("two servers, one stopped: every request answered 200 with the right figure",
          all(r[1] for r in rounds), rounds)
    check("two servers, one stopped: within 60 s a round of 8 requests needs no computation "
          "(every key served by the remaining server)", settled, rounds)
    after = keep.items() or 0
    check("two servers, one stopped: the stopped server's keys moved to the other one "
          "(items %d -> %d)" % (before, after), after > before, (before, after))
    if settled:
        # And they stay there while the server is down: longer than two of
        # the memcached backend's retry periods (dead_s, 10 s by default),
        # a request a second, not one of them computing again.
        t1 = time.time()
        again = []
        wrong = 0
        while time.time() - t1 < 25:
            off = pool.log_size()
            rs, took = many(url, prefix, body_set, 8)
            time.sleep(0.2)
            n = computations(pool.log_since(off))
            wrong += sum(1 for b, r in zip(body_set, rs) if not right(b, r))
            if n:
                notes = sorted(set(re.findall(r'note="cache degraded: .*: ([^":]*)"',
                                              pool.log_since(off))))
                again.append((round(time.time() - t0, 1), round(took, 1), dict(n), notes))
            time.sleep(0.8)
        # Was a known bug: when the stopped server's retry came round,
        # every key was computed again, with no "cache degraded" note (a
        # miss, not a fault).  Gone since a memoize hit is one multi-get
        # whose partial failure sends each unread key through mc_get,
        # which judges the dead server and asks the live one: the bug
        # showed in 3 of 3 runs before, in none of 6 after (binary or text
        # protocol).
        check("two servers, one stopped: for 25 s after the move every request stays a hit "
              "(rounds that computed again: %d)" % len(again), not again,
              "at s after the stop, round took s, computations, log remarks: %s" % again)
        equal("two servers, one stopped: ... and every answer stays right", wrong, 0)
    equal("two servers, one stopped: the workers all still run", len(pool.pids()), 4)


def main():
    h = H.Harness("fcdash-signal")
    static = h.static_root()
    mc_a = Memcached(h).start()
    mc_b = Memcached(h).start()
    mc_c = Memcached(h).start()
    prog = H.program("examples/signal/signal")
    one = h.pool("signal", prog, workers=4, env={
        "FCDASH_PREFIX": "/signal/", "FCDASH_STATIC_ROOT": static,
        "FCDASH_CACHE": "memcached://" + mc_a.addr})
    two = h.pool("signal-two", prog, workers=4, env={
        "FCDASH_PREFIX": "/signal-two/", "FCDASH_STATIC_ROOT": static,
        "FCDASH_CACHE": "memcached://%s,%s" % (mc_b.addr, mc_c.addr)})
    url = h.start_nginx({"/signal/": one.upstream, "/signal-two/": two.upstream})
    reference = {}

    section("the page")
    H.guarded("page", page, url)
    section("in Chromium: a first and a second browser")
    if not (os.path.isfile(B.CHROMIUM) and os.access(B.CHROMIUM, os.X_OK)):
        H.missing("signal browser", "%s not found (apt-get install chromium)" % B.CHROMIUM)
    else:
        H.guarded("signal browser", browser, url, one)
    section("single flight: 12 concurrent cold requests, 4 workers")
    H.guarded("single flight", single_flight, url, one)
    section("the four figures of every category")
    H.guarded("figures", figures, url, one, reference)
    section("values shared across workers")
    H.guarded("across workers", across_workers, url, one, reference)
    section("memcached killed in the middle of a run, then restarted")
    H.guarded("memcached killed", memcached_killed, url, one, mc_a, reference)
    section("two memcached servers, one stopped")
    H.guarded("two servers", two_servers, url, two, mc_b, mc_c, reference)


if __name__ == "__main__":
    private_shm()
    H.run(main)
