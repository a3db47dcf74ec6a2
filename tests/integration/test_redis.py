"""test_redis.py - the guide's Examples 3 (signal) and 4 (session) with
FCDASH_CACHE=redis://... through nginx.

Our own redis-server on 127.0.0.1 at a free high port and on a unix socket
in the test's temporary directory, from a config file there: no
persistence (save "", appendonly no), a pid file, a random password
(requirepass).  Stopped by pid, pass or fail.  The cache URLs carry that
password, so the pools get FCDASH_CACHE in their environment, never on a
command line (fcdash-pool's --env values show in ps), as test_session.py
does with FCDASH_SECRET.

nginx in front of four spawn-fcgi pools:
  /signal/        examples/signal, 4 workers, redis://:PASSWORD@127.0.0.1:PORT/1
  /signal-unix/   examples/signal, 2 workers, redis+unix://SOCKET?db=2&password=PASSWORD
  /signal-wrong/  examples/signal, 2 workers, redis://:WRONG@127.0.0.1:PORT/1
  /session/       examples/session, 4 workers, redis://:PASSWORD@127.0.0.1:PORT/3

The cache counters (_fcdash/metrics) are per host and app name, shared with
every other "signal" or "session" pool on the machine, test_signal.py's and
test_session.py's included when make check runs them beside this one; so
the counts here come from each pool's own log ("Computing value with X" is
one real computation), from timings, and from what Redis itself holds.

In order:
  single flight: 12 concurrent cold requests for figs over the 4 workers:
      all 200 and equal, exactly one "Computing value with figs" in the pool
      log, every worker took part, about one computation's time; Redis db 1
      holds the values;
  across workers: 16 requests for the four figures of figs: no computation;
  the unix socket: /signal-unix/ computes apples once for 4 concurrent
      requests, then none; the values are in db 2;
  Redis killed (SIGKILL, by pid) in the middle of a run: every request still
      200 with figs' figure, the log remarks on the degraded cache, the
      workers all still run; restarted on the same port (empty), within 60 s
      a round of 8 requests needs no computation, and Redis holds values
      again;
  a wrong password: every request 200 with the right figure, computed
      locally; the pool log says "AUTH refused (WRONGPASS ...); check the
      password in FCDASH_CACHE" and never shows the password; workers run;
  sessions on Redis: two sessions asked at once (both outputs each) take
      one 3-s computation each, a session's outputs agree, the sessions
      differ, "Get data" answers at once with the same frame; Redis db 3
      holds the session values.
"""

import os
import re
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import harness as H  # noqa: E402
from harness import check, equal, fetch, section  # noqa: E402
import test_signal as S  # noqa: E402  (the signal example's requests and log readers)
import test_session as SS  # noqa: E402  (the session example's requests)

COMPUTE_S = 3.0


# ---- a redis-server we can kill and restart on the same port ------------------

class Redis:
    def __init__(self, h, password):
        self.h = h
        self.password = password
        self.port = H.free_port()
        self.sock = h.path("redis.sock")
        self.pidfile = h.path("redis.pid")
        self.conf = h.path("redis.conf")
        self.proc = None

    def url(self, db, password=None):
        return "redis://:%s@127.0.0.1:%d/%d" % (password or self.password, self.port, db)

    def unix_url(self, db):
        return "redis+unix://%s?db=%d&password=%s" % (self.sock, db, self.password)

    def start(self):
        fd = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("bind 127.0.0.1\nport %d\nunixsocket %s\nunixsocketperm 700\n"
                    "dir %s\npidfile %s\ndaemonize no\nsave \"\"\nappendonly no\n"
                    "requirepass %s\n" % (self.port, self.sock, self.h.dir, self.pidfile,
                                          self.password))
        try:
            os.unlink(self.pidfile)
        except OSError:
            pass
        self.proc = self.h.spawn([H.tool("redis-server"), self.conf],
                                 log=self.h.path("redis-%d.log" % self.port))
        end = time.time() + 10
        while time.time() < end:
            if os.path.exists(self.pidfile) and self.ping():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise H.Missing("redis-server did not start on port %d (apt-get install redis-server)"
                        % self.port)

    def kill(self, sig=signal.SIGKILL):
        """Signal our redis-server by the pid in its pid file (checked to be
        the one we started) and wait until it is gone."""
        with open(self.pidfile) as f:
            pid = int(f.read().split()[0])
        if pid != self.proc.pid:
            raise AssertionError("pid file says %d, we started %d" % (pid, self.proc.pid))
        os.kill(pid, sig)
        self.proc.wait(5)

    # -- a minimal RESP client, to ask Redis itself

    def cmd(self, *args, db=0):
        """One command after AUTH and SELECT; the reply (str, int, list,
        None), or an exception when Redis does not answer or answers an
        error."""
        s = socket.create_connection(("127.0.0.1", self.port), 2)
        try:
            s.settimeout(5)
            f = s.makefile("rb")
            out = []
            for c in (("AUTH", self.password), ("SELECT", str(db)), args):
                out.append(b"*%d\r\n" % len(c)
                           + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in c))
            s.sendall(b"".join(out))
            replies = [self._reply(f) for _ in out]
            return replies[-1]
        finally:
            s.close()

    def _reply(self, f):
        line = f.readline()
        if not line:
            raise OSError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = f.read(n + 2)[:-2]
            return data.decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply(f) for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)

    def ping(self):
        try:
            return self.cmd("PING") == "PONG"
        except (OSError, RuntimeError):
            return False

    def keys(self, db, pattern):
        try:
            return len(self.cmd("KEYS", pattern, db=db))
        except (OSError, RuntimeError):
            return None


