"""test_faults_load.py - faults under load: what clients see while wrk drives the app.

wrk (WRK_THREADS threads, WRK_CONNS keep-alive connections, 127.0.0.1 only)
posts the guide's Example 3 graph callback (graph-1.figure for apples, the
body Dash's renderer sends: bench/run.py's (b)) through nginx to a
spawn-fcgi pool of WORKERS examples/signal workers under multiwatch, with a
memcached of our own as FCDASH_CACHE; tests/lib/harness.py starts and stops
them all by pid.  Each wrk run is bounded (-d seconds, --timeout
WRK_TIMEOUT_S) and ends by itself; the faults are injected by pid while it
runs.  For each run the script prints wrk's counts: requests, non-2xx, and
socket errors connect/read/write/timeout, plus the statuses a Lua response()
hook saw.  In order:

  baseline: no fault, nothing fails (what the fault runs are read against);
  a worker killed (SIGKILL) mid-run, twice: at most one failed request per
      kill (the one it had in hand: nginx answers 502, POSTs are not
      resent), multiwatch replaces it, the pool has WORKERS workers again
      and a run afterwards fails nothing;
  nginx reloaded gracefully (SIGHUP to its master) RELOADS times mid-run,
      once with a new connection per request and once with wrk's keep-alive
      connections: each reload starts new nginx workers and nginx answers
      200 to every request it reads; with a connection per request nothing
      fails, with keep-alive the only errors are requests sent on an idle
      connection the old workers closed (nginx_reloaded says why);
  memcached killed (SIGKILL) mid-run, restarted on the same port a few
      seconds later: no request fails (the workers compute locally, 3 s
      each: global_store's own sleep, so the wrk timeout is well above the
      queue that builds), the cache errors are counted; then hits resume
      (a burst with no computation), and a last run is all hits.

The counters behind the hit checks live in /dev/shm; like test_signal.py
the script re-runs itself in a private /dev/shm when it can.
"""

import collections
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # importing test_signal leaves no __pycache__ in the tree
import harness as H  # noqa: E402
from harness import check, equal, section  # noqa: E402
import test_signal as S  # noqa: E402  (Memcached, request bodies, metrics, log counts)

PREFIX = "/signal/"
WORKERS = 4
WRK_THREADS = 2
WRK_CONNS = 8
# A request that meets a dead memcached computes for S.COMPUTE_S (3 s);
# WRK_CONNS requests over WORKERS workers queue about 2 x 3 s.  wrk's own
# default (2 s) would call those timeouts; nginx gives a worker 60 s
# (fastcgi_read_timeout), so 30 s only catches a request that hangs.
WRK_TIMEOUT_S = 30
RELOADS = 3
# How long multiwatch and the cache get to come back.
POOL_WHOLE_S = 5.0
HITS_RESUME_S = 40.0

LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[%s]==]

