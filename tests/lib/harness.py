"""harness.py - real servers on loopback for fcdash's black-box tests.

Each test script builds one Harness: a fresh temporary directory, high free
ports on 127.0.0.1, and the real processes a deployment runs: spawn-fcgi
pools through nginx/fcdash-pool (unix sockets or TCP, optionally under
multiwatch), workers started alone with --listen, an nginx configured by
nginx/fcdash-nginx-conf over a static root built by frontend/layout-static,
and memcached when a test asks for it.  Everything started is stopped by
pid when the script ends, pass or fail: try/finally in run(), an atexit
hook, and handlers that turn SIGTERM/SIGINT/SIGHUP into a normal exit.  The
harness also makes itself a child subreaper (prctl), so workers orphaned by
spawn-fcgi or multiwatch stay its descendants, and a last sweep kills any
descendant still alive.

The check framework is deliberately tiny: check(name, ok, detail) prints an
"ok" or "FAIL" line; a check that cannot run because something is missing
is a failure, never a pass; the script ends with exactly one line
"N passed, N failed" and exit status 1 if anything failed.  scripts/check
sums those lines.

Instrumented workers.  The workers a test starts (pools, and programs of
the build tree started with spawn()) are checked for memory errors when the
build is instrumented: a binary built with ./configure --enable-sanitizers
gets ASAN_OPTIONS/UBSAN_OPTIONS whose log_path points into the pool's run
directory, and FCDASH_TEST_WORKER_WRAPPER (e.g. valgrind) runs each worker
under a wrapper whose "{log}" is replaced by a per-pool log prefix.  Such
workers are stopped gracefully (SIGUSR1, libfcgi's stop) so that they exit
through main and the leak checks run, and each pool's stop adds one check
that no report was written.  FCDASH_TEST_TIMEOUT_FACTOR=N multiplies the
harness's waits for workers (start-up, the graceful stop), and slow() a
test's own, for workers that run N times slower.  scripts/check-sanitizers
and scripts/check-valgrind set these.

Standard library only, for Debian's /usr/bin/python3.  Locations come from
FCDASH_SRCDIR and FCDASH_BUILDDIR (make check sets them), else the tree this
file is in; the Dash captures from ../shared/dash-protocol-captures beside
the source tree, else $FCDASH_SHARED/dash-protocol-captures.
"""

import atexit
import ctypes
import email.parser
import http.client as httpclient
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.environ.get("FCDASH_SRCDIR") or os.path.join(HERE, "..", ".."))
BUILDDIR = os.path.abspath(os.environ.get("FCDASH_BUILDDIR") or SRCDIR)


class Missing(Exception):
    """Something a test needs is not there (a program, a file, a port)."""


# ---- checks ---------------------------------------------------------------

