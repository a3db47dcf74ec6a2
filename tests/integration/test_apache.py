"""test_apache.py - the scores app behind Debian's real Apache, both ways.

Two private apache2 instances on high ports of 127.0.0.1, each with a
config written by apache/fcdash-apache-conf (its own ServerRoot, pid file,
logs and mod_fcgid sockets in the test's temp dir; run as root, the
children drop to www-data), started with `apache2 -f CONF -k start` and
stopped by the pid in their pid file:
  mod_fcgid        Apache starts examples/scores/scores itself (at most 2
                   processes, FcgidCmdOptions) at /scores/;
  mod_proxy_fcgi   Apache forwards /scores/ to a spawn-fcgi pool of 2 on a
                   unix socket, and /scores-tcp/ to two TCP pools balanced
                   (mod_proxy_balancer).
Against each, the checks run against nginx elsewhere: the index page (and
Dash's catch-all), a fingerprinted bundle with its one-year immutable
Cache-Control, a plain bundle with an ETag and a 304, the asset, the 301
for the prefix without "/", the layout, the dependencies, 120 callbacks
8 at a time, all right, a 300 kB body that reaches the worker, and the
errors as JSON (400 truncated, 405 with Allow, 415), a worker's own 500
passed through, Apache's own 503 (no worker listening) with a JSON body
(apache/errors); then the scores browser test (tests/browser/scores.mjs in headless Chromium).  mod_fcgid
only: Apache spawned the workers, at most 2, and replaces one killed with
SIGKILL.
"""

import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # importing test_browser leaves no __pycache__ in the tree
import harness as H  # noqa: E402
from harness import check, equal, fetch, post_json, section  # noqa: E402
import test_browser as B  # noqa: E402  (run_node, browser_dir: the browser runner)

EXPECTED = {1: 3, 2: 2, 3: 1, 4: 0, 5: 4, None: 0}
APACHE = "/usr/sbin/apache2"


def body(value, pad=None):
    inp = {"id": "score", "property": "value"}
    if value is not None:
        inp["value"] = value
    b = {"output": "output.children", "outputs": {"id": "output", "property": "children"},
         "inputs": [inp], "changedPropIds": ["score.value"]}
    if pad:
        b["state"] = []
        b["padding"] = pad
    return b


def answer(r):
    try:
        return r.json()["response"]["output"]["children"]
    except (TypeError, KeyError):
        return None


