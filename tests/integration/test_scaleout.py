"""test_scaleout.py - three hosts, one nginx, one memcached cluster.

The guide's promise is that any request may land on any process on any
server.  Three hosts, each a network namespace of this machine with its own
address (10.77.N.11-13 on a bridge in a fourth namespace; the test's own
end is 10.77.N.1, N a /24 no route of this machine uses), and its own
/dev/shm (so each host's cache counters are its own).  Each host runs:
  a memcached on HOST:11211;
  a spawn-fcgi pool of examples/signal (2 workers) on HOST:9001;
  a spawn-fcgi pool of examples/session (2 workers) on HOST:9002.
Every worker has FCDASH_CACHE=memcached://H1:11211,H2:11211,H3:11211 (one
ketama cluster) and, for the session app, the same FCDASH_SECRET.  One nginx
in the root namespace (nginx/fcdash-nginx-conf plus nginx/fcdash-hosts.conf:
fastcgi_next_upstream error timeout non_idempotent) balances /signal/ and
/session/ over the three hosts.

Checks:
  a value computed through one host (its pool, by FastCGI) is a hit on the
      other two: the same figure, no "Computing value with" line there,
      their own counters show a hit and no compute;
  single flight across hosts: 8 concurrent cold requests spread over the
      three hosts: one computation in all, the same figure everywhere;
  a session created through one host (its layout) is read through the
      others: the same data, no second computation;
  mid-run, through nginx: one host's pools stopped and another host's
      memcached stopped, and no request fails (every answer 200 and right);
  back again: the memcached restarted on its address and the pools on
      theirs; nginx sends the host requests again, the restarted memcached
      is written again, and single flight holds over all three hosts again.
Everything is torn down at the end: processes by pid, then the namespaces
and links.  Where namespaces cannot be made (no root, no CAP_NET_ADMIN, a
kernel without them) the script says why, prints "1 skipped" and exits 77
(automake's SKIP); it never counts that as passed.
"""

import collections
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as H  # noqa: E402
from harness import check, equal, section  # noqa: E402

HOSTS = 3
SIGNAL_PORT, SESSION_PORT, MC_PORT = 9001, 9002, 11211
COMPUTE_S = 3.0
GRAPHS = ["graph-1", "graph-2", "graph-3", "graph-4"]
SHM = 'mount -t tmpfs -o mode=1777 fcdash-host-shm /dev/shm && exec "$@"'


# ---- the network ------------------------------------------------------------