def pool(h, name, binary, workers, cache, env):
    """fcdash-pool start with FCDASH_CACHE (it holds the password) and
    FCDASH_SECRET in the environment only."""
    saved = {k: os.environ.get(k) for k in cache}
    os.environ.update(cache)
    try:
        return h.pool(name, binary, workers=workers, env=env)
    finally:
        for k, v in saved.items():
            if v is None:
                del os.environ[k]
            else:
                os.environ[k] = v


# ---- the checks --------------------------------------------------------------

def single_flight(url, p, rd):
    prefix = "/signal/"
    off = p.log_size()
    bodies = [S.compute_body("figs"), S.figure_body("graph-1", "figs")] * 6
    rs, took = S.many(url, prefix, bodies, 12)
    time.sleep(0.3)
    log = p.log_since(off)
    check("single flight: 12 concurrent cold requests for figs all answer 200",
          all(r.status == 200 for r in rs), [r for r in rs if r.status != 200][:3])
    equal("single flight: global_store computed figs exactly once (\"Computing value with\" "
          "lines)", dict(S.computations(log)), {"figs": 1})
    pids = S.answering_pids(log, prefix)
    equal("single flight: all 4 workers took part (pids %s)" % sorted(pids), len(pids), 4)
    check("single flight: the whole burst took about one computation (%.2f s)" % took,
          COMPUTE_S - 0.1 <= took < 2 * COMPUTE_S, took)
    equal("single flight: every compute_value answer is the same signal",
          [H.json.loads(t) for t in {r.text for r in rs[0::2]}],
          [{"multi": True, "response": {"signal": {"data": "figs"}}}])
    figs = {r.text for r in rs[1::2]}
    check("single flight: every graph-1 answer is byte for byte the same", len(figs) == 1,
          "%d different answers" % len(figs))
    n = rd.keys(1, "fcd:signal:*")
    check("single flight: Redis db 1 holds the values (%s keys fcd:signal:*)" % n,
          (n or 0) >= 1, n)
    check("single flight: no cache remark in the log (Redis answered every call)",
          "cache degraded" not in log, log[-1500:])
    return S.figure_of(rs[1], "graph-1")


def across_workers(url, p, reference):
    prefix = "/signal/"
    off = p.log_size()
    bodies = [S.figure_body(g, "figs") for g in S.GRAPHS] * 4
    rs, _ = S.many(url, prefix, bodies, 16)
    time.sleep(0.3)
    log = p.log_since(off)
    check("across workers: 16 concurrent requests answer 200",
          all(r.status == 200 for r in rs), [r for r in rs if r.status != 200][:3])
    equal("across workers: graph-1 shows the same figure as before",
          S.figure_of(rs[0], "graph-1"), reference["figs"])
    pids = S.answering_pids(log, prefix)
    check("across workers: %d different workers answered" % len(pids), len(pids) >= 2, pids)
    equal("across workers: nothing was computed (no log line)", dict(S.computations(log)), {})


def unix_socket(url, p, rd, reference):
    prefix = "/signal-unix/"
    off = p.log_size()
    bodies = [S.figure_body("graph-1", "apples")] * 4
    rs, _ = S.many(url, prefix, bodies, 4)
    rs2, _ = S.many(url, prefix, bodies, 4)
    time.sleep(0.3)
    log = p.log_since(off)
    check("unix socket: 8 requests for apples answer 200 with one figure",
          all(r.status == 200 for r in rs + rs2)
          and len({r.text for r in rs + rs2}) == 1, [r for r in rs + rs2 if r.status != 200][:3])
    equal("unix socket: apples computed once for 4 concurrent requests, then not again",
          dict(S.computations(log)), {"apples": 1})
    n = rd.keys(2, "fcd:signal:*")
    check("unix socket: Redis db 2 holds the values (%s keys)" % n, (n or 0) >= 1, n)
    reference["apples"] = S.figure_of(rs[0], "graph-1")