-- Count the statuses in each thread; done() adds them up and prints them.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
    local all, parts = {}, {}
    for _, t in ipairs(threads) do
        for k, v in pairs(t:get("statuses")) do all[k] = (all[k] or 0) + v end
    end
    for k, v in pairs(all) do parts[#parts + 1] = k .. "=" .. v end
    table.sort(parts)
    io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
"""


# ---- wrk ---------------------------------------------------------------------

class Load:
    """One bounded wrk run in the background."""

    def __init__(self, h, url, seconds, name, close=False):
        """close: each request on a new connection ("Connection: close"),
        instead of wrk's keep-alive connections."""
        self.name = name
        self.seconds = seconds
        script = h.path("wrk-%s.lua" % name)
        body = json.dumps(S.figure_body("graph-1", "apples"), separators=(",", ":"))
        with open(script, "w") as f:
            f.write(LUA % body)
            if close:
                f.write('wrk.headers["Connection"] = "close"\n')
        self.out = h.path("wrk-%s.out" % name)
        argv = [H.tool("wrk"), "-t%d" % WRK_THREADS, "-c%d" % WRK_CONNS, "-d%ds" % seconds,
                "--timeout", "%ds" % WRK_TIMEOUT_S, "-s", script, url + PREFIX
                + "_dash-update-component"]
        self.proc = h.spawn(argv, log=self.out)
        self.t0 = time.time()

    def running(self):
        return self.proc.poll() is None

    def at(self, seconds):
        """Sleep until `seconds` after the start."""
        time.sleep(max(0.0, self.t0 + seconds - time.time()))

    def finish(self):
        """Wait for wrk (it stops by itself after -d, plus the requests in
        flight up to its timeout) and return its counts."""
        try:
            self.proc.wait(self.seconds + WRK_TIMEOUT_S + 10)
        except subprocess.TimeoutExpired:
            H.kill_pid(self.proc.pid, signal.SIGKILL)
            raise AssertionError("wrk %s did not end" % self.name)
        with open(self.out, errors="replace") as f:
            text = f.read()
        return parse(text)


def parse(text):
    r = {"requests": None, "non2xx": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0,
         "statuses": None, "text": text}
    m = re.search(r"(\d+) requests in", text)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        for k, v in zip(("connect", "read", "write", "timeout"), m.groups()):
            r[k] = int(v)
    m = re.search(r"^statuses: (.*)$", text, re.M)
    if m:
        r["statuses"] = {int(k): int(v) for k, v in re.findall(r"(\d+)=(\d+)", m.group(1))}
    if r["requests"] is None or r["statuses"] is None:
        raise AssertionError("wrk printed no summary: %s" % text[-1500:])
    return r


def failures(r):
    """Non-2xx answers plus every kind of socket error."""
    return r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"]


def counts(r):
    return ("%d requests, %d non-2xx, socket errors connect %d read %d write %d timeout %d; "
            "statuses %s" % (r["requests"], r["non2xx"], r["connect"], r["read"], r["write"],
                             r["timeout"], " ".join("%d=%d" % kv for kv in
                                                    sorted(r["statuses"].items()))))


def report(what, r):
    print("# %s: %s" % (what, counts(r)), flush=True)
    # The Lua hook and wrk's own tally must agree, or the counts mean nothing.
    equal("%s: the Lua hook saw every response wrk counted" % what,
          sum(r["statuses"].values()), r["requests"])


# ---- the faults -------------------------------------------------------------

def baseline(h, url):
    r = Load(h, url, 2, "baseline").finish()
    report("baseline", r)
    check("baseline: wrk made requests (%d)" % r["requests"], r["requests"] >= 50, r["text"])
    equal("baseline: no request failed", failures(r), 0)


def wait_pool(pool, killed):
    end = time.time() + POOL_WHOLE_S
    while time.time() < end:
        pids = pool.pids()
        if len(pids) == WORKERS and killed not in pids:
            return pids
        time.sleep(0.05)
    return pool.pids()


def worker_killed(h, url, pool):
    kills = 2
    first = set(pool.pids())
    off = pool.log_size()
    load = Load(h, url, 2 + 2 * kills, "worker-killed")
    victims, whole, during = [], [], []
    for i in range(kills):
        load.at(1.5 + 2 * i)
        before = pool.pids()
        victim = before[i % len(before)]
        during.append(load.running())
        os.kill(victim, signal.SIGKILL)
        victims.append(victim)
        pids = wait_pool(pool, victim)
        whole.append(len(pids) == WORKERS and victim not in pids)
    r = load.finish()
    replacements = set(pool.pids()) - first
    served = {int(p) for p in S.answering_pids(pool.log_since(off), PREFIX)} & replacements
    report("worker killed x%d" % kills, r)
    check("worker killed: each SIGKILL (pids %s) landed while wrk ran" % victims,
          all(during), during)
    check("worker killed: multiwatch made the pool whole again (%d workers, none of the "
          "killed) within %.0f s of each kill" % (WORKERS, POOL_WHOLE_S), all(whole), whole)
    check("worker killed: the replacements (%s) answered requests of the same run"
          % sorted(replacements), replacements and served == replacements,
          sorted(served))
    check("worker killed: wrk made requests (%d)" % r["requests"], r["requests"] >= 50, r["text"])
    check("worker killed: at most the request each killed worker had in hand failed "
          "(%d of at most %d)" % (failures(r), kills), failures(r) <= kills, counts(r))
    after = Load(h, url, 2, "after-worker-killed").finish()
    report("after the worker kills", after)
    equal("worker killed: a run afterwards fails nothing", failures(after), 0)


def nginx_workers(h):
    return {p for p in H.children(h.nginx.pid) if H.alive(p)}


def nginx_statuses(h, offset):
    """Counter of the statuses in nginx's access log from byte `offset` on:
    what nginx answered to the requests it read."""
    with open(h.path("nginx", "access.log"), "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    return collections.Counter(int(x) for x in re.findall(r'" (\d{3}) ', text))


def nginx_reloaded(h, url, close):
    """RELOADS graceful reloads under wrk.  close: every request on a new
    connection; else wrk's keep-alive connections, as a browser keeps them.

    On a reload the old nginx workers finish the requests they have read
    and close their idle keep-alive connections at once.  A request the
    client sent on such a connection in the same instant is never read: the
    client sees the connection reset or closed (wrk: a read error), as in
    any HTTP/1.1 keep-alive close (RFC 9112 9.3.1).  Browsers resend a
    request that fails that way on a reused connection; wrk does not.  So
    with keep-alive the check is that those are the only errors, at most
    one per connection per reload, and that nginx answered 200 to every
    request it did read; with a connection per request, nothing may fail:
    the listening socket stays open across the reload and the new workers
    accept what waits in it."""
    kind = "a new connection per request" if close else "keep-alive connections"
    what = "nginx reloaded x%d, %s" % (RELOADS, kind)
    log_off = os.path.getsize(h.path("nginx", "access.log"))
    load = Load(h, url, int(2 + 1.5 * RELOADS), "nginx-reload-%s"
                % ("close" if close else "keepalive"), close)
    renewed, during = [], []
    for i in range(RELOADS):
        load.at(1 + 1.5 * i)
        before = nginx_workers(h)
        during.append(load.running())
        os.kill(h.nginx.pid, signal.SIGHUP)
        end = time.time() + 5
        new = set()
        while time.time() < end and not new:
            new = nginx_workers(h) - before
            time.sleep(0.05)
        h.nginx_pids.update(new)
        renewed.append(bool(new))
    r = load.finish()
    time.sleep(0.2)
    answered = nginx_statuses(h, log_off)
    report(what, r)
    print("# %s: nginx's access log: %s" % (what, dict(answered)), flush=True)
    check("%s: each SIGHUP to the master (pid %d) landed while wrk ran" % (what, h.nginx.pid),
          all(during), during)
    check("%s: each reload started new nginx workers" % what, all(renewed), renewed)
    check("%s: wrk made requests (%d)" % (what, r["requests"]), r["requests"] >= 50, r["text"])
    # 499: requests wrk still had in flight when its time was up.
    check("%s: nginx answered 200 to every request it read (499 only for the at most %d wrk "
          "left in flight at its end)" % (what, WRK_CONNS),
          set(answered) <= {200, 499} and answered[499] <= WRK_CONNS, dict(answered))
    equal("%s: no non-2xx answer" % what, r["non2xx"], 0)
    if close:
        equal("%s: no socket error" % what, failures(r), 0)
    else:
        if r["read"]:
            print("# %s: %d requests met a keep-alive connection the old workers closed as idle"
                  % (what, r["read"]), flush=True)
        check("%s: the only socket errors are reads on keep-alive connections the old workers "
              "closed, at most one per connection per reload (%d of at most %d)"
              % (what, r["read"], WRK_CONNS * RELOADS),
              r["connect"] + r["write"] + r["timeout"] == 0 and r["read"] <= WRK_CONNS * RELOADS,
              counts(r))


def memcached_killed(h, url, pool, mc):
    m0 = S.metrics(url, PREFIX)
    off = pool.log_size()
    load = Load(h, url, 14, "memcached-killed")
    load.at(2)
    during = load.running()
    mc.kill(signal.SIGKILL)
    load.at(6)
    mc.start()
    r = load.finish()
    log = pool.log_since(off)
    d = S.delta(S.metrics(url, PREFIX), m0)
    report("memcached killed and restarted", r)
    check("memcached killed: SIGKILL by pid landed while wrk ran", during)
    check("memcached killed: wrk made requests (%d)" % r["requests"], r["requests"] >= 20,
          r["text"])
    equal("memcached killed: no request failed (non-2xx + socket errors)", failures(r), 0)
    check("memcached killed: the workers computed apples themselves meanwhile (%d times)"
          % S.computations(log)["apples"], S.computations(log)["apples"] >= 1,
          dict(S.computations(log)))
    check("memcached killed: metrics: the cache errors were counted (%d)" % d["errors"],
          d["errors"] >= 1, d)
    equal("memcached killed: the pool still has %d workers" % WORKERS, len(pool.pids()), WORKERS)

    # Hits resume once each worker tries the server again (dead_s).
    bodies = [S.figure_body("graph-1", "apples")] * WRK_CONNS
    t0 = time.time()
    rounds, recovered = [], False
    while time.time() - t0 < HITS_RESUME_S and not recovered:
        m0 = S.metrics(url, PREFIX)
        off = pool.log_size()
        rs, _ = S.many(url, PREFIX, bodies, WRK_CONNS)
        time.sleep(0.1)
        n = S.computations(pool.log_since(off))["apples"]
        d = S.delta(S.metrics(url, PREFIX), m0)
        ok = all(x.status == 200 for x in rs)
        rounds.append((round(time.time() - t0, 1), ok, n, d["hits"]))
        recovered = ok and n == 0 and d["computes"] == 0 and d["hits"] >= len(bodies)
        if not recovered:
            time.sleep(0.5)
    print("# after the restart (s, all 200, computations, hits): %s" % rounds, flush=True)
    check("memcached restarted: hits resumed within %.0f s (a burst of %d with no computation)"
          % (HITS_RESUME_S, len(bodies)), recovered, rounds)
    check("memcached restarted: it holds values again (%s items)" % mc.items(),
          (mc.items() or 0) >= 1, mc.items())
    m0 = S.metrics(url, PREFIX)
    off = pool.log_size()
    r = Load(h, url, 2, "after-memcached").finish()
    time.sleep(0.1)
    d = S.delta(S.metrics(url, PREFIX), m0)
    report("after the memcached restart", r)
    equal("memcached restarted: a run afterwards fails nothing", failures(r), 0)
    check("memcached restarted: ... and every request of it is a hit (%d hits, %d computes, "
          "%d log lines)" % (d["hits"], d["computes"], sum(S.computations(
              pool.log_since(off)).values())),
          d["computes"] == 0 and d["hits"] >= r["requests"]
          and not S.computations(pool.log_since(off)), d)


def main():
    h = H.Harness("fcdash-faults")
    static = h.static_root()
    mc = S.Memcached(h).start()
    pool = h.pool("signal", H.program("examples/signal/signal"), workers=WORKERS,
                  multiwatch=True, env={"FCDASH_PREFIX": PREFIX, "FCDASH_STATIC_ROOT": static,
                                        "FCDASH_CACHE": "memcached://" + mc.addr})
    url = h.start_nginx({PREFIX: pool.upstream})
    # The page's chain, once: compute apples (3 s), then a hit.
    for body in (S.compute_body("apples"), S.figure_body("graph-1", "apples")):
        r = S.update(url, PREFIX, body)
        if r.status != 200:
            raise AssertionError("warm-up answered %s" % r)

    section("baseline: %d connections, no fault" % WRK_CONNS)
    H.guarded("baseline", baseline, h, url)
    section("a worker killed with SIGKILL mid-run (multiwatch)")
    H.guarded("worker killed", worker_killed, h, url, pool)
    section("nginx reloaded (SIGHUP) mid-run")
    H.guarded("nginx reload", nginx_reloaded, h, url, False)
    H.guarded("nginx reload", nginx_reloaded, h, url, True)
    section("memcached killed with SIGKILL mid-run, restarted on the same port")
    H.guarded("memcached killed", memcached_killed, h, url, pool, mc)


if __name__ == "__main__":
    S.private_shm()
    H.run(main)