class Apache:
    """One private apache2, started -k start, stopped by its pid file."""

    def __init__(self, h, name, apps, workers=2, env=None):
        self.h = h
        self.name = name
        self.run = h.path(name)
        os.makedirs(os.path.join(self.run, "htdocs"))
        os.chmod(self.run, 0o755)
        self.pid = None
        self.known = set()
        self.port = H.free_port()
        cmd = [H.source_file("apache/fcdash-apache-conf"), "--port", str(self.port),
               "--run-dir", self.run, "--static-root", h.static_root(),
               "--workers", str(workers)]
        for k, v in (env or {}).items():
            cmd += ["--env", "%s=%s" % (k, v)]
        for prefix, target in apps.items():
            cmd += ["--app", "%s=%s" % (prefix, target)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise H.Missing("fcdash-apache-conf failed: %s" % r.stderr.strip())
        self.conf = os.path.join(self.run, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write(r.stdout)
        if os.getuid() == 0:
            # mod_fcgid's sockets are made by the children (www-data).
            os.makedirs(os.path.join(self.run, "fcgid"), exist_ok=True)
            import pwd
            try:
                pw = pwd.getpwnam("www-data")
                os.chown(os.path.join(self.run, "fcgid"), pw.pw_uid, pw.pw_gid)
            except KeyError:
                pass
        self.url = "http://127.0.0.1:%d" % self.port

    def start(self):
        t = subprocess.run([APACHE, "-t", "-f", self.conf], capture_output=True, text=True)
        if not check("%s: apache2 -t accepts the generated config" % self.name,
                     t.returncode == 0, (t.stdout + t.stderr).strip()):
            raise H.Missing("apache2 rejects %s" % self.conf)
        r = subprocess.run([APACHE, "-f", self.conf, "-k", "start"], capture_output=True,
                           text=True, timeout=30)
        pid_file = os.path.join(self.run, "apache2.pid")
        end = time.time() + 10
        while time.time() < end:
            try:
                with open(pid_file) as f:
                    self.pid = int(f.read().strip())
                s = H.socket.create_connection(("127.0.0.1", self.port), 0.2)
                s.close()
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        self.h.procs.append((_PidStopper(self), "apache2 " + self.name))
        ok = self.pid is not None and H.alive(self.pid)
        if not check("%s: apache2 -k start runs (pid %s from its pid file)" % (self.name, self.pid),
                     ok, (r.returncode, r.stderr.strip(), self.error_log()[-1500:])):
            raise H.Missing("apache2 did not start")

    def error_log(self):
        try:
            with open(os.path.join(self.run, "error.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def remember(self):
        if self.pid:
            self.known.add(self.pid)
            self.known.update(H.descendants(self.pid))

    def app_pids(self, binary):
        """The app processes under this Apache (mod_fcgid's workers)."""
        if not self.pid:
            return []
        self.remember()
        return [p for p in H.descendants(self.pid)
                if H.alive(p) and H.cmdline(p).split(" ")[0] == binary]

    def stop(self):
        """SIGTERM to the parent by its pid file; Apache stops its children
        and mod_fcgid its workers.  Anything of ours still alive after 10 s
        gets SIGKILL."""
        if self.pid is None:
            return True
        self.remember()
        pid, self.pid = self.pid, None
        gone = H.kill_pid(pid, signal.SIGTERM, 10)
        end = time.time() + 5
        while time.time() < end and any(H.alive(p) for p in self.known):
            time.sleep(0.05)
        left = [p for p in self.known if H.alive(p)]
        for p in left:
            H.kill_pid(p, signal.SIGKILL, 1)
        H.reap()
        return gone and not left


class _PidStopper:
    """Lets Harness.stop() stop an Apache like one of its own processes."""

    def __init__(self, apache):
        self.apache = apache

    def poll(self):
        return None if self.apache.pid else 0

    def terminate(self):
        self.apache.stop()

    def wait(self, timeout=None):
        return 0

    def kill(self):
        self.apache.stop()


# ---- the checks, the same for both ways -------------------------------------

def page_and_bundles(a, prefix, label):
    url = a.url
    r = fetch("GET", url + prefix)
    check("%s: GET %s answers the index page" % (label, prefix),
          r.status == 200 and "new DashRenderer()" in r.text
          and "text/html" in (r.header("Content-Type") or ""), r)
    page = r.text
    r = fetch("GET", url + prefix + "no/such/page")
    check("%s: an unknown path under the prefix answers the index page (Dash's catch-all)"
          % label, r.status == 200 and "new DashRenderer()" in r.text, r)
    r = fetch("GET", url + prefix.rstrip("/"))
    check("%s: %s answers 301 to %s" % (label, prefix.rstrip("/"), prefix),
          r.status == 301 and (r.header("Location") or "").endswith(prefix), r)

    srcs = re.findall(r'<script src="([^"]+)"', page)
    fingerprinted = [s for s in srcs if re.search(r"/_dash-component-suites/.+\.v[\w-]+m\d+\.", s)]
    if not check("%s: the page names fingerprinted bundles (%d scripts)" % (label, len(srcs)),
                 len(fingerprinted) >= 5, srcs):
        return
    bad = []
    for s in fingerprinted:
        r = fetch("GET", url + s)
        if not (r.status == 200 and len(r.body) > 1000
                and "immutable" in (r.header("Cache-Control") or "")
                and "max-age=31536000" in (r.header("Cache-Control") or "")
                and "javascript" in (r.header("Content-Type") or "")):
            bad.append((s, r.status, r.header("Cache-Control"), r.header("Content-Type")))
    check("%s: all %d fingerprinted bundles answer 200 JavaScript with Cache-Control public, "
          "max-age=31536000, immutable" % (label, len(fingerprinted)), not bad, bad[:3])

    plain = url + prefix + "_dash-component-suites/dash/dcc/async-dropdown.js"
    r = fetch("GET", plain)
    etag = r.header("ETag")
    check("%s: a plain bundle (dcc's async-dropdown.js) answers 200 with an ETag and "
          "Cache-Control no-cache" % label,
          r.status == 200 and etag and r.header("Cache-Control") == "no-cache"
          and "javascript" in (r.header("Content-Type") or ""),
          (r.status, etag, r.header("Cache-Control"), r.header("Content-Type")))
    if etag:
        r = fetch("GET", plain, headers={"If-None-Match": etag})
        equal("%s: ... and 304 Not Modified for its ETag" % label, r.status, 304)
    css = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    if css:
        r = fetch("GET", url + css.group(1))
        check("%s: the stylesheet %s answers 200 text/css" % (label, css.group(1)),
              r.status == 200 and "text/css" in (r.header("Content-Type") or ""), r)
    r = fetch("GET", url + prefix + "_dash-component-suites/dash/no-such.js")
    equal("%s: a missing bundle answers 404 (Apache's, not the worker's)" % label, r.status, 404)


def layout_and_callbacks(a, prefix, label):
    url = a.url
    r = fetch("GET", url + prefix + "_dash-layout")
    text = str(r.json())
    check("%s: _dash-layout has the dropdown and the text" % label,
          r.status == 200 and "'id': 'score'" in text
          and "was scored by this many students:" in text, r)
    r = fetch("GET", url + prefix + "_dash-dependencies")
    deps = r.json() or []
    check("%s: _dash-dependencies: output.children <- score.value" % label,
          r.status == 200 and len(deps) == 1 and deps[0].get("output") == "output.children"
          and deps[0].get("inputs") == [{"id": "score", "property": "value"}], r)
    values = [1, 2, 3, 4, 5, None] * 20
    upd = url + prefix + "_dash-update-component"
    with ThreadPoolExecutor(max_workers=8) as ex:
        rs = list(ex.map(lambda v: (v, post_json(upd, body(v))), values))
    wrong = [(v, r.status, r.text[:120]) for v, r in rs
             if r.status != 200 or answer(r) != EXPECTED[v]]
    check("%s: 120 callbacks, 8 at a time, every answer right (1->3 2->2 3->1 4->0 5->4 "
          "None->0)" % label, not wrong, "%d wrong: %s" % (len(wrong), wrong[:3]))
    r = post_json(upd, body(5, pad="x" * 300000))
    check("%s: a 300 kB callback body reaches the worker and is answered (value 5 -> 4)"
          % label, r.status == 200 and answer(r) == 4, r)


def errors(a, prefix, label):
    upd = a.url + prefix + "_dash-update-component"

    def json_error(r, status):
        j = r.json()
        return (r.status == status and isinstance(j, dict) and j.get("status") == status
                and isinstance(j.get("message"), str))
    r = post_json(upd, b'{"output": "output.children", "inputs": [')
    check("%s: a truncated JSON body answers 400 with a JSON error" % label,
          json_error(r, 400), r)
    r = fetch("GET", upd)
    check("%s: GET on _dash-update-component answers 405 with Allow and a JSON error" % label,
          json_error(r, 405) and "POST" in (r.header("Allow") or ""), (r, r.header("Allow")))
    r = fetch("POST", upd, H.json.dumps(body(1)), {"Content-Type": "text/plain"})
    check("%s: a text/plain body answers 415 with a JSON error" % label, json_error(r, 415), r)


def worker_500(a, prefix, label):
    """A worker's own error passes through untouched: the guide's global
    variable mistake answers 500 with the worker's JSON, not Apache's."""
    r = post_json(a.url + prefix + "_dash-update-component", body(1))
    j = r.json()
    check("%s: a worker's own 500 (scores-global's frozen df) passes through as its JSON"
          % label, r.status == 500 and isinstance(j, dict) and j.get("status") == 500
          and "Apache status" not in (j.get("message") or ""), r)


def apache_503(a, prefix, label):
    """No worker listening: Apache's own 503, with a JSON body."""
    r = post_json(a.url + prefix + "_dash-update-component", body(1))
    j = r.json()
    check("%s: no worker listening: Apache's 503 has a JSON body (status 503)" % label,
          r.status == 503 and isinstance(j, dict) and j.get("status") == 503
          and "application/json" in (r.header("Content-Type") or ""),
          (r, r.header("Content-Type")))


def browser(a, label):
    where = B.browser_dir(a.h)
    shots = os.path.join(H.BUILDDIR, "run", "tests")
    os.makedirs(shots, exist_ok=True)
    B.run_node(where, "scores.mjs", [a.url, os.path.join(shots, "scores-%s.png" % a.name)],
               label)


def all_checks(a, prefix, label, with_browser=True):
    H.guarded("%s page" % label, page_and_bundles, a, prefix, label)
    H.guarded("%s callbacks" % label, layout_and_callbacks, a, prefix, label)
    H.guarded("%s errors" % label, errors, a, prefix, label)
    if with_browser:
        if not (os.path.isfile(B.CHROMIUM) and os.access(B.CHROMIUM, os.X_OK)):
            H.missing("%s browser" % label, "%s not found (apt-get install chromium)" % B.CHROMIUM)
        else:
            H.guarded("%s browser" % label, browser, a, label + " browser")


# ---- mod_fcgid: Apache runs the workers ---------------------------------------

def fcgid_workers(a, binary):
    label = "mod_fcgid"
    pids = a.app_pids(binary)
    check("%s: Apache started the workers itself: %d process(es) of the app under Apache's "
          "pid %s, at most 2" % (label, len(pids), a.pid), 1 <= len(pids) <= 2, pids)
    log = a.error_log()
    check("%s: the workers' log lines reach Apache's error log" % label,
          re.search(r"POST /scores/_dash-update-component 200", log) is not None, log[-800:])
    victim = pids[0] if pids else None
    if victim is None:
        return
    os.kill(victim, signal.SIGKILL)
    H.wait_dead(victim, 5)
    upd = a.url + "/scores/_dash-update-component"
    rs = [post_json(upd, body(v)) for v in (1, 2, 3, 4, 5) * 4]
    # The first request after the kill may land on the dead process's socket
    # before mod_fcgid notices; after that every one must succeed.
    bad = [(i, r.status) for i, r in enumerate(rs) if r.status != 200 or answer(r) is None]
    check("%s: after kill -9 of worker %d, 20 requests in a row succeed (at most the first "
          "fails)" % (label, victim), all(i == 0 for i, _ in bad), bad)
    now = a.app_pids(binary)
    check("%s: ... answered by workers Apache started anew (%s), without the killed one"
          % (label, now), now and victim not in now and len(now) <= 2, now)


def main():
    if not (os.path.isfile(APACHE) and os.access(APACHE, os.X_OK)):
        raise H.Missing("%s not found (apt-get install apache2 libapache2-mod-fcgid)" % APACHE)
    h = H.Harness("fcdash-apache")
    static = h.static_root()
    scores = H.program("examples/scores/scores")
    env = {"FCDASH_STATIC_ROOT": static}

    section("mod_fcgid: Apache spawns the workers")
    glob = H.program("examples/scores-global/scores-global")
    fc = Apache(h, "fcgid", {"/scores/": "fcgid:" + scores,
                             "/scores-global/": "fcgid:" + glob}, workers=2,
                env={"FCDASH_CACHE": "none://", "FCDASH_TITLE": "Scores"})
    fc.start()
    all_checks(fc, "/scores/", "mod_fcgid")
    H.guarded("mod_fcgid 500", worker_500, fc, "/scores-global/", "mod_fcgid")
    H.guarded("mod_fcgid workers", fcgid_workers, fc, scores)

    section("mod_proxy_fcgi: to spawn-fcgi pools (unix socket; two TCP pools balanced)")
    unix = h.pool("scores", scores, workers=2, env=dict(env, FCDASH_PREFIX="/scores/"))
    tcp1 = h.pool("scores-tcp-1", scores, workers=1, tcp=True,
                  env=dict(env, FCDASH_PREFIX="/scores-tcp/"))
    tcp2 = h.pool("scores-tcp-2", scores, workers=1, tcp=True,
                  env=dict(env, FCDASH_PREFIX="/scores-tcp/"))
    gpool = h.pool("scores-global", glob, workers=1, env=dict(env, FCDASH_PREFIX="/scores-global/"))
    px = Apache(h, "proxy-fcgi", {"/scores/": unix.upstream,
                                  "/scores-tcp/": tcp1.upstream + "," + tcp2.upstream,
                                  "/scores-global/": gpool.upstream,
                                  "/down/": "unix:" + h.path("nobody-listens.sock")})
    px.start()
    H.guarded("mod_proxy_fcgi 500", worker_500, px, "/scores-global/", "mod_proxy_fcgi")
    H.guarded("mod_proxy_fcgi 503", apache_503, px, "/down/", "mod_proxy_fcgi")
    all_checks(px, "/scores/", "mod_proxy_fcgi unix socket")
    off = (tcp1.log_size(), tcp2.log_size())
    all_checks(px, "/scores-tcp/", "mod_proxy_fcgi TCP balanced", with_browser=False)
    time.sleep(0.3)
    n1 = tcp1.log_since(off[0]).count("POST /scores-tcp/_dash-update-component 200")
    n2 = tcp2.log_since(off[1]).count("POST /scores-tcp/_dash-update-component 200")
    check("mod_proxy_fcgi TCP balanced: both pools answered callbacks (%d and %d)" % (n1, n2),
          n1 > 0 and n2 > 0, (n1, n2))

    section("stop both by their pid files")
    for a in (fc, px):
        check("%s: apache2 and every process it started stop on SIGTERM to the pid in its "
              "pid file" % a.name, a.stop())


if __name__ == "__main__":
    H.run(main)