class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.lock = threading.Lock()

    def check(self, name, ok, detail=""):
        with self.lock:
            if ok:
                self.passed += 1
                print("ok   %s" % name, flush=True)
            else:
                self.failed += 1
                print("FAIL %s%s" % (name, (": " + str(detail)) if detail != "" else ""),
                      flush=True)
        return bool(ok)

    def missing(self, name, why):
        """A check that could not run: counted as failed."""
        return self.check(name, False, "cannot run: %s" % why)

    def summary(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 1 if self.failed else 0


CHECKS = Checks()
check = CHECKS.check
missing = CHECKS.missing


def equal(name, got, want):
    """check(name, got == want) with both shown on failure."""
    return check(name, got == want, "got %s, expected %s" % (short(got), short(want)))


def short(v, limit=400):
    s = v if isinstance(v, str) else json.dumps(v, sort_keys=True) if _jsonable(v) else repr(v)
    return s if len(s) <= limit else s[:limit] + "...(%d chars)" % len(s)


def _jsonable(v):
    try:
        json.dumps(v)
        return True
    except (TypeError, ValueError):
        return False


# ---- locating things ------------------------------------------------------

def captures_dir():
    """../shared/dash-protocol-captures beside the source tree (CI copies
    /work/shared there), beside one of its parents (make distcheck unpacks
    the tree one level down), or under $FCDASH_SHARED."""
    cands = []
    d = os.path.dirname(SRCDIR)
    for _ in range(3):
        cands.append(os.path.join(d, "shared", "dash-protocol-captures"))
        d = os.path.dirname(d)
    if os.environ.get("FCDASH_SHARED"):
        cands.insert(0, os.path.join(os.environ["FCDASH_SHARED"], "dash-protocol-captures"))
    for c in cands:
        if os.path.isfile(os.path.join(c, "layout.json")):
            return os.path.abspath(c)
    raise Missing("Dash captures not found (looked in %s; set FCDASH_SHARED)" % ", ".join(cands))


def read_capture(name):
    path = os.path.join(captures_dir(), name)
    if name.endswith(".jsonl"):
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    with open(path) as f:
        return json.load(f)


def program(rel):
    """A program built in the build tree, e.g. examples/scores/scores."""
    path = os.path.join(BUILDDIR, rel)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise Missing("%s is not built (run make, or make check)" % path)
    return path


def tool(name):
    path = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if path is None:
        raise Missing("%s not found (scripts/install-deps installs it)" % name)
    return path


def _user_exists(name):
    import pwd
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def source_file(rel):
    """A script or file of the source tree, or Missing."""
    path = os.path.join(SRCDIR, rel)
    if not os.path.exists(path):
        raise Missing("%s is not in the source tree %s" % (rel, SRCDIR))
    return path


def _replace_if_changed(src, dst):
    """Copy src over dst only when they differ, and then by rename: another
    test may be running the old dst (a shell script, which bash reads as it
    goes), and must keep reading the file it opened."""
    with open(src, "rb") as f:
        data = f.read()
    try:
        with open(dst, "rb") as f:
            if f.read() == data:
                return
    except OSError:
        pass
    tmp = dst + ".new"
    shutil.copy2(src, tmp)
    os.chmod(tmp, os.stat(src).st_mode | 0o200)
    os.replace(tmp, dst)


def frontend_script():
    """frontend/layout-static with its npm packages installed.  When the
    source tree has no frontend/node_modules (a tree where install-deps has
    not run, or make distcheck's read-only copy), the front end is copied
    to $FCDASH_BUILDDIR/run/tests/frontend and `npm ci` runs there, once,
    under a lock, for every test that needs it."""
    import fcntl
    src = os.path.join(SRCDIR, "frontend")
    script = source_file("frontend/layout-static")
    if os.path.isdir(os.path.join(src, "node_modules")):
        return script
    npm = tool("npm")
    dest = os.path.join(BUILDDIR, "run", "tests", "frontend")
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = os.path.join(dest, "node_modules", ".package-lock.json")
        for name in ("layout-static", "fcdash.css", "package.json", "package-lock.json"):
            _replace_if_changed(os.path.join(src, name), os.path.join(dest, name))
        if not os.path.exists(stamp) or (os.path.getmtime(stamp)
                                         < os.path.getmtime(os.path.join(dest, "package-lock.json"))):
            print("# %s has no node_modules: npm ci in %s" % (src, dest), flush=True)
            r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts",
                                "--loglevel=error"], cwd=dest, capture_output=True, text=True,
                               timeout=900)
            if r.returncode != 0:
                raise Missing("npm ci in %s failed (run scripts/install-deps): %s"
                              % (dest, (r.stderr or r.stdout)[-1000:]))
    return os.path.join(dest, "layout-static")


def free_port():
    """A free TCP port above 20000 on 127.0.0.1 (bound and released)."""
    for _ in range(200):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port >= 20000:
            return port
    raise Missing("no free high port on 127.0.0.1")


# ---- instrumented workers (ASan/UBSan, valgrind) -------------------------

def _slow_factor():
    try:
        f = float(os.environ.get("FCDASH_TEST_TIMEOUT_FACTOR") or 1)
    except ValueError:
        raise SystemExit("FCDASH_TEST_TIMEOUT_FACTOR must be a number, not %r"
                         % os.environ["FCDASH_TEST_TIMEOUT_FACTOR"])
    return max(f, 1.0)


SLOW = _slow_factor()


def slow(seconds):
    """A wait or timeout stretched for slow workers (FCDASH_TEST_TIMEOUT_FACTOR)."""
    return seconds * SLOW