def redis_killed(url, p, rd, reference):
    prefix = "/signal/"
    want = reference.get("figs")
    if want is None:
        raise AssertionError("no reference figure for figs (the single-flight step failed)")
    off = p.log_size()
    done = []
    lock = threading.Lock()
    killed_after = []

    def one(i):
        r = S.update(url, prefix, S.figure_body("graph-1", "figs"))
        with lock:
            done.append(i)
        return r

    # Six requests, the kill once four have answered (the others may be in
    # flight), then six more sent after it: a graph hit takes a millisecond
    # or two, so twelve sent at once could all be answered before the kill
    # lands, and nothing would be left to meet the dead server.
    with ThreadPoolExecutor(max_workers=4) as ex:
        futures = [ex.submit(one, i) for i in range(6)]
        end = time.time() + 20
        while len(done) < 4 and time.time() < end:
            time.sleep(0.005)
        killed_after.append(len(done))
        rd.kill(signal.SIGKILL)
        futures += [ex.submit(one, i) for i in range(6, 12)]
        rs = [f.result() for f in futures]
    time.sleep(0.3)
    log = p.log_since(off)
    check("redis killed: SIGKILL by pid after %s of the first 6 requests answered, 6 more sent "
          "after it" % killed_after, killed_after and 4 <= killed_after[0] <= 6, killed_after)
    bad = [(i, r.status, r.text[:150]) for i, r in enumerate(rs)
           if r.status != 200 or S.figure_of(r, "graph-1") != want]
    check("redis killed: every one of the 12 requests answered 200 with figs' figure",
          not bad, bad[:3])
    check("redis killed: the workers computed figs themselves meanwhile (%d log lines)"
          % S.computations(log)["figs"], S.computations(log)["figs"] >= 1,
          dict(S.computations(log)))
    check("redis killed: the log remarks on the degraded cache, naming Redis",
          re.search(r'note="cache degraded: [^"]*redis 127\.0\.0\.1:%d' % rd.port, log),
          log[-1500:])
    equal("redis killed: the workers all still run", len(p.pids()), 4)

    # Back on the same port, empty.  Each worker reconnects after its
    # retry_s pause; until then it computes, then values are stored again.
    rd.start()
    bodies = [S.figure_body(g, "figs") for g in S.GRAPHS] * 2
    t0 = time.time()
    rounds = []
    recovered = False
    while time.time() - t0 < 60:
        off = p.log_size()
        rs, _ = S.many(url, prefix, bodies, 8)
        time.sleep(0.2)
        n = S.computations(p.log_since(off))["figs"]
        ok = all(r.status == 200 and S.figure_of(r, b["outputs"]["id"]) is not None
                 for b, r in zip(bodies, rs)) and S.figure_of(rs[0], "graph-1") == want
        rounds.append((round(time.time() - t0, 1), ok, n))
        if not ok:
            break
        if n == 0:
            recovered = True
            break
        time.sleep(0.5)
    print("# restart rounds (s, all right, computations): %s" % rounds, flush=True)
    check("redis restarted: every request answered 200 with the right figure meanwhile",
          all(r[1] for r in rounds), rounds)
    check("redis restarted: within 60 s a round of 8 concurrent requests needs no computation",
          recovered, rounds)
    n = rd.keys(1, "fcd:signal:*")
    check("redis restarted: the restarted Redis holds values again (%s keys)" % n, (n or 0) >= 1,
          n)


def wrong_password(url, p, rd, reference):
    prefix = "/signal-wrong/"
    off = p.log_size()
    bodies = [S.figure_body("graph-1", "apples")] * 4
    rs, _ = S.many(url, prefix, bodies, 2)
    time.sleep(0.3)
    log = p.log_since(off)
    check("wrong password: 4 requests answer 200 with apples' figure",
          all(r.status == 200 and S.figure_of(r, "graph-1") == reference.get("apples")
              for r in rs), [(r.status, r.text[:120]) for r in rs][:3])
    check("wrong password: the workers computed without the cache (%d log lines)"
          % S.computations(log)["apples"], S.computations(log)["apples"] >= 2,
          dict(S.computations(log)))
    m = re.search(r'note="cache degraded: ([^"]*AUTH refused \(WRONGPASS[^"]*)"', log)
    check("wrong password: the log says so clearly at first use: %s" % (m.group(1) if m else ""),
          m and "check the password in FCDASH_CACHE" in m.group(1)
          and ("redis 127.0.0.1:%d" % rd.port) in m.group(1), log[-1500:])
    check("wrong password: the log never shows the password",
          "wrong-" + rd.password not in p.log_text(), "")
    equal("wrong password: the workers all still run", len(p.pids()), 2)