class Net:
    """The bridge namespace, the host namespaces and the links; torn down by
    teardown(), which is safe to call twice."""

    def __init__(self):
        self.tag = "f6%04x" % (os.getpid() & 0xffff)
        self.sw = self.tag + "-sw"
        self.hosts = ["%s-h%d" % (self.tag, i + 1) for i in range(HOSTS)]
        self.root_if = self.tag + "r"
        self.made = []
        self.subnet = None

    def ip(self, *args, ns=None, check_rc=True):
        argv = (["ip", "netns", "exec", ns] if ns else []) + ["ip"] + list(args)
        r = subprocess.run(argv, capture_output=True, text=True)
        if check_rc and r.returncode != 0:
            raise OSError("%s: %s" % (" ".join(argv), r.stderr.strip()))
        return r.stdout

    def pick_subnet(self):
        used = self.ip("-4", "route", "show", "table", "all") + self.ip("-4", "addr")
        free = [n for n in range(1, 255) if ("10.77.%d." % n) not in used]
        # FCDASH_TEST_SUBNET=N replays a run: the servers' addresses place
        # them on the ketama continuum, so they decide which keys live where.
        want = os.environ.get("FCDASH_TEST_SUBNET")
        if want:
            free = [n for n in free if str(n) == want]
        if not free:
            raise OSError("no free 10.77.%s.0/24 on this machine" % (want or "N"))
        self.subnet = "10.77.%d" % random.choice(free)

    def addr(self, i):
        return "%s.%d" % (self.subnet, 11 + i)

    def setup(self):
        self.pick_subnet()
        self.ip("netns", "add", self.sw)
        self.made.append(("netns", self.sw))
        self.ip("link", "add", "br0", "type", "bridge", ns=self.sw)
        self.ip("link", "set", "br0", "up", ns=self.sw)
        for i, ns in enumerate(self.hosts):
            self.ip("netns", "add", ns)
            self.made.append(("netns", ns))
            a, b = "%sh%d" % (self.tag, i + 1), "%sb%d" % (self.tag, i + 1)
            self.ip("link", "add", a, "type", "veth", "peer", "name", b)
            self.made.append(("link", a))
            self.ip("link", "set", a, "netns", ns, "name", "eth0")
            self.ip("link", "set", b, "netns", self.sw)
            self.ip("link", "set", b, "master", "br0", ns=self.sw)
            self.ip("link", "set", b, "up", ns=self.sw)
            self.ip("addr", "add", self.addr(i) + "/24", "dev", "eth0", ns=ns)
            self.ip("link", "set", "eth0", "up", ns=ns)
            self.ip("link", "set", "lo", "up", ns=ns)
        peer = self.tag + "rb"
        self.ip("link", "add", self.root_if, "type", "veth", "peer", "name", peer)
        self.made.append(("link", self.root_if))
        self.ip("link", "set", peer, "netns", self.sw)
        self.ip("link", "set", peer, "master", "br0", ns=self.sw)
        self.ip("link", "set", peer, "up", ns=self.sw)
        self.ip("addr", "add", self.subnet + ".1/24", "dev", self.root_if)
        self.ip("link", "set", self.root_if, "up")

    def teardown(self):
        errors = []
        for kind, name in reversed(self.made):
            if kind == "link":
                r = subprocess.run(["ip", "link", "del", name], capture_output=True, text=True)
                # A link moved into a namespace is gone from here already.
                if r.returncode != 0 and "Cannot find device" not in r.stderr:
                    errors.append(r.stderr.strip())
            else:
                r = subprocess.run(["ip", "netns", "del", name], capture_output=True, text=True)
                if r.returncode != 0:
                    errors.append(r.stderr.strip())
        self.made = []
        return errors

    def left(self):
        names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        return [n for n in [self.sw] + self.hosts if n in names] + \
            ([self.root_if] if (" %s@" % self.root_if) in links or (" %s:" % self.root_if) in links
             else [])


