"""test_runtime.py - the worker runtime under every way of starting it.

protocol_check with its test-only extras (FCDASH_TEST_EXTRAS=1: slow-btn,
crash-btn, loop-btn, pid-btn) run
  - by spawn-fcgi on a unix socket and on TCP (-p), through nginx and by a
    FastCGI client of our own (no nginx);
  - under multiwatch: a worker killed with SIGKILL, one that crashes in a
    callback and one that overruns its time limit are all replaced, and
    the pool answers again;
  - alone with --listen 127.0.0.1:PORT and --listen /path.sock;
  - with no socket at all: it must refuse, naming spawn-fcgi and --listen;
  - SIGTERM: during a slow request the response still arrives whole, then
    the worker exits; an idle worker exits at once;
  - --check and --help.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as H  # noqa: E402
from harness import check, equal, fetch, post_json, section  # noqa: E402

SLOW_MS = 1500
EXTRAS = {"FCDASH_TEST_EXTRAS": "1", "FCDASH_TEST_SLOW_MS": str(SLOW_MS)}


def click(btn, n=1):
    out = btn.replace("-btn", "-out")
    return {"output": out + ".children", "outputs": {"id": out, "property": "children"},
            "inputs": [{"id": btn, "property": "n_clicks", "value": n}],
            "changedPropIds": [btn + ".n_clicks"], "parsedChangedPropsIds": [btn + ".n_clicks"]}


DD = {"output": "dd-out.children", "outputs": {"id": "dd-out", "property": "children"},
      "inputs": [{"id": "dd", "property": "value", "value": 2}],
      "changedPropIds": ["dd.value"], "parsedChangedPropsIds": ["dd.value"]}
DD_ANSWER = {"multi": True, "response": {"dd-out": {"children": 200}}}


def answered_pid(r):
    try:
        return int(r.json()["response"]["pid-out"]["children"])
    except (TypeError, KeyError, ValueError):
        return None


def direct(address, obj, prefix="/"):
    return H.fcgi_request(address, "POST", prefix + "_dash-update-component",
                          H.json.dumps(obj))


wait_until = H.wait_until


# ---- spawn-fcgi ------------------------------------------------------------

def spawn_fcgi_pool(url, pool, prefix, label):
    equal("%s: 2 workers running" % label, len(pool.pids()), 2)
    r = post_json(url + prefix + "_dash-update-component", DD)
    check("%s: callback through nginx" % label, r.status == 200 and r.json() == DD_ANSWER, r)
    r = fetch("GET", url + prefix)
    check("%s: index page through nginx" % label, r.status == 200 and "DashRenderer" in r.text,
          r)
    r = direct(pool.upstream, DD, prefix)
    check("%s: callback by FastCGI straight to %s" % (label, pool.upstream),
          r.status == 200 and r.json() == DD_ANSWER, r)
    pids = set()
    for _ in range(40):
        pids.add(answered_pid(post_json(url + prefix + "_dash-update-component",
                                        click("pid-btn"))))
    check("%s: the answers come from the pool's workers %s" % (label, sorted(pool.pids())),
          pids <= set(pool.pids()) and None not in pids, sorted(map(str, pids)))


def layout_fn_and_tree(url, pool, prefix, label):
    """With the extras the layout comes from a function run per page load,
    and one callback answers a component tree (a Div holding a Pre)."""
    seen = set()
    for _ in range(10):
        r = fetch("GET", url + prefix + "_dash-layout")
        j = r.json()
        text = H.json.dumps(j)
        m = re.search(r'"id": "served-by"[^}]*"children": "pid (\d+)"', text) or \
            re.search(r'"children": "pid (\d+)"', text)
        ok = r.status == 200 and isinstance(j, dict) and "slow-btn" in text and m is not None
        if not check("%s: _dash-layout from the layout function" % label, ok, r):
            return
        seen.add(int(m.group(1)))
    check("%s: the layout was built by the pool's workers %s" % (label, sorted(seen)),
          seen <= set(pool.pids()), (sorted(seen), pool.pids()))
    r = post_json(url + prefix + "_dash-update-component", click("tree-btn", 2))
    want = {"multi": True, "response": {"tree-out": {"children": {
        "type": "Div", "namespace": "dash_html_components", "props": {
            "className": "tree", "children": ["tree n=2", {
                "type": "Pre", "namespace": "dash_html_components",
                "props": {"id": "tree-pre", "children": "a,b\n1,2"}}]}}}}}
    check("%s: a callback answers a component tree (Div holding a Pre)" % label,
          r.status == 200 and r.json() == want, r)


def big_answer(url, prefix, label):
    """An answer far larger than nginx's FastCGI buffers (32 x 32k) arrives
    whole through nginx (which spools it to its temp directory)."""
    for n in (100, 5000):
        r = post_json(url + prefix + "_dash-update-component", click("big-btn", n), timeout=60)
        try:
            got = r.json()["response"]["big-out"]["children"]
        except (TypeError, KeyError):
            got = None
        want = ("0123456789" * (n * 100))
        check("%s: a %d kB answer arrives whole through nginx" % (label, n),
              r.status == 200 and got == want,
              "status %s, %s chars" % (r.status, len(got) if got is not None else None))


def sigterm_in_pool(url, pool, prefix, label):
    """One worker (the pool has one): SIGTERM while it sleeps in a callback."""
    pids = pool.pids()
    if not check("%s: one worker" % label, len(pids) == 1, pids):
        return
    pid = pids[0]
    res = {}

    def slow():
        res["r"] = post_json(url + prefix + "_dash-update-component", click("slow-btn"))
        res["t"] = time.time()
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.4)
    os.kill(pid, signal.SIGTERM)
    sent = time.time()
    t.join(SLOW_MS / 1000 + 10)
    r = res.get("r")
    check("%s: SIGTERM during a slow callback: the response still arrives complete (200)" % label,
          r is not None and r.status == 200 and r.json() == {
              "multi": True, "response": {"slow-out": {"children": "slow done n=1"}}}, r)
    check("%s: ... and only after the callback's sleep" % label,
          "t" in res and res["t"] - sent >= (SLOW_MS / 1000 - 0.4) - 0.2, res.get("t", 0) - sent)
    check("%s: then the worker exits" % label, H.wait_dead(pid, 3), H.cmdline(pid))


# ---- multiwatch ------------------------------------------------------------

def multiwatch_pool(url, pool, prefix):
    upd = url + prefix + "_dash-update-component"
    before = pool.pids()
    equal("multiwatch: 2 workers running", len(before), 2)
    victim = before[0]
    H.kill_on_purpose(victim, signal.SIGKILL)
    whole = wait_until(lambda: len(pool.pids()) == 2 and victim not in pool.pids(), 5)
    check("multiwatch: after kill -9 of worker %d the pool is whole again" % victim, whole,
          pool.pids())
    oks = [post_json(upd, DD) for _ in range(20)]
    check("multiwatch: 20 requests after the kill all succeed",
          all(r.status == 200 and r.json() == DD_ANSWER for r in oks),
          [r.status for r in oks])

    # A callback that crashes: 500 with a JSON body, the worker is replaced.
    off = pool.log_size()
    before = set(pool.pids())
    r = post_json(upd, click("crash-btn"))
    j = r.json()
    check("multiwatch: a crashing callback answers 500 with a JSON message",
          r.status == 500 and isinstance(j, dict) and "message" in j, r)
    replaced = wait_until(lambda: len(pool.pids()) == 2 and set(pool.pids()) != before, 5)
    check("multiwatch: the crashed worker is replaced, pool whole", replaced,
          (sorted(before), pool.pids()))
    time.sleep(0.2)
    log = pool.log_since(off)
    check("multiwatch: the log says which callback crashed",
          re.search(r"crash", log) is not None and " 500 " in log, log[-1000:])
    r = post_json(upd, DD)
    check("multiwatch: the next request succeeds", r.status == 200 and r.json() == DD_ANSWER, r)

    # A callback that never returns: FCDASH_CALLBACK_TIME_LIMIT=1 ends it.
    before = set(pool.pids())
    t0 = time.time()
    r = post_json(upd, click("loop-btn"), timeout=20)
    took = time.time() - t0
    j = r.json()
    check("multiwatch: a callback past its time limit answers 504 with a JSON message",
          r.status == 504 and isinstance(j, dict) and "message" in j, r)
    check("multiwatch: ... after about the 1 s limit (%.1f s)" % took, 0.8 <= took <= 5, took)
    replaced = wait_until(lambda: len(pool.pids()) == 2 and set(pool.pids()) != before, 5)
    check("multiwatch: the timed-out worker is replaced, pool whole", replaced,
          (sorted(before), pool.pids()))
    oks = [post_json(upd, DD) for _ in range(10)]
    check("multiwatch: requests succeed afterwards",
          all(r.status == 200 and r.json() == DD_ANSWER for r in oks), [r.status for r in oks])


# ---- alone -----------------------------------------------------------------

def start_alone(h, app, address, name, env=None):
    e = dict(EXTRAS)
    e.update(env or {})
    log = h.path(name + ".log")
    p = h.spawn([app, "--listen", address], env=e, log=log)
    if address.startswith("/"):
        ok = wait_until(lambda: os.path.exists(address) or p.poll() is not None, 5)
    else:
        host, _, port = address.rpartition(":")
        ok = wait_until(lambda: _connects(host, int(port)) or p.poll() is not None, 5)
    return p, log, ok and p.poll() is None


def _connects(host, port):
    try:
        H.socket.create_connection((host, port), 0.2).close()
        return True
    except OSError:
        return False


def alone(h, app):
    port = H.free_port()
    addr = "127.0.0.1:%d" % port
    p, log, up = start_alone(h, app, addr, "alone-tcp")
    check("--listen %s: the worker starts" % addr, up, open(log).read())
    r = direct(addr, DD)
    check("--listen %s: answers a callback" % addr, r.status == 200 and r.json() == DD_ANSWER, r)
    r = H.fcgi_request(addr, "GET", "/_dash-layout")
    check("--listen %s: answers _dash-layout" % addr, r.status == 200 and r.json() is not None,
          r)
    # The slow request and SIGTERM, without nginx in the way.
    res = {}
    t = threading.Thread(target=lambda: res.update(r=direct(addr, click("slow-btn"))))
    t.start()
    time.sleep(0.4)
    p.send_signal(signal.SIGTERM)
    t.join(SLOW_MS / 1000 + 10)
    r = res.get("r")
    check("--listen: SIGTERM during a slow request: the response arrives complete (200)",
          r is not None and r.status == 200 and r.json() == {
              "multi": True, "response": {"slow-out": {"children": "slow done n=1"}}}, r)
    try:
        p.wait(3)
    except subprocess.TimeoutExpired:
        pass
    check("--listen: ... then the worker exits", p.poll() is not None, "still running")

    sock = h.path("x.sock")
    p, log, up = start_alone(h, app, sock, "alone-unix")
    check("--listen %s: the worker starts" % sock, up, open(log).read())
    r = direct("unix:" + sock, DD)
    check("--listen %s: answers a callback" % sock, r.status == 200 and r.json() == DD_ANSWER,
          r)
    # Idle: SIGTERM ends it at once.
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(3)
    except subprocess.TimeoutExpired:
        pass
    took = time.time() - t0
    check("an idle worker exits at once on SIGTERM (%.2f s)" % took,
          p.poll() is not None and took < 0.5, took)


def sigusr1(h, app):
    """SIGUSR1 is libfcgi's graceful stop, what multiwatch sends its workers
    (nginx/fcdash-pool): the request in hand is answered, then the worker
    exits with status 0, whatever it was doing when the signal came: idle
    in accept, asleep in a callback, or computing in one (no system call
    for the signal to interrupt)."""
    for what in ("idle", "slow", "spin"):
        addr = "127.0.0.1:%d" % H.free_port()
        label = "SIGUSR1 (multiwatch's stop), %s worker" % (
            {"idle": "idle", "slow": "sleeping", "spin": "computing"}[what])
        p, log, up = start_alone(h, app, addr, "usr1-" + what)
        if not check("%s: the worker starts" % label, up, open(log).read()):
            continue
        time.sleep(0.3)  # past the start-up probe's connection: idle in accept
        res = {}
        t = threading.Thread(target=lambda: res.update(r=direct(addr, click(what + "-btn"))))
        if what != "idle":
            t.start()
            time.sleep(0.4)
        p.send_signal(signal.SIGUSR1)
        if what != "idle":
            t.join(SLOW_MS / 1000 + 10)
            r = res.get("r")
            check("%s: the request in hand is answered (200)" % label,
                  r is not None and r.status == 200 and ("%s done" % what) in r.text, r)
        try:
            p.wait(SLOW_MS / 1000 + 3)
        except subprocess.TimeoutExpired:
            pass
        text = open(log).read()
        check("%s: exits with status 0 and no error" % label,
              p.poll() == 0 and "failed" not in text,
              "exit %s; log: %s" % (p.poll(), text[-400:].replace("\n", " | ")))


def no_socket(h, app):
    env = dict(os.environ, **h.worker_env())
    for what, stdin in (("stdin /dev/null", subprocess.DEVNULL), ("stdin a pipe", subprocess.PIPE)):
        p = subprocess.Popen([app], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
        try:
            out, err = p.communicate("" if stdin == subprocess.PIPE else None, timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            check("no socket (%s): exits by itself" % what, False, "still running after 5 s")
            continue
        check("no socket (%s): exits non-zero (%s)" % (what, p.returncode), p.returncode not in
              (0, None), p.returncode)
        check("no socket (%s): the message names spawn-fcgi and --listen" % what,
              "spawn-fcgi" in err and "--listen" in err, err.strip())


def check_and_help(h, app):
    env = dict(os.environ, **h.worker_env())
    r = subprocess.run([app, "--check"], capture_output=True, text=True, timeout=10, env=env)
    check("--check on a valid app exits 0 and prints OK", r.returncode == 0 and "OK" in r.stdout,
          (r.returncode, r.stdout, r.stderr))
    r = subprocess.run([app, "--check"], capture_output=True, text=True, timeout=10,
                       env=dict(env, FCDASH_MAX_BODY="lots"))
    check("--check with a bad setting exits non-zero naming it",
          r.returncode != 0 and "FCDASH_MAX_BODY" in r.stderr, (r.returncode, r.stderr))
    r = subprocess.run([app, "--help"], capture_output=True, text=True, timeout=10, env=env)
    check("--help prints the usage and the settings",
          r.returncode == 0 and "--listen" in r.stdout and "FCDASH_DEBUG" in r.stdout,
          (r.returncode, r.stdout[:300]))
    r = subprocess.run([app, "--bogus"], capture_output=True, text=True, timeout=10, env=env)
    check("an unknown option exits non-zero", r.returncode != 0, r.returncode)


def main():
    h = H.Harness("fcdash-runtime")
    app = H.program("tests/apps/protocol_check")

    section("--check, --help, no socket")
    H.guarded("check/help", check_and_help, h, app)
    H.guarded("no socket", no_socket, h, app)

    section("alone with --listen")
    H.guarded("alone", alone, h, app)
    H.guarded("sigusr1", sigusr1, h, app)

    section("spawn-fcgi pools")
    # Only from here on is the static root needed (nginx, fingerprints).
    static = h.static_root()
    env = dict(EXTRAS, FCDASH_STATIC_ROOT=static)
    unix = h.pool("rt-unix", app, workers=2, env=dict(env, FCDASH_PREFIX="/unix/"))
    tcp = h.pool("rt-tcp", app, workers=2, tcp=True, env=dict(env, FCDASH_PREFIX="/tcp/"))
    one = h.pool("rt-one", app, workers=1, env=dict(env, FCDASH_PREFIX="/one/"))
    mw = h.pool("rt-mw", app, workers=2, multiwatch=True,
                env=dict(env, FCDASH_PREFIX="/mw/", FCDASH_CALLBACK_TIME_LIMIT="1"))
    url = h.start_nginx({"/unix/": unix.upstream, "/tcp/": tcp.upstream, "/one/": one.upstream,
                         "/mw/": mw.upstream})
    H.guarded("spawn-fcgi unix", spawn_fcgi_pool, url, unix, "/unix/", "spawn-fcgi unix socket")
    H.guarded("spawn-fcgi tcp", spawn_fcgi_pool, url, tcp, "/tcp/", "spawn-fcgi TCP")
    H.guarded("layout fn", layout_fn_and_tree, url, unix, "/unix/", "spawn-fcgi unix socket")
    H.guarded("big answer", big_answer, url, "/tcp/", "spawn-fcgi TCP")
    H.guarded("sigterm in pool", sigterm_in_pool, url, one, "/one/", "spawn-fcgi")
    r = post_json(url + "/one/_dash-update-component", DD)
    check("spawn-fcgi: with its only worker gone, nginx answers 502 with a JSON message",
          r.status == 502 and isinstance(r.json(), dict) and "message" in r.json(), r)

    section("multiwatch")
    H.guarded("multiwatch", multiwatch_pool, url, mw, "/mw/")


if __name__ == "__main__":
    H.run(main)