def sessions(url, p, rd):
    a, b = SS.layout_id(url), SS.layout_id(url)
    if not check("sessions: two page loads give two ids", a and b and a != b, (a, b)):
        return
    jobs = [(1, a), (2, a), (1, b), (2, b)]
    keys0 = rd.keys(3, "*") or 0
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=4) as ex:
        rs = list(ex.map(lambda j: SS.ask(url, j[0], j[1]), jobs))
    took = time.time() - t0
    check("sessions: all four answers 200", all(r.status == 200 for r, _ in rs),
          [r for r, _ in rs if r.status != 200])
    pres = [SS.shown(r, n)[1] for (r, _), (n, _) in zip(rs, jobs)]
    check("sessions: a session's two outputs show the same frame, the sessions' differ",
          pres[0] and pres[0] == pres[1] and pres[2] == pres[3] and pres[0] != pres[2], pres)
    check("sessions: each answer waited for its session's one computation (%s s), all of it "
          "about one computation (%.2f s)" % ([round(t, 2) for _, t in rs], took),
          all(COMPUTE_S - 0.1 <= t < 2 * COMPUTE_S for _, t in rs) and took < 2 * COMPUTE_S,
          [t for _, t in rs])
    keys1 = rd.keys(3, "*") or 0
    check("sessions: Redis db 3 holds the sessions' values (%d -> %d keys)" % (keys0, keys1),
          keys1 >= keys0 + 2, (keys0, keys1))
    with ThreadPoolExecutor(max_workers=2) as ex:
        again = list(ex.map(lambda n: SS.ask(url, n, a, 1), (1, 2)))
    check("sessions: \"Get data\" answers at once (%s s) with session A's frame"
          % [round(t, 3) for _, t in again],
          all(t < 1.0 and SS.shown(r, n)[1] == pres[0] for (r, t), n in zip(again, (1, 2))),
          again)


def main():
    h = H.Harness("fcdash-redis")
    static = h.static_root()
    password = os.urandom(16).hex()
    rd = Redis(h, password).start()
    signal_bin = H.program("examples/signal/signal")
    env = {"FCDASH_STATIC_ROOT": static}
    one = pool(h, "signal", signal_bin, 4, {"FCDASH_CACHE": rd.url(1)},
               dict(env, FCDASH_PREFIX="/signal/"))
    unix = pool(h, "signal-unix", signal_bin, 2, {"FCDASH_CACHE": rd.unix_url(2)},
                dict(env, FCDASH_PREFIX="/signal-unix/"))
    wrong = pool(h, "signal-wrong", signal_bin, 2,
                 {"FCDASH_CACHE": rd.url(1, password="wrong-" + password)},
                 dict(env, FCDASH_PREFIX="/signal-wrong/"))
    sess = pool(h, "session", H.program("examples/session/session"), 4,
                {"FCDASH_CACHE": rd.url(3), "FCDASH_SECRET": os.urandom(32).hex()},
                dict(env, FCDASH_PREFIX="/session/"))
    url = h.start_nginx({"/signal/": one.upstream, "/signal-unix/": unix.upstream,
                         "/signal-wrong/": wrong.upstream, "/session/": sess.upstream})
    reference = {}

    section("start-up")
    for p in (one, unix, wrong, sess):
        log = p.log_text()
        check("start-up: %s's workers say they serve with cache redis" % p.name,
              len(re.findall(r"serving \S+ \(.*cache redis(\+unix)?\)", log)) == len(p.pids()),
              log[-800:])
        check("start-up: %s's log never shows the password" % p.name, password not in log, "")
    section("single flight: 12 concurrent cold requests, 4 workers, on Redis")
    reference["figs"] = H.guarded("single flight", single_flight, url, one, rd)
    section("values shared across workers")
    H.guarded("across workers", across_workers, url, one, reference)
    section("a unix socket")
    H.guarded("unix socket", unix_socket, url, unix, rd, reference)
    section("a wrong password")
    H.guarded("wrong password", wrong_password, url, wrong, rd, reference)
    section("sessions on Redis")
    H.guarded("sessions", sessions, url, sess, rd)
    section("Redis killed in the middle of a run, then restarted")
    H.guarded("redis killed", redis_killed, url, one, rd, reference)


if __name__ == "__main__":
    H.run(main)
