"""test_install.py - make install, and an app built against the installed copy.

From the build tree, `make distdir` copies the distributed sources into a
temporary directory; there a fresh `configure --prefix=TMP/prefix` and
`make install` install fcdash as a user would (the tarball's files only,
so a file missing from the distribution shows here).  Then:
  - the prefix holds the library, include/fcdash.h, lib/pkgconfig/fcdash.pc,
    bin/fcdash-pool and the server templates and generators under
    share/fcdash/ (nginx, Apache, systemd); the library exports fcd_*
    symbols only;
  - `pkg-config --cflags --libs fcdash` (PKG_CONFIG_PATH at the prefix, no
    other flag) carries -Wl,-z,relro,-z,now -rdynamic;
  - examples/scores/scores.c, copied out of the tree, builds with
    `cc app.c $(pkg-config --cflags --libs fcdash)` alone; the program has
    full RELRO (BIND_NOW) and runs against the installed library
    (LD_LIBRARY_PATH): --check, then --listen 127.0.0.1:PORT answers the
    layout, the dependencies and a callback by FastCGI;
  - examples/scores-global/scores-global.c built the same way: its write to
    frozen data answers 500 and the log names the global 'df' (what
    -rdynamic in fcdash.pc is for);
  - the installed fcdash-pool (under multiwatch) and
    share/fcdash/nginx/fcdash-nginx-conf serve it through nginx: the page,
    a callback, a bad request with its JSON error; then a worker killed
    with SIGKILL in the middle of 300 requests (6 in flight): at most the
    request it had in hand fails, multiwatch makes the pool whole again and
    every later request succeeds (issue 6, item 2);
  - systemd-analyze verify accepts the installed systemd unit (which CI
    does not run);
  - `make install DESTDIR=...` stages the same files under DESTDIR, and
    `make uninstall` leaves no file in the prefix.
"""

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as H  # noqa: E402
from harness import check, equal, section  # noqa: E402

BODY5 = {"output": "output.children", "outputs": {"id": "output", "property": "children"},
         "inputs": [{"id": "score", "property": "value", "value": 5}],
         "changedPropIds": ["score.value"]}
ANSWER5 = {"multi": True, "response": {"output": {"children": 4}}}


def build_env():
    """The environment for the nested configure and make: a `make check`
    above us passes its jobserver in MAKEFLAGS, whose descriptors we do not
    have."""
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "DESTDIR"):
        env.pop(k, None)
    env["LC_ALL"] = "C"
    return env


