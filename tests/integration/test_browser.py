"""test_browser.py - the apps in a real headless Chromium, through nginx.

Starts nginx with three spawn-fcgi pools (examples/scores at /scores/,
tests/apps/protocol_check at /app/ and, with FCDASH_DEBUG=1, at /dbg/),
then runs the node scripts in tests/browser/ (playwright-core driving the
system's /usr/bin/chromium; no browser is ever downloaded):
  scores.mjs     pick each value 1..5 in the real dcc.Dropdown, see the count
  protocol.mjs   the capture scenarios (a)..(i), prod and debug mode (the
                 dev-tools error card of a failing callback), plus the app's
                 test-only extras (a layout function, a component-tree answer)
and counts their checks as its own.  Screenshots go to
$FCDASH_BUILDDIR/run/tests/ (git-ignored).  When tests/browser/node_modules
is missing, it runs `npm ci` (there, or in a copy in the build tree when
building outside the source tree); without node, npm or Chromium every
check fails.
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as H  # noqa: E402
from harness import check, section  # noqa: E402

BROWSER_DIR = os.path.join(H.SRCDIR, "tests", "browser")
CHROMIUM = os.environ.get("FCDASH_CHROMIUM", "/usr/bin/chromium")


def browser_dir(h):
    """A tests/browser with playwright-core installed: the source one, or,
    when it has none, the source one after `npm ci` for an in-tree build,
    else a copy in the build tree (make distcheck's source is read-only,
    which root would not notice)."""
    if os.path.isfile(os.path.join(BROWSER_DIR, "node_modules", "playwright-core",
                                   "package.json")):
        return BROWSER_DIR
    npm = H.tool("npm")
    where = BROWSER_DIR
    if os.path.realpath(H.SRCDIR) != os.path.realpath(H.BUILDDIR):
        where = os.path.join(H.BUILDDIR, "run", "tests", "browser")
        lock = os.path.join(where, "package-lock.json")
        if (os.path.isfile(os.path.join(where, "node_modules", "playwright-core", "package.json"))
                and os.path.isfile(lock) and open(lock).read() == open(
                    os.path.join(BROWSER_DIR, "package-lock.json")).read()):
            # Installed by an earlier run; the scripts may have changed.
            for f in os.listdir(BROWSER_DIR):
                if f.endswith(".mjs"):
                    shutil.copy2(os.path.join(BROWSER_DIR, f), where)
            return where
        shutil.rmtree(where, ignore_errors=True)
        shutil.copytree(BROWSER_DIR, where, ignore=shutil.ignore_patterns("node_modules"))
    print("# npm ci in %s" % where, flush=True)
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
    r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts",
                        "--loglevel=error"], cwd=where, capture_output=True, text=True, env=env,
                       timeout=600)
    if r.returncode != 0:
        raise H.Missing("npm ci in %s failed: %s" % (where, (r.stderr or r.stdout)[-1500:]))
    return where


def run_node(where, script, args, label, timeout=240):
    """Run one node script; its ok/FAIL lines become our checks."""
    node = H.tool("node")
    try:
        r = subprocess.run([node, os.path.join(where, script)] + args, cwd=where,
                           capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ, FCDASH_CHROMIUM=CHROMIUM))
        out, err, rc = r.stdout, r.stderr, r.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err, rc = "timed out after %d s" % timeout, None
    n_ok = n_fail = 0
    summary = None
    for line in out.splitlines():
        if line.startswith("ok   "):
            n_ok += 1
            check("%s: %s" % (label, line[5:]), True)
        elif line.startswith("FAIL "):
            n_fail += 1
            name, _, detail = line[5:].partition(": ")
            check("%s: %s" % (label, name), False, detail)
        elif re.fullmatch(r"\d+ passed, \d+ failed", line.strip()):
            summary = line.strip()
        elif line.startswith("#"):
            print("# %s: %s" % (label, line[1:].strip()), flush=True)
    check("%s: %s ran to its summary line" % (label, script),
          summary == "%d passed, %d failed" % (n_ok, n_fail),
          "summary %r after %d ok / %d FAIL lines; exit %s; stderr: %s" % (
              summary, n_ok, n_fail, rc, err[-1500:]))
    check("%s: %s made at least one check" % (label, script), n_ok + n_fail > 0, err[-800:])
    check("%s: %s exit status matches its checks" % (label, script),
          rc == (1 if n_fail else 0), "exit %s" % rc)


def main():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        raise H.Missing("%s not found (apt-get install chromium)" % CHROMIUM)
    h = H.Harness("fcdash-browser")
    where = browser_dir(h)
    static = h.static_root()
    shots = os.path.join(H.BUILDDIR, "run", "tests")
    os.makedirs(shots, exist_ok=True)
    pc = H.program("tests/apps/protocol_check")
    scores = h.pool("scores", H.program("examples/scores/scores"), workers=2,
                    env={"FCDASH_PREFIX": "/scores/", "FCDASH_STATIC_ROOT": static})
    # With the test-only extras: a layout function and a component-tree answer.
    prod = h.pool("protocol", pc, workers=2,
                  env={"FCDASH_PREFIX": "/app/", "FCDASH_STATIC_ROOT": static,
                       "FCDASH_TEST_EXTRAS": "1"})
    dbg = h.pool("protocol-debug", pc, workers=2, tcp=True,
                 env={"FCDASH_PREFIX": "/dbg/", "FCDASH_STATIC_ROOT": static,
                      "FCDASH_DEBUG": "1", "FCDASH_TEST_EXTRAS": "1"})
    url = h.start_nginx({"/scores/": scores.upstream, "/app/": prod.upstream,
                         "/dbg/": dbg.upstream})

    section("scores in Chromium")
    H.guarded("scores.mjs", run_node, where, "scores.mjs",
              [url, os.path.join(shots, "scores.png")], "scores")
    section("protocol_check in Chromium, prod")
    H.guarded("protocol.mjs prod", run_node, where, "protocol.mjs", [url + "/app/", "prod"],
              "protocol")
    section("protocol_check in Chromium, debug")
    H.guarded("protocol.mjs debug", run_node, where, "protocol.mjs",
              [url + "/dbg/", "debug", os.path.join(shots, "protocol-debug.png")], "protocol")


if __name__ == "__main__":
    H.run(main)