# The wrapper's words; "{log}" in any of them becomes the pool's log prefix.
WORKER_WRAPPER = os.environ.get("FCDASH_TEST_WORKER_WRAPPER", "").split()

_asan_cache = {}


def sanitized(binary):
    """Was this program built with AddressSanitizer?  Its dynamic symbols
    then name __asan_init (gcc links libasan dynamically)."""
    path = os.path.realpath(binary)
    if path not in _asan_cache:
        try:
            with open(path, "rb") as f:
                _asan_cache[path] = b"__asan_init" in f.read()
        except OSError:
            _asan_cache[path] = False
    return _asan_cache[path]


def sanitizer_env(prefix):
    """Settings for a sanitized worker: every report goes to PREFIX.PID
    instead of the worker's stderr, where a test would never look.
      halt_on_error=1   ASan stops at the first error (UBSan already does:
                        configure builds it with -fno-sanitize-recover);
      detect_leaks=1    LeakSanitizer runs when the worker exits;
      allow_user_segv_handler=1 (the default, said out loud)
                        base/freeze.c's own SIGSEGV/SIGBUS handler, which
                        reports a callback's write to frozen app data, takes
                        over from ASan's after start-up; a fault outside a
                        callback still kills the worker, only without an
                        ASan report;
      verify_asan_link_order=0
                        a test that fakes the clock preloads libfaketime,
                        which then comes before libasan; ASan refuses to
                        start that way unless told that it is meant."""
    common = "log_path=%s:print_stacktrace=1" % prefix
    return {
        "ASAN_OPTIONS": "halt_on_error=1:detect_leaks=1:allow_user_segv_handler=1:"
                        "verify_asan_link_order=0:" + common,
        "UBSAN_OPTIONS": "halt_on_error=1:" + common,
    }


def wrapper_argv(prefix):
    return [w.replace("{log}", prefix) for w in WORKER_WRAPPER]


def report_problems(prefix, workers):
    """The reports of the workers logged under PREFIX: a list of
    (file, problem) for each sanitizer report, and for each wrapper log
    (valgrind's) that does not end in a clean ERROR SUMMARY."""
    d, base = os.path.split(prefix)
    problems = []
    try:
        names = sorted(os.listdir(d))
    except OSError:
        return problems
    logs = 0
    for n in names:
        path = os.path.join(d, n)
        if not n.startswith(base + "."):
            continue
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        kind = n[len(base) + 1:].split(".")[0]
        if kind == "sanitizer":
            if text.strip():
                problems.append((path, _first_lines(text)))
        elif kind == "wrapper":
            logs += 1
            summary = [ln for ln in text.splitlines() if "ERROR SUMMARY:" in ln]
            pid = n.rsplit(".", 1)[-1]
            if not summary and pid.isdigit() and int(pid) in KILLED_ON_PURPOSE:
                if re.search(r"^==\d+== \S", text.split("Parent PID:", 1)[-1], re.M):
                    problems.append((path, _first_lines(_valgrind_errors(text))))
            elif not summary:
                problems.append((path, "no ERROR SUMMARY: the worker did not exit "
                                 "normally (killed?)\n" + _first_lines(text)))
            elif " 0 errors from 0 contexts" not in summary[-1]:
                problems.append((path, _first_lines(_valgrind_errors(text))))
    if WORKER_WRAPPER and workers and logs == 0:
        problems.append((prefix + ".wrapper.*", "no log from the wrapper: is {log} in "
                         "FCDASH_TEST_WORKER_WRAPPER?"))
    return problems


# Workers a test killed with SIGKILL on purpose (kill_on_purpose): their
# wrapper logs end without a summary, which is then no problem of theirs.
KILLED_ON_PURPOSE = set()


def kill_on_purpose(pid, sig=signal.SIGKILL):
    """Send `sig` to a worker as part of a test (what follows a kill -9?).
    A worker killed so cannot write valgrind's closing summary; the pool's
    check then still looks at what its log says before."""
    if sig == signal.SIGKILL:
        KILLED_ON_PURPOSE.add(pid)
    os.kill(pid, sig)