def namespaces_possible():
    """None when namespaces can be made here, else why not."""
    if not H.shutil.which("ip", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
        return "the ip command is missing (apt-get install iproute2)"
    probe = "f6probe%d" % os.getpid()
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return "ip netns add failed: %s" % r.stderr.strip()
    r = subprocess.run(["ip", "netns", "exec", probe, "ip", "link", "add", "b0", "type",
                        "bridge"], capture_output=True, text=True)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    if r.returncode != 0:
        return "no bridge inside a namespace: %s" % r.stderr.strip()
    return None


# ---- hosts: memcached and pools inside a namespace ----------------------------

class Host:
    def __init__(self, h, net, i, secret, static):
        self.h, self.net, self.i = h, net, i
        self.ns = net.hosts[i]
        self.addr = net.addr(i)
        self.name = "h%d" % (i + 1)
        self.secret = secret
        self.static = static
        self.mc = None
        self.pools = {}

    def cache_url(self):
        return "memcached://" + ",".join("%s:%d" % (self.net.addr(j), MC_PORT)
                                         for j in range(HOSTS))

    def start_memcached(self):
        argv = ["ip", "netns", "exec", self.ns, H.tool("memcached"), "-l", self.addr,
                "-p", str(MC_PORT), "-U", "0", "-m", "32"]
        if os.getuid() == 0:
            argv += ["-u", "nobody"]
        self.mc = self.h.spawn(argv, log=self.h.path("memcached-%s.log" % self.name))
        end = time.time() + 5
        while time.time() < end:
            if mc_stats(self.addr) is not None:
                return
            if self.mc.poll() is not None:
                break
            time.sleep(0.05)
        raise H.Missing("memcached on %s did not start" % self.addr)

    def stop_memcached(self):
        self.mc.send_signal(signal.SIGTERM)
        self.mc.wait(5)

    def start_pool(self, app):
        prefix, port = {"signal": ("/signal/", SIGNAL_PORT),
                        "session": ("/session/", SESSION_PORT)}[app]
        binary = H.program("examples/%s/%s" % (app, app))
        run = self.h.path("pools")
        os.makedirs(run, exist_ok=True)
        name = "%s-%s" % (app, self.name)
        # A sanitizer build's reports (or a wrapper's logs) are checked at
        # the pool's stop, as for the harness's own pools.
        reports, inst_env, wrap = self.h.instrument(binary, os.path.join(run, name))
        env = dict(self.h.worker_env(), FCDASH_PREFIX=prefix, FCDASH_STATIC_ROOT=self.static,
                   FCDASH_CACHE=self.cache_url(), **inst_env)
        argv = ["ip", "netns", "exec", self.ns, "sh", "-c", SHM, "sh",
                H.source_file("nginx/fcdash-pool"), "start", name, binary,
                "--port", str(port), "--address", self.addr, "--workers", "2", "--run-dir", run]
        for k, v in env.items():
            argv += ["--env", "%s=%s" % (k, v)]
        if wrap:
            argv += ["--wrapper", " ".join(wrap)]
        # The secret in the environment only, never on a command line.
        r = subprocess.run(argv, capture_output=True, text=True,
                           env=dict(os.environ, FCDASH_SECRET=self.secret))
        pool = H.Pool(self.h, name, binary, "%s:%d" % (self.addr, port),
                      os.path.join(run, name + ".log"), os.path.join(run, name + ".pid"), False,
                      reports)
        self.h.pools.append(pool)
        if r.returncode != 0:
            raise H.Missing("pool %s on %s: %s %s" % (name, self.ns, r.stderr.strip(),
                                                      pool.log_text()[-1000:]))
        self.pools[app] = pool
        return pool

    def stop_pool(self, app):
        self.h.stop_pool(self.pools[app])


def mc_stats(addr):
    try:
        s = socket.create_connection((addr, MC_PORT), 1)
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
    return {k.decode(): int(v) for k, v in re.findall(rb"STAT (\w+) (\d+)\r\n", buf)}


# ---- requests ------------------------------------------------------------------

def figure_body(graph, category):
    return {"output": graph + ".figure", "outputs": {"id": graph, "property": "figure"},
            "inputs": [{"id": "signal", "property": "data", "value": category}],
            "changedPropIds": ["signal.data"]}


def session_body(n, session):
    return {"output": "output-%d.children" % n,
            "outputs": {"id": "output-%d" % n, "property": "children"},
            "inputs": [{"id": "get-data-button", "property": "n_clicks"},
                       {"id": "session-id", "property": "data", "value": session}],
            "changedPropIds": []}


def direct(host, app, body, timeout=30):
    """One callback straight to a host's pool, by FastCGI (no nginx)."""
    prefix = "/%s/" % app
    return H.fcgi_request(host.pools[app].upstream, "POST", prefix + "_dash-update-component",
                          json.dumps(body), timeout=timeout)


def via_nginx(url, app, body, timeout=30):
    return H.post_json(url + "/%s/_dash-update-component" % app, body, timeout=timeout)


def figure(r, graph):
    try:
        return r.json()["response"][graph]["figure"]
    except (TypeError, KeyError):
        return None


def session_data(r, n):
    try:
        return r.json()["response"]["output-%d" % n]["children"]["props"]["children"][1][
            "props"]["children"]
    except (TypeError, KeyError, IndexError):
        return None


def computations(hosts, offsets=None):
    c = collections.Counter()
    for k, host in enumerate(hosts):
        p = host.pools["signal"]
        text = p.log_since(offsets[k]) if offsets else p.log_text()
        c.update(re.findall(r"^Computing value with (.*)$", text, re.M))
    return c


def offsets(hosts, app="signal"):
    return [host.pools[app].log_size() if app in host.pools else 0 for host in hosts]


def metrics(host, app="signal"):
    r = H.fcgi_request(host.pools[app].upstream, "GET", "/%s/_fcdash/metrics" % app)
    out = {}
    for line in r.text.splitlines():
        m = re.match(r'fcdash_cache_(\w+)_total\{app="%s"\} (\d+)$' % app, line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def timed(fn, *args):
    t0 = time.time()
    r = fn(*args)
    return r, time.time() - t0


# ---- the checks ------------------------------------------------------------------

def hit_on_others(hosts, ref):
    off = offsets(hosts)
    m0 = [metrics(x) for x in hosts]
    r, took = timed(direct, hosts[0], "signal", figure_body("graph-1", "apples"))
    fig = figure(r, "graph-1")
    check("one host: %s computes apples for graph-1 (%.1f s)" % (hosts[0].name, took),
          r.status == 200 and fig is not None and took >= COMPUTE_S - 0.2, r)
    ref["apples"] = fig
    for host in hosts[1:]:
        r, took = timed(direct, host, "signal", figure_body("graph-1", "apples"))
        check("hit on another host: %s answers the same apples figure at once (%.2f s)"
              % (host.name, took), r.status == 200 and figure(r, "graph-1") == fig
              and took < 1.5, (r.status, took))
    time.sleep(0.3)
    equal("hit on the others: one \"Computing value with apples\" line over all three hosts' "
          "pool logs", dict(computations(hosts, off)), {"apples": 1})
    for k, host in enumerate(hosts[1:], 1):
        d = {key: metrics(host).get(key, 0) - m0[k].get(key, 0) for key in ("hits", "computes")}
        check("hit on the others: %s's own counters: a hit, no compute (%s)" % (host.name, d),
              d["hits"] >= 1 and d["computes"] == 0, d)


def single_flight(hosts, ref):
    off = offsets(hosts)
    order = [hosts[k % HOSTS] for k in range(8)]
    with ThreadPoolExecutor(max_workers=8) as ex:
        t0 = time.time()
        rs = list(ex.map(lambda x: direct(x, "signal", figure_body("graph-2", "oranges")),
                         order))
        took = time.time() - t0
    time.sleep(0.3)
    check("single flight across hosts: 8 concurrent cold requests for oranges over %s all "
          "answer 200" % ",".join(x.name for x in order), all(r.status == 200 for r in rs),
          [r.status for r in rs])
    equal("single flight across hosts: oranges computed once in all (\"Computing value "
          "with\" lines of the three hosts)", dict(computations(hosts, off)), {"oranges": 1})
    figs = {json.dumps(figure(r, "graph-2"), sort_keys=True) for r in rs}
    check("single flight across hosts: every answer is the same figure", len(figs) == 1,
          "%d different" % len(figs))
    check("single flight across hosts: the burst took about one computation (%.1f s)" % took,
          took < 2 * COMPUTE_S, took)
    ref["oranges"] = figure(rs[0], "graph-2")


def session_across(hosts, ref):
    r = H.fcgi_request(hosts[0].pools["session"].upstream, "GET", "/session/_dash-layout")
    try:
        sid = r.json()["props"]["children"][0]["props"]["data"]
    except (TypeError, KeyError, IndexError):
        sid = None
    if not check("session: %s's layout mints a session id" % hosts[0].name,
                 isinstance(sid, str) and sid.startswith("s1."), r):
        return
    r, took = timed(direct, hosts[0], "session", session_body(1, sid))
    data = session_data(r, 1)
    check("session: created through %s, its data computed there (%.1f s)"
          % (hosts[0].name, took), r.status == 200 and data and took >= COMPUTE_S - 0.2, r)
    for host, n in ((hosts[1], 2), (hosts[2], 1)):
        r, took = timed(direct, host, "session", session_body(n, sid))
        check("session: read through %s (output-%d): the same data, no second computation "
              "(%.2f s)" % (host.name, n, took),
              r.status == 200 and session_data(r, n) == data and took < 1.5,
              (r.status, took, session_data(r, n), data))
    ref["session"] = (sid, data)


def stop_mid_run(url, hosts, ref):
    """Through nginx: one host's pools and another host's memcached stop in
    the middle of a run (6 requests in flight, going on for 5 s after both
    are down); no request may fail."""
    sid, data = ref.get("session", (None, None))
    items = []
    want = {}
    for cat in ("apples", "oranges"):
        for g in GRAPHS:
            r = via_nginx(url, "signal", figure_body(g, cat))
            if not check("mid-run: reference figure %s of %s through nginx" % (g, cat),
                         r.status == 200 and figure(r, g) is not None, r):
                return
            want[(g, cat)] = figure(r, g)
            items.append(("signal", figure_body(g, cat), (g, cat)))
    if sid:
        items += [("session", session_body(n, sid), n) for n in (1, 2)]
    results = []
    lock = H.threading.Lock()
    stop = H.threading.Event()

    def client(k):
        i = k
        while not stop.is_set():
            app, body, key = items[i % len(items)]
            i += 1
            r = via_nginx(url, app, body)
            with lock:
                results.append((time.time(), app, body, key, r))

    threads = [H.threading.Thread(target=client, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    end = time.time() + 30
    while len(results) < 30 and time.time() < end:
        time.sleep(0.005)
    at = len(results)
    hosts[2].stop_pool("signal")
    hosts[2].stop_pool("session")
    hosts[1].stop_memcached()
    down = time.time()
    time.sleep(5)
    stop.set()
    for t in threads:
        t.join(60)
    after = sum(1 for t, *_ in results if t > down)
    check("mid-run: %s's pools and %s's memcached stopped after %d answers, with 6 requests "
          "in flight; %d more answers in the 5 s after both were down"
          % (hosts[2].name, hosts[1].name, at, after), at >= 30 and after >= 6, (at, after))
    bad = []
    changed = 0
    for t, app, body, key, r in results:
        if app == "signal":
            if r.status != 200 or figure(r, key[0]) != want[key]:
                bad.append((round(t - down, 2), body["output"], key[1], r.status, r.text[:120]))
        else:
            d = session_data(r, key)
            if r.status != 200 or not d:
                bad.append((round(t - down, 2), body["output"], r.status, r.text[:120]))
            elif d != data:
                changed += 1
    check("mid-run: no request failed: all %d answered 200 with the same figure as before, "
          "or the session's data" % len(results), not bad, bad[:4])
    print("# mid-run: %d session answers were computed again (the session's key lived on "
          "the stopped memcached)" % changed, flush=True)
    time.sleep(0.3)
    try:
        with open(ref["access_log"]) as f:
            log = f.read()
    except (KeyError, OSError):
        log = ""
    tried = re.findall(r'" 200 .* upstream=(%s:\d+), ' % re.escape(hosts[2].addr), log)
    check("mid-run: nginx's access log shows requests that met the stopped host and were "
          "answered by another (%d)" % len(tried), len(tried) >= 1, log[-600:])


def back_again(url, hosts, net):
    # Same address, same port, empty.
    hosts[1].start_memcached()
    back_at = time.time()
    hosts[2].start_pool("signal")
    hosts[2].start_pool("session")
    check("back: %s's memcached and pools run again on %s" % (hosts[1].name + "/" +
                                                             hosts[2].name, hosts[2].addr),
          mc_stats(hosts[1].addr) is not None, "")
    r = direct(hosts[2], "signal", figure_body("graph-3", "apples"))
    check("back: %s's restarted signal pool answers by FastCGI" % hosts[2].name,
          r.status == 200 and figure(r, "graph-3") is not None, r)
    # nginx holds a failed server out for fail_timeout (10 s), the workers a
    # failed memcached for dead_s (10 s): wait both out, then check that the
    # cluster is whole.
    time.sleep(max(0, back_at + 11.5 - time.time()))
    off3 = hosts[2].pools["signal"].log_size()
    rs = [via_nginx(url, "signal", figure_body(g, "apples")) for g in GRAPHS * 6]
    time.sleep(0.3)
    n3 = len(re.findall(r"POST /signal/_dash-update-component 200",
                        hosts[2].pools["signal"].log_since(off3)))
    check("back: nginx sends %s requests again (%d of 24 through nginx)" % (hosts[2].name, n3),
          all(r.status == 200 for r in rs) and n3 >= 1, ([r.status for r in rs], n3))

    before = [mc_stats(x.addr) or {} for x in hosts]
    sids = []
    for k in range(12):
        r = H.fcgi_request(hosts[k % HOSTS].pools["session"].upstream, "GET",
                           "/session/_dash-layout")
        try:
            sids.append(r.json()["props"]["children"][0]["props"]["data"])
        except (TypeError, KeyError, IndexError):
            pass
    with ThreadPoolExecutor(max_workers=12) as ex:
        rs = list(ex.map(lambda s: via_nginx(url, "session", session_body(1, s)), sids))
    check("back: 12 new sessions through nginx all answer 200 with data",
          len(rs) == 12 and all(r.status == 200 and session_data(r, 1) for r in rs),
          [r.status for r in rs])
    after = [mc_stats(x.addr) or {} for x in hosts]
    sets = [after[k].get("cmd_set", 0) - before[k].get("cmd_set", 0) for k in range(HOSTS)]
    check("back: every memcached of the cluster stores values again, the restarted one "
          "included (sets per host %s)" % sets, all(s >= 1 for s in sets), sets)

    off = offsets(hosts)
    order = [hosts[k % HOSTS] for k in range(6)]
    with ThreadPoolExecutor(max_workers=6) as ex:
        rs = list(ex.map(lambda x: direct(x, "signal", figure_body("graph-4", "figs")), order))
    time.sleep(0.3)
    check("back: 6 concurrent cold requests for figs over all three hosts answer 200",
          all(r.status == 200 for r in rs), [r.status for r in rs])
    got = dict(computations(hosts, off))
    notes = []
    for k, x in enumerate(hosts):
        text = x.pools["signal"].log_since(off[k])
        notes += ["%s: %s" % (x.name, n) for n in re.findall(r'note="([^"]*)"', text)]
    check("back: single flight over the whole cluster again: figs computed once (%s)" % got,
          got == {"figs": 1}, "the workers' cache remarks meanwhile: %s" % (notes[:8] or "none"))


def skip_if_impossible():
    """Where namespaces cannot be made, say why, count it as skipped (never
    as passed) and exit with automake's SKIP status, before any check."""
    if os.getuid() != 0:
        why = "not root (network namespaces need CAP_NET_ADMIN)"
    else:
        why = namespaces_possible()
    if why:
        print("# SKIP test_scaleout: network namespaces cannot be made here: %s" % why,
              flush=True)
        print("skip scale-out across three hosts: %s" % why, flush=True)
        print("1 skipped", flush=True)
        print("0 passed, 0 failed", flush=True)
        sys.exit(77)


def main():
    net = Net()
    H.atexit.register(net.teardown)
    h = H.Harness("fcdash-scaleout")
    try:
        run(h, net)
    finally:
        h.stop()
        errors = net.teardown()
        check("teardown: the namespaces and links are gone (%s)" % ", ".join([net.sw] + net.hosts),
              not errors and not net.left(), (errors, net.left()))


def run(h, net):
    section("three hosts: namespaces, a bridge, memcached and two pools each")
    try:
        net.setup()
    except OSError as e:
        raise H.Missing("network setup failed: %s" % e)
    check("network: %s namespaces on %s.0/24, the test at %s.1" % (
        HOSTS, net.subnet, net.subnet), True)
    static = h.static_root()
    secret = os.urandom(32).hex()
    hosts = [Host(h, net, i, secret, static) for i in range(HOSTS)]
    for x in hosts:
        x.start_memcached()
    for x in hosts:
        x.start_pool("signal")
        x.start_pool("session")
    # Each host sees the others (its workers reach every memcached).
    r = subprocess.run(["ip", "netns", "exec", hosts[0].ns, sys.executable, "-c",
                        "import socket;[socket.create_connection((a,%d),2).close() for a in %r]"
                        % (MC_PORT, [x.addr for x in hosts])], capture_output=True, text=True)
    check("network: %s reaches the memcached of every host" % hosts[0].name, r.returncode == 0,
          r.stderr[-500:])

    # nginx in the root namespace: fcdash-nginx-conf's file plus fcdash-hosts.conf.
    run_dir = h.path("nginx")
    os.makedirs(run_dir)
    os.chmod(run_dir, 0o755)
    port = H.free_port()
    cmd = [H.source_file("nginx/fcdash-nginx-conf"), "--port", str(port), "--run-dir", run_dir,
           "--static-root", static,
           "--app", "/signal/=" + ",".join(x.pools["signal"].upstream for x in hosts),
           "--app", "/session/=" + ",".join(x.pools["session"].upstream for x in hosts)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise H.Missing("fcdash-nginx-conf: %s" % r.stderr)
    conf = r.stdout.replace("\nhttp {\n", "\nhttp {\n    include %s;\n"
                            % H.source_file("nginx/fcdash-hosts.conf"), 1)
    conf_path = os.path.join(run_dir, "nginx.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    base = [H.tool("nginx"), "-c", conf_path, "-p", run_dir, "-e",
            os.path.join(run_dir, "error.log")]
    t = subprocess.run(base + ["-t"], capture_output=True, text=True)
    if not check("nginx -t accepts fcdash-nginx-conf's file with fcdash-hosts.conf included",
                 t.returncode == 0 and "fcdash-hosts.conf" in conf, t.stderr):
        raise H.Missing("nginx config rejected")
    h.nginx = h.spawn(base + ["-g", "daemon off;"], log=os.path.join(run_dir, "stderr.log"))
    url = "http://127.0.0.1:%d" % port
    end = time.time() + 10
    while time.time() < end and H.fetch("GET", url + "/signal/_dash-layout", timeout=2).status != 200:
        time.sleep(0.1)
    h.nginx_pids.update(H.children(h.nginx.pid))
    r = H.fetch("GET", url + "/signal/")
    check("nginx: the signal page through the balancer", r.status == 200
          and "new DashRenderer()" in r.text, r)

    ref = {"access_log": os.path.join(run_dir, "access.log")}
    section("a value computed on one host is a hit on the others")
    H.guarded("hit on others", hit_on_others, hosts, ref)
    section("single flight across hosts")
    H.guarded("single flight", single_flight, hosts, ref)
    section("a session created through one host, read through the others")
    H.guarded("session", session_across, hosts, ref)
    section("mid-run: one host's pools and another's memcached stopped")
    H.guarded("stop mid-run", stop_mid_run, url, hosts, ref)
    section("back again: the cluster is whole")
    H.guarded("back again", back_again, url, hosts, net)


if __name__ == "__main__":
    skip_if_impossible()
    H.run(main)