def sh(argv, cwd=None, env=None, timeout=300):
    r = subprocess.run(argv, cwd=cwd, env=env or build_env(), capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def files_under(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def install(h):
    src, build, prefix = h.path("src"), h.path("build"), h.path("prefix")
    rc, out, err = sh(["make", "-s", "distdir", "distdir=" + src], cwd=H.BUILDDIR)
    if not check("make distdir copies the distributed sources", rc == 0
                 and os.path.isfile(os.path.join(src, "configure")), (rc, err[-1500:])):
        raise H.Missing("make distdir failed")
    os.makedirs(build)
    rc, out, err = sh([os.path.join(src, "configure"), "--prefix=" + prefix,
                       "--disable-integration-tests"], cwd=build)
    if not check("configure --prefix=%s in a fresh build directory" % prefix, rc == 0,
                 (out + err)[-1500:]):
        raise H.Missing("configure failed")
    t0 = time.time()
    rc, out, err = sh(["make", "-j2", "install"], cwd=build, timeout=600)
    if not check("make install (%.0f s)" % (time.time() - t0), rc == 0, (out + err)[-2500:]):
        raise H.Missing("make install failed")
    return build, prefix


def installed_files(prefix):
    have = files_under(prefix)
    want = ["include/fcdash.h", "lib/pkgconfig/fcdash.pc", "lib/libfcdash.so",
            "bin/fcdash-pool", "share/fcdash/nginx/fcdash-app.conf.in",
            "share/fcdash/nginx/fcdash-nginx-conf", "share/fcdash/nginx/fcdash-hosts.conf",
            "share/fcdash/systemd/fcdash-pool@.service",
            "share/fcdash/apache/fcdash-fcgid.conf.in", "share/fcdash/apache/fcdash-proxy-fcgi.conf.in",
            "share/fcdash/apache/fcdash-apache-conf", "share/fcdash/apache/errors/503.json"]
    for f in want:
        check("installed: %s" % f, f in have, sorted(have))
    check("installed: the shared library with its version (lib/libfcdash.so.0)",
          any(f.startswith("lib/libfcdash.so.0") for f in have), sorted(have))
    for f in ("bin/fcdash-pool", "share/fcdash/nginx/fcdash-nginx-conf",
              "share/fcdash/apache/fcdash-apache-conf"):
        check("installed: %s is executable" % f, os.access(os.path.join(prefix, f), os.X_OK))
    lib = os.path.realpath(os.path.join(prefix, "lib", "libfcdash.so"))
    rc, out, err = sh(["nm", "-D", "--defined-only", lib])
    syms = [line.split()[-1] for line in out.splitlines() if line.split()
            and line.split()[-2] in ("T", "D", "B", "R", "W", "V")]
    bad = [s for s in syms if not s.startswith("fcd_") and not s.startswith("_")]
    check("the installed library exports only fcd_* symbols (%d)" % len(syms),
          rc == 0 and syms and not bad, bad[:20] or err)
    return have


def pkg_config(prefix):
    env = build_env()
    env["PKG_CONFIG_PATH"] = os.path.join(prefix, "lib", "pkgconfig")
    rc, out, err = sh(["pkg-config", "--cflags", "--libs", "fcdash"], env=env)
    flags = out.split()
    check("pkg-config --cflags --libs fcdash answers (%s)" % out.strip(), rc == 0, err)
    check("pkg-config: -I and -L point into the prefix",
          "-I" + os.path.join(prefix, "include") in flags
          and "-L" + os.path.join(prefix, "lib") in flags, flags)
    check("pkg-config: the Libs line carries -lfcdash -Wl,-z,relro,-z,now -rdynamic",
          "-lfcdash" in flags and "-Wl,-z,relro,-z,now" in flags and "-rdynamic" in flags, flags)
    check("pkg-config: json-c comes along (Requires: json-c)", "-ljson-c" in flags, flags)
    rc, out, err = sh(["pkg-config", "--modversion", "fcdash"], env=env)
    check("pkg-config --modversion fcdash (%s)" % out.strip(), rc == 0 and out.strip(), err)
    return env


def build_app(h, prefix, env):
    app_dir = h.path("app")
    os.makedirs(app_dir)
    shutil.copy(H.source_file("examples/scores/scores.c"), os.path.join(app_dir, "app.c"))
    # Exactly what README.md tells a user to type, through a shell.
    rc, out, err = sh(["sh", "-c", 'cc -o app app.c $(pkg-config --cflags --libs fcdash)'],
                      cwd=app_dir, env=env)
    app = os.path.join(app_dir, "app")
    if not check("cc -o app app.c $(pkg-config --cflags --libs fcdash) builds the scores app "
                 "out of tree", rc == 0 and os.access(app, os.X_OK), (out + err)[-2000:]):
        raise H.Missing("the out-of-tree app did not build")
    rc, out, err = sh(["readelf", "-d", "-l", "-W", app])
    check("the app has full RELRO: GNU_RELRO and BIND_NOW",
          "GNU_RELRO" in out and ("BIND_NOW" in out or "FLAGS_1" in out and "NOW" in out),
          out[-800:])
    run_env = dict(h.worker_env(), LD_LIBRARY_PATH=os.path.join(prefix, "lib"))
    rc, out, err = sh(["ldd", app], env=dict(build_env(), **run_env))
    check("the app loads libfcdash from the prefix",
          os.path.join(prefix, "lib", "libfcdash.so.0") in out, out)
    return app, run_env


def run_app(h, app, run_env):
    rc, out, err = sh([app, "--check"], env=dict(build_env(), **run_env), timeout=20)
    check("app --check exits 0 and prints OK", rc == 0 and "OK" in out, (rc, out, err))
    addr = "127.0.0.1:%d" % H.free_port()
    p = h.spawn([app, "--listen", addr], env=run_env, log=h.path("app.log"))
    end = time.time() + 5
    up = False
    while time.time() < end and not up:
        try:
            H.socket.create_connection(("127.0.0.1", int(addr.split(":")[1])), 0.2).close()
            up = True
        except OSError:
            if p.poll() is not None:
                break
            time.sleep(0.05)
    if not check("app --listen %s starts" % addr, up, open(h.path("app.log")).read()[-1000:]):
        return
    r = H.fcgi_request(addr, "GET", "/_dash-layout")
    check("--listen: _dash-layout by FastCGI has the dropdown",
          r.status == 200 and "'id': 'score'" in str(r.json()), r)
    r = H.fcgi_request(addr, "GET", "/_dash-dependencies")
    deps = r.json() or []
    check("--listen: _dash-dependencies: output.children <- score.value",
          r.status == 200 and len(deps) == 1 and deps[0].get("output") == "output.children", r)
    r = H.fcgi_request(addr, "POST", "/_dash-update-component", H.json.dumps(BODY5))
    check("--listen: the callback answers value 5 -> 4", r.status == 200
          and r.json() == ANSWER5, r)
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        pass
    check("--listen: the app exits on SIGTERM", p.poll() is not None)


def frozen_global(h, env, run_env):
    """-rdynamic at work: the guide's global-variable mistake, built out of
    tree the same way, is refused and the log names the global."""
    app_dir = h.path("app-global")
    os.makedirs(app_dir)
    shutil.copy(H.source_file("examples/scores-global/scores-global.c"),
                os.path.join(app_dir, "app.c"))
    rc, out, err = sh(["sh", "-c", 'cc -o app app.c $(pkg-config --cflags --libs fcdash)'],
                      cwd=app_dir, env=env)
    app = os.path.join(app_dir, "app")
    if not check("scores-global.c builds out of tree with the same line", rc == 0,
                 (out + err)[-1500:]):
        return
    addr = "127.0.0.1:%d" % H.free_port()
    log = h.path("app-global.log")
    p = h.spawn([app, "--listen", addr], env=run_env, log=log)
    end = time.time() + 5
    r = None
    while time.time() < end:
        r = H.fcgi_request(addr, "POST", "/_dash-update-component", H.json.dumps(BODY5))
        if r.status != 0 or p.poll() is not None:
            break
        time.sleep(0.05)
    check("scores-global: its write to frozen app data answers 500 with a JSON message",
          r is not None and r.status == 500 and isinstance(r.json(), dict), r)
    time.sleep(0.2)
    text = open(log, errors="replace").read()
    check("scores-global: the log names global variable 'df' (the symbol -rdynamic exports)",
          "global variable 'df'" in text, text[-800:])
    p.terminate()


def installed_scripts(h, prefix, app, run_env):
    """The installed pool script and nginx generator, as a user runs them."""
    run = h.path("deploy")
    os.makedirs(run)
    os.chmod(run, 0o755)
    static = h.static_root()
    pool = os.path.join(prefix, "bin", "fcdash-pool")
    env = dict(build_env(), **run_env)
    sock = os.path.join(run, "scores.sock")
    rc, out, err = sh([pool, "start", "scores", app, "--socket", sock, "--workers", "2",
                       "--run-dir", run, "--multiwatch", "--env", "FCDASH_PREFIX=/scores/",
                       "--env", "FCDASH_STATIC_ROOT=" + static], env=env)
    if not check("installed fcdash-pool starts 2 workers of the app under multiwatch", rc == 0,
                 err[-1500:]):
        return
    try:
        conf = os.path.join(prefix, "share", "fcdash", "nginx", "fcdash-nginx-conf")
        port = H.free_port()
        rc, out, err = sh([conf, "--port", str(port), "--run-dir", run, "--static-root", static,
                           "--app", "/scores/=unix:" + sock])
        if not check("installed fcdash-nginx-conf writes nginx.conf from the installed template",
                     rc == 0 and "fastcgi_pass" in out, err):
            return
        with open(os.path.join(run, "nginx.conf"), "w") as f:
            f.write(out)
        ngx = H.tool("nginx")
        base = [ngx, "-c", os.path.join(run, "nginx.conf"), "-p", run,
                "-e", os.path.join(run, "error.log")]
        h.nginx = h.spawn(base + ["-g", "daemon off;"], log=os.path.join(run, "nginx.out"))
        url = "http://127.0.0.1:%d" % port
        end = time.time() + 10
        while time.time() < end:
            r = H.fetch("GET", url + "/scores/_dash-layout", timeout=2)
            if r.status == 200:
                break
            time.sleep(0.1)
        h.nginx_pids.update(H.children(h.nginx.pid))
        r = H.fetch("GET", url + "/scores/")
        check("through nginx: the index page", r.status == 200 and "DashRenderer" in r.text, r)
        r = H.post_json(url + "/scores/_dash-update-component", BODY5)
        check("through nginx: the callback answers value 5 -> 4",
              r.status == 200 and r.json() == ANSWER5, r)
        r = H.post_json(url + "/scores/_dash-update-component", b'{"output": ')
        j = r.json()
        check("through nginx: a truncated body answers 400 with a JSON error",
              r.status == 400 and isinstance(j, dict) and j.get("status") == 400
              and isinstance(j.get("message"), str), r)
        H.guarded("multiwatch kill during a run", kill_during_run, url, run)
    finally:
        h.stop_nginx()
        rc, out, err = sh([pool, "stop", "scores", "--run-dir", run], env=env)
        check("installed fcdash-pool stops the pool", rc == 0 and not os.path.exists(sock), err)


def kill_during_run(url, run):
    """Issue 6 item 2: multiwatch replaces a worker killed with SIGKILL in
    the middle of a run of requests through nginx.  Only the request the
    killed worker had in hand may fail (nginx's 502); the pool is whole
    again and every later request succeeds."""
    with open(os.path.join(run, "scores.pid")) as f:
        mw = int(f.read().split()[0])

    def workers():
        return [k for k in H.children(mw) if H.alive(k)]
    before = workers()
    if not equal("multiwatch: 2 workers before the run", len(before), 2):
        return
    upd = url + "/scores/_dash-update-component"
    done = []
    lock = H.threading.Lock()

    def one(i):
        r = H.post_json(upd, BODY5)
        with lock:
            done.append(i)
        return time.time(), r

    victim = before[0]
    with ThreadPoolExecutor(max_workers=6) as ex:
        futures = [ex.submit(one, i) for i in range(300)]
        end = time.time() + 20
        while len(done) < 60 and time.time() < end:
            time.sleep(0.002)
        at = len(done)
        os.kill(victim, H.signal.SIGKILL)
        killed = time.time()
        whole_at = None
        while time.time() < killed + 5:
            now = workers()
            if len(now) == 2 and victim not in now:
                whole_at = time.time()
                break
            time.sleep(0.01)
        rs = [f.result() for f in futures]
    check("multiwatch: worker %d killed with SIGKILL after %d of 300 requests, while the "
          "others were in flight" % (victim, at), 0 < at < 300, at)
    check("multiwatch: the pool is whole again (2 workers, without the killed one) within "
          "5 s", whole_at is not None, workers())
    bad = [(round(t - killed, 3), r.status) for t, r in rs
           if r.status != 200 or r.json() != ANSWER5]
    check("multiwatch: of the 300 requests at most the one the killed worker had in hand "
          "failed (%d failed)" % len(bad), len(bad) <= 1, bad[:5])
    late = [b for b in bad if whole_at is not None and b[0] > whole_at - killed + 0.5]
    check("multiwatch: every request that ended after the pool was whole again succeeded",
          whole_at is not None and not late, late[:5])
    rs = [H.post_json(upd, BODY5) for _ in range(20)]
    check("multiwatch: 20 requests afterwards all succeed",
          all(r.status == 200 and r.json() == ANSWER5 for r in rs), [r.status for r in rs])


def systemd_unit(prefix):
    """The unit is not run here (no init system in CI); systemd's own
    checker reads it: syntax, known keys, the programs it starts."""
    unit = os.path.join(prefix, "share", "fcdash", "systemd", "fcdash-pool@.service")
    rc, out, err = sh([H.tool("systemd-analyze"), "verify", unit])
    check("systemd-analyze verify accepts the installed fcdash-pool@.service (no warning)",
          rc == 0 and not err.strip() and not out.strip(), (rc, out, err))


def destdir_and_uninstall(h, build, prefix, have):
    stage = h.path("stage")
    rc, out, err = sh(["make", "install", "DESTDIR=" + stage], cwd=build)
    staged = files_under(os.path.join(stage, prefix.lstrip("/"))) if rc == 0 else set()
    check("make install DESTDIR=... stages the same files under DESTDIR",
          rc == 0 and staged == have, (rc, err[-800:], sorted(staged ^ have)))
    rc, out, err = sh(["make", "uninstall"], cwd=build)
    left = files_under(prefix)
    check("make uninstall leaves no file in the prefix", rc == 0 and not left,
          (rc, sorted(left)[:20], err[-500:]))


def main():
    for t in ("make", "cc", "pkg-config", "nm", "readelf"):
        H.tool(t)
    h = H.Harness("fcdash-install")
    section("make distdir, configure --prefix, make install")
    build, prefix = install(h)
    section("what the prefix holds")
    have = installed_files(prefix)
    section("pkg-config")
    env = pkg_config(prefix)
    section("an app built out of tree")
    app, run_env = build_app(h, prefix, env)
    H.guarded("run the app", run_app, h, app, run_env)
    H.guarded("frozen global", frozen_global, h, env, run_env)
    section("the installed pool script and nginx config")
    H.guarded("installed scripts", installed_scripts, h, prefix, app, run_env)
    section("the systemd unit")
    H.guarded("systemd unit", systemd_unit, prefix)
    section("DESTDIR and uninstall")
    H.guarded("destdir", destdir_and_uninstall, h, build, prefix, have)


if __name__ == "__main__":
    H.run(main)