def _first_lines(text, n=25):
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(lines[:n]) + ("\n..." if len(lines) > n else "")


def _valgrind_errors(text):
    """The records of valgrind's log that count as errors: everything it
    reported before the heap summary, and the definite and indirect leak
    records after it (possible leaks and the summaries left out)."""
    blocks, cur = [], []
    for ln in text.splitlines():
        body = ln.split("== ", 1)[1] if ln.startswith("==") and "== " in ln else ln
        if body.strip() == "" or ln.rstrip().endswith("=="):
            if cur:
                blocks.append(cur)
            cur = []
        else:
            cur.append(ln)
    if cur:
        blocks.append(cur)
    keep = []
    for b in blocks[1:]:  # the first block is valgrind's banner
        head = b[0].split("== ", 1)[-1]
        if head.startswith(("HEAP SUMMARY", "LEAK SUMMARY", "ERROR SUMMARY", "For lists",
                            "For counts", "Reachable blocks", "To see them", "All heap")):
            continue
        if "lost in loss record" in head and not ("definitely" in head or "indirectly" in head):
            continue
        keep.extend(b)
    return "\n".join(keep) or text


# ---- processes ------------------------------------------------------------

def alive(pid):
    """Running and not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    state = st.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        if int(st.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(d))
    return kids


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        for k in children(todo.pop()):
            out.append(k)
            todo.append(k)
    return out


def reap():
    """Collect exited children (orphans handed to us as subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def wait_dead(pid, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return not alive(pid)


def wait_until(cond, timeout):
    """Poll cond() every 50 ms until it is true or timeout seconds pass;
    returns its last value."""
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def kill_pid(pid, sig=signal.SIGTERM, timeout=5.0):
    """Signal one pid, wait, then SIGKILL.  Returns True when it is gone."""
    if not alive(pid):
        return True
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    if wait_dead(pid, timeout):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return wait_dead(pid, 2.0)


def become_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


# ---- HTTP -----------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # an http.client.HTTPMessage
        self.body = body        # bytes

    def header(self, name):
        return self.headers.get(name) if self.headers is not None else None

    def header_all(self, name):
        return (self.headers.get_all(name) or []) if self.headers is not None else []

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        """The parsed body, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    def __repr__(self):
        return "<%s %s>" % (self.status, short(self.text, 300))


def fetch(method, url, body=None, headers=None, timeout=30):
    """One request on a fresh connection.  Never raises for an HTTP status;
    a connection failure gives status 0 with the error as the body."""
    assert url.startswith("http://")
    hostport, _, path = url[len("http://"):].partition("/")
    host, _, port = hostport.partition(":")
    if isinstance(body, str):
        body = body.encode()
    conn = httpclient.HTTPConnection(host, int(port or 80), timeout=timeout)
    try:
        conn.request(method, "/" + path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.headers, data)
    except (OSError, httpclient.HTTPException) as e:
        return Response(0, None, ("connection failed: %r" % e).encode())
    finally:
        conn.close()


def post_json(url, obj, headers=None, timeout=30):
    h = {"Content-Type": "application/json", "Accept": "application/json"}
    h.update(headers or {})
    body = obj if isinstance(obj, (bytes, str)) else json.dumps(obj, separators=(",", ":"))
    return fetch("POST", url, body, h, timeout)


# ---- a FastCGI client, to talk to workers without nginx --------------------

FCGI_BEGIN, FCGI_END, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 1, 3, 4, 5, 6, 7


def _fcgi_record(rtype, content, rid=1):
    out = b""
    # Records carry at most 65535 bytes; an empty one ends a stream.
    chunks = [content[i:i + 65535] for i in range(0, len(content), 65535)] or [b""]
    for c in chunks:
        out += struct.pack(">BBHHBx", 1, rtype, rid, len(c), 0) + c
    return out


def _fcgi_pair(k, v):
    def ln(n):
        return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
    k, v = k.encode(), v.encode()
    return ln(len(k)) + ln(len(v)) + k + v


def fcgi_request(address, method, path, body=b"", content_type="application/json",
                 params=None, timeout=30):
    """Send one FastCGI request to `address` ("unix:/path" or "host:port").
    Returns a Response (status from the Status header, 200 when absent), or
    status 0 when the connection failed or closed without an answer."""
    if isinstance(body, str):
        body = body.encode()
    env = {
        "REQUEST_METHOD": method, "REQUEST_URI": path, "SCRIPT_NAME": path.split("?")[0],
        "QUERY_STRING": path.partition("?")[2], "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": content_type if body or method == "POST" else "",
    }
    env.update(params or {})
    try:
        if address.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect(address[5:])
        else:
            host, _, port = address.rpartition(":")
            s = socket.create_connection((host, int(port)), timeout=timeout)
    except OSError as e:
        return Response(0, None, ("connect failed: %r" % e).encode())
    try:
        msg = _fcgi_record(FCGI_BEGIN, struct.pack(">HB5x", 1, 0))
        msg += _fcgi_record(FCGI_PARAMS, b"".join(_fcgi_pair(k, v) for k, v in env.items()))
        msg += _fcgi_record(FCGI_PARAMS, b"")
        msg += _fcgi_record(FCGI_STDIN, body) if body else b""
        msg += _fcgi_record(FCGI_STDIN, b"")
        s.sendall(msg)
        buf, out, ended = b"", b"", False
        while not ended:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 8:
                _, rtype, _, clen, plen = struct.unpack(">BBHHB", buf[:7])
                if len(buf) < 8 + clen + plen:
                    break
                content = buf[8:8 + clen]
                buf = buf[8 + clen + plen:]
                if rtype == FCGI_STDOUT:
                    out += content
                elif rtype == FCGI_END:
                    ended = True
        if not ended:
            return Response(0, None, b"connection closed before the end of the response")
    except OSError as e:
        return Response(0, None, ("FastCGI exchange failed: %r" % e).encode())
    finally:
        s.close()
    head, _, payload = out.partition(b"\r\n\r\n")
    headers = email.parser.BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
    status = int((headers.get("Status") or "200").split()[0])
    return Response(status, headers, payload)


# ---- the harness -----------------------------------------------------------

_ALL = []


def _stop_everything():
    for h in list(_ALL):
        h.stop()


def _on_signal(signum, frame):
    raise SystemExit("stopped by signal %d" % signum)


class Pool:
    def __init__(self, harness, name, binary, upstream, log, pid_file, multiwatch,
                 reports=None):
        self.harness = harness
        self.name = name
        self.binary = binary
        self.upstream = upstream  # unix:/path or 127.0.0.1:port
        self.log = log
        self.pid_file = pid_file
        self.multiwatch = multiwatch
        self.known = set()        # every pid seen, for the final sweep
        # Prefix of the sanitizer reports and wrapper logs of an
        # instrumented pool (None: not instrumented).
        self.reports = reports

    def pids(self):
        """The workers' pids (multiwatch: its children)."""
        try:
            with open(self.pid_file) as f:
                listed = [int(x) for x in f.read().split() if x.isdigit()]
        except OSError:
            listed = []
        if self.multiwatch:
            self.known.update(listed)
            kids = [k for p in listed for k in children(p) if alive(k)]
            # multiwatch forks through sh, which execs the worker.
            self.known.update(kids)
            return kids
        self.known.update(listed)
        return [p for p in listed if alive(p)]

    def head(self):
        try:
            with open(self.pid_file) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def log_since(self, offset):
        return self.log_text()[offset:]


class Harness:
    """Servers for one test script.  Use as `with Harness() as h:` or call
    stop(); run(main) does it for you."""

    def __init__(self, name="fcdash-test"):
        become_subreaper()
        base = os.environ.get("FCDASH_TEST_TMP") or None
        self.dir = tempfile.mkdtemp(prefix=name + "-", dir=base)
        # nginx's workers drop to www-data when we are root: they must reach
        # the static root, the sockets and the temp directories in here.
        os.chmod(self.dir, 0o755)
        self.pools = []
        self.procs = []        # (Popen, description)
        self.instrumented = []  # (Popen, reports prefix) of spawn()ed workers
        self.n_spawned = 0
        self.static = None
        self.nginx = None
        self.nginx_pids = set()
        self.stopped = False
        _ALL.append(self)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def worker_env(self):
        """Settings every worker gets unless a test says otherwise: the
        default file cache goes under XDG_RUNTIME_DIR, so each test script
        has its own, gone with its temp dir, instead of sharing
        /tmp/fcdash-cache-UID with other tests and the demo."""
        xdg = self.path("xdg")
        os.makedirs(xdg, mode=0o700, exist_ok=True)
        return {"XDG_RUNTIME_DIR": xdg}

    # -- static root and pools

    def static_root(self):
        """The static root nginx serves, built by frontend/layout-static:
        links into frontend/node_modules, or copies when nginx's workers
        (www-data, when we are root) cannot read through those links, as in
        a checkout under /root."""
        if self.static is None:
            script = frontend_script()
            dest = self.path("static")
            r = subprocess.run([script, dest], capture_output=True, text=True)
            if r.returncode != 0:
                raise Missing("frontend/layout-static failed: %s" % (r.stderr or r.stdout).strip())
            probe = os.path.join(dest, "dash", "deps", "react@18.3.1.min.js")
            if os.getuid() == 0 and shutil.which("runuser") and _user_exists("www-data"):
                t = subprocess.run(["runuser", "-u", "www-data", "--", "test", "-r", probe])
                if t.returncode != 0:
                    print("# www-data cannot read %s through its links: copying" % script,
                          flush=True)
                    shutil.rmtree(dest)
                    r = subprocess.run([script, "--copy", dest], capture_output=True, text=True)
                    if r.returncode != 0:
                        raise Missing("frontend/layout-static --copy failed: %s"
                                      % (r.stderr or r.stdout).strip())
            self.static = dest
        return self.static

    def pool(self, name, binary, workers=2, tcp=False, multiwatch=False, env=None, args=None):
        """Start a pool with nginx/fcdash-pool; returns a Pool."""
        tool("spawn-fcgi")
        if multiwatch:
            tool("multiwatch")
        run_dir = self.path("pools")
        os.makedirs(run_dir, exist_ok=True)
        os.chmod(run_dir, 0o755)
        cmd = [source_file("nginx/fcdash-pool"), "start", name, binary,
               "--workers", str(workers), "--run-dir", run_dir]
        if tcp:
            port = free_port()
            cmd += ["--port", str(port)]
            upstream = "127.0.0.1:%d" % port
        else:
            sock = os.path.join(run_dir, name + ".sock")
            cmd += ["--socket", sock]
            upstream = "unix:" + sock
        if multiwatch:
            cmd.append("--multiwatch")
        reports, inst_env, wrap = self.instrument(binary, os.path.join(run_dir, name))
        for k, v in dict(self.worker_env(), **dict(inst_env, **(env or {}))).items():
            cmd += ["--env", "%s=%s" % (k, v)]
        if wrap:
            cmd += ["--wrapper", " ".join(wrap)]
        if args:
            cmd += ["--"] + list(args)
        p = Pool(self, name, binary, upstream, os.path.join(run_dir, name + ".log"),
                 os.path.join(run_dir, name + ".pid"), multiwatch, reports)
        self.pools.append(p)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise Missing("fcdash-pool start %s failed (%d): %s\n%s" % (
                name, r.returncode, r.stderr.strip(), p.log_text()[-2000:]))
        # Under multiwatch the workers appear a moment after the start.
        end = time.time() + slow(5)
        while len(p.pids()) < workers and time.time() < end:
            time.sleep(0.05)
        if len(p.pids()) < workers:
            raise Missing("pool %s: %d of %d workers running: %s" % (
                name, len(p.pids()), workers, p.log_text()[-2000:]))
        if wrap:
            # A worker under a wrapper takes seconds to reach its accept
            # loop; tests read the pool's log for every worker's start-up
            # line ("NAME[PID]: serving ...", handlers/run.c) right away.
            end = time.time() + slow(5)
            while time.time() < end and not all(
                    "[%d]: serving " % pid in p.log_text() for pid in p.pids()):
                time.sleep(0.1)
        return p

    def instrument(self, binary, prefix):
        """How to run a worker of `binary` whose reports go under `prefix`:
        (reports prefix or None, environment, wrapper argv)."""
        asan = sanitized(binary)
        if not asan and not WORKER_WRAPPER:
            return None, {}, []
        env = sanitizer_env(prefix + ".sanitizer") if asan else {}
        return prefix, env, wrapper_argv(prefix + ".wrapper")

    def check_reports(self, what, prefix, workers):
        """One check: the instrumented workers under `prefix` reported no
        memory error, no undefined behaviour and no leak."""
        problems = report_problems(prefix, workers)
        tool_name = "valgrind" if WORKER_WRAPPER else "ASan/UBSan/LSan"
        detail = "\n".join("%s:\n%s" % (f, text) for f, text in problems[:3])
        check("%s: no memory error or leak reported (%s)" % (what, tool_name), not problems,
              detail)

    def stop_gracefully(self, pids, what, head=None):
        """Ask instrumented workers to exit through main, where the leak
        checks run: SIGUSR1, libfcgi's graceful stop (a worker in the middle
        of a request finishes it first).  SIGTERM, which fcdash-pool sends,
        kills an idle worker at once by design (fcgi/runtime.c), and a
        killed worker gets no leak check.  Under multiwatch (`head`),
        multiwatch itself is told to stop, and passes SIGUSR1 on."""
        targets = [p for p in pids if alive(p)]
        try:
            if head is not None:
                os.kill(head, signal.SIGTERM)
            else:
                for pid in targets:
                    os.kill(pid, signal.SIGUSR1)
        except ProcessLookupError:
            pass
        limit = slow(10)
        end = time.time() + limit
        while time.time() < end and any(alive(p) for p in targets):
            reap()
            time.sleep(0.05)
        stuck = [p for p in targets if alive(p)]
        if stuck:
            check("%s: workers exit on SIGUSR1" % what, False,
                  "pids %s still ran %.0f s after SIGUSR1" % (stuck, limit))

    def stop_pool(self, pool):
        """fcdash-pool stop (SIGTERM, then SIGKILL, by pid), then a check of
        our own: any pid this pool ever had that still runs its program or
        multiwatch is killed.  An instrumented pool is stopped gracefully
        first, and its reports checked."""
        workers = pool.pids()
        if pool.reports is not None:
            self.stop_gracefully(workers, "pool %s" % pool.name,
                                 pool.head() if pool.multiwatch else None)
        subprocess.run([os.path.join(SRCDIR, "nginx", "fcdash-pool"), "stop", pool.name,
                        "--run-dir", self.path("pools")], capture_output=True, text=True)
        prog = os.path.basename(pool.binary)
        for pid in pool.known:
            c = cmdline(pid)
            if alive(pid) and (prog in c or "multiwatch" in c):
                kill_pid(pid, signal.SIGKILL, 1)
        reap()
        if pool.reports is not None:
            self.check_reports("pool %s" % pool.name, pool.reports, pool.known)

    def spawn(self, argv, env=None, stdin=None, log=None, **kw):
        """A process we start ourselves (a worker with --listen, memcached).
        A program of the build tree is instrumented like a pool's workers
        (see instrument())."""
        e = dict(os.environ)
        e.update(self.worker_env())
        reports = None
        if "/" in argv[0] and os.path.realpath(argv[0]).startswith(
                os.path.realpath(BUILDDIR) + os.sep):
            self.n_spawned += 1
            reports, inst_env, wrap = self.instrument(argv[0], self.path(
                "spawn-%d-%s" % (self.n_spawned, os.path.basename(argv[0]))))
            e.update(inst_env)
            argv = wrap + list(argv)
        e.update(env or {})
        out = open(log, "ab") if log else subprocess.DEVNULL
        p = subprocess.Popen(argv, env=e, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
                             start_new_session=True, **kw)
        if log:
            out.close()
        self.procs.append((p, " ".join(argv)))
        if reports is not None:
            self.instrumented.append((p, reports))
        return p

    def memcached(self):
        """A private memcached on a free port; returns "127.0.0.1:port"."""
        mc = tool("memcached")
        port = free_port()
        argv = [mc, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "32"]
        if os.getuid() == 0:
            argv += ["-u", "nobody"]
        p = self.spawn(argv, log=self.path("memcached.log"))
        end = time.time() + 5
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return "127.0.0.1:%d" % port
            except OSError:
                if p.poll() is not None:
                    break
                time.sleep(0.05)
        raise Missing("memcached did not start on port %d" % port)

    # -- nginx

    def start_nginx(self, apps, index=None):
        """apps: {"/prefix/": upstream or [upstreams]}.  Returns the base URL
        ("http://127.0.0.1:PORT")."""
        ngx = tool("nginx")
        run = self.path("nginx")
        os.makedirs(run, exist_ok=True)
        os.chmod(run, 0o755)
        port = free_port()
        cmd = [source_file("nginx/fcdash-nginx-conf"), "--port", str(port),
               "--run-dir", run, "--static-root", self.static_root()]
        if index:
            cmd += ["--index", index]
        for prefix, up in apps.items():
            ups = up if isinstance(up, str) else ",".join(up)
            cmd += ["--app", "%s=%s" % (prefix, ups)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise Missing("fcdash-nginx-conf failed: %s" % r.stderr.strip())
        conf = os.path.join(run, "nginx.conf")
        with open(conf, "w") as f:
            f.write(r.stdout)
        base = [ngx, "-c", conf, "-p", run, "-e", os.path.join(run, "error.log")]
        t = subprocess.run(base + ["-t"], capture_output=True, text=True)
        if t.returncode != 0:
            raise Missing("nginx -t rejects the generated config: %s" % t.stderr.strip())
        self.nginx = self.spawn(base + ["-g", "daemon off;"], log=os.path.join(run, "stderr.log"))
        url = "http://127.0.0.1:%d" % port
        end = time.time() + 10
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                self.nginx_pids.update(children(self.nginx.pid))
                return url
            except OSError:
                if self.nginx.poll() is not None:
                    break
                time.sleep(0.05)
        raise Missing("nginx did not start: %s" % open(os.path.join(run, "error.log")).read())

    def stop_nginx(self):
        if self.nginx is None:
            return
        self.nginx_pids.update(children(self.nginx.pid))
        if self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGTERM)
            try:
                self.nginx.wait(5)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait(2)
        for pid in self.nginx_pids:
            kill_pid(pid, signal.SIGKILL, 1)
        self.nginx = None

    # -- the end

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        try:
            self.stop_nginx()
        except Exception:
            traceback.print_exc()
        for p in self.pools:
            try:
                self.stop_pool(p)
            except Exception:
                traceback.print_exc()
        for p, reports in self.instrumented:
            try:
                self.stop_gracefully([p.pid], os.path.basename(reports))
                p.poll()
            except Exception:
                traceback.print_exc()
        for p, _ in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(2)
        # Whatever descends from us still (orphaned workers we adopted as
        # subreaper, a grandchild of a killed process) goes too.
        for pid in descendants(os.getpid()):
            kill_pid(pid, signal.SIGKILL, 1)
        reap()
        for p, reports in self.instrumented:
            self.check_reports(os.path.basename(reports), reports, [p.pid])
        if os.environ.get("FCDASH_TEST_KEEP"):
            print("# kept %s" % self.dir, flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if self in _ALL:
            _ALL.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def run(main):
    """Run main(), which makes its own Harness(es) and checks; count an
    exception as one failed check; stop every server; print the summary;
    exit 1 if anything failed."""
    atexit.register(_stop_everything)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _on_signal)
    try:
        main()
    except Missing as e:
        missing("test prerequisites", str(e))
    except BaseException as e:  # SystemExit from a signal included
        check("test ran to the end", False, "%s\n%s" % (e, traceback.format_exc()))
    finally:
        _stop_everything()
    sys.exit(CHECKS.summary())


def section(title):
    print("# --- %s" % title, flush=True)


def guarded(name, fn, *args):
    """Run one group of checks; a Missing or an exception inside fails that
    group only, and the script goes on."""
    try:
        return fn(*args)
    except Missing as e:
        missing(name, str(e))
    except Exception as e:
        check(name, False, "raised %r\n%s" % (e, traceback.format_exc()))
    return None
