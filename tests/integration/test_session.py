"""test_session.py - the guide's Example 4 (per-session server data) through nginx.

nginx in front of spawn-fcgi pools of examples/session, all sharing one
memcached (the session values' home) and the secrets OLD and NEW (random,
passed in the environment, never on a command line):
  /session/         the app.  Started three times on the same socket, to
                    rotate the secret as an operator would: FCDASH_SECRET=OLD
                    (1 worker), then NEW alone (2 workers), then NEW,OLD (4
                    workers, FCDASH_SESSION_MAX_AGE=300) for everything else;
  /session-past/    FCDASH_SECRET=NEW under faketime, its clock an hour
                    behind: it mints ids issued an hour ago (expired for a
                    max age of 300 s);
  /session-future/  the same an hour ahead: ids issued in the future.
The same app name signs every id, so an id minted under any prefix is
checked by /session/ as its own.  faketime is Debian's faketime package;
without it the expired and not-yet-valid cases fail as "cannot run".

Checked, as a user or an attacker sees it:
  every page load gets a fresh signed id; the log never shows an id, only
      its short hash;
  two sessions asked at once, both outputs each: one computation per
      session (3 s), the two outputs of a session show the same frame, the
      sessions' frames differ, and answers never cross over;
  "Get data" (n_clicks 1) answers at once with the same frame;
  refused with 403 and a JSON error, and no callback runs (no computation,
      no "Output" text): a tampered id, a truncated id, a made-up id, text
      that is no id, an expired id, an id from the future, and an id signed
      by a retired secret; after the rotation to NEW,OLD that same old id
      is accepted and finds the data it had before;
  in two real browsers (tests/browser/session.mjs): different data in each,
      never the other's, one computation per session although both outputs
      ask at once, and "Get data" without a second computation.
"""

import base64
import concurrent.futures
import collections
import os
import random
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

APP_NAME = "session"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # importing test_browser leaves no __pycache__ in the tree
import harness as H  # noqa: E402
from harness import check, equal, fetch, post_json, section  # noqa: E402
import test_browser as B  # noqa: E402  (run_node, browser_dir: the browser runner)

FAKETIME_LIBS = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/faketime/libfaketime.so.1"]
MAX_AGE = 300
COMPUTE_S = 3.0
ID_RE = re.compile(r"^s1\.[A-Za-z0-9_-]{80}$")
CSV_RE = re.compile(r"^,time,values\n0,(\S+ \S+),a\n1,(\S+ \S+),b\n2,(\S+ \S+),a\n3,(\S+ \S+),c\n$")


def private_shm():
    """Re-run this script in a mount namespace of its own with a fresh
    /dev/shm.  The cache counters live in a POSIX shared-memory segment
    named after the user and the app (/dev/shm/fcdash-0-session), which every
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


# ---- the app's requests -----------------------------------------------------

def layout_id(url, prefix="/session/"):
    """A page load's session id (the Store session-id's data), or None."""
    r = fetch("GET", url + prefix + "_dash-layout")
    try:
        store = r.json()["props"]["children"][0]
        return store["props"]["data"] if store["props"]["id"] == "session-id" else None
    except (TypeError, KeyError, IndexError):
        return None


def body(n, session, clicks=None):
    button = {"id": "get-data-button", "property": "n_clicks"}
    if clicks is not None:
        button["value"] = clicks
    return {"output": "output-%d.children" % n,
            "outputs": {"id": "output-%d" % n, "property": "children"},
            "inputs": [button, {"id": "session-id", "property": "data", "value": session}],
            "changedPropIds": ["get-data-button.n_clicks"] if clicks else []}


def ask(url, n, session, clicks=None):
    t0 = time.time()
    r = post_json(url + "/session/_dash-update-component", body(n, session, clicks))
    return r, time.time() - t0


def shown(r, n):
    """(text line, Pre) of output n's answer, or (None, None)."""
    try:
        kids = r.json()["response"]["output-%d" % n]["children"]["props"]["children"]
        return kids[0], kids[1]["props"]["children"]
    except (TypeError, KeyError, IndexError):
        return None, None


def issued(session):
    """The issue time inside an id (seconds), as the layout minted it."""
    raw = base64.urlsafe_b64decode(session[3:] + "=" * (-len(session[3:]) % 4))
    return int.from_bytes(raw[16:24], "big")


def metrics(url):
    r = fetch("GET", url + "/session/_fcdash/metrics")
    out = {}
    for line in r.text.splitlines():
        m = re.match(r'fcdash_cache_(\w+)_total\{app="session"\} (\d+)$', line)
        if m:
            out[m.group(1)] = int(m.group(2))
    if r.status != 200 or "computes" not in out:
        raise AssertionError("metrics: %s" % r)
    return out


def delta(after, before):
    return {k: after[k] - before.get(k, 0) for k in after}


# ---- pools with a secret in the environment ---------------------------------

def pool(h, name, secret, workers, env):
    """fcdash-pool start with FCDASH_SECRET in the environment only (the
    pool script warns that --env values show in ps)."""
    saved = os.environ.get("FCDASH_SECRET")
    os.environ["FCDASH_SECRET"] = secret
    try:
        return h.pool(name, H.program("examples/session/session"), workers=workers, env=env)
    finally:
        if saved is None:
            del os.environ["FCDASH_SECRET"]
        else:
            os.environ["FCDASH_SECRET"] = saved


def faketime_lib():
    for p in FAKETIME_LIBS:
        if os.path.isfile(p):
            return p
    return None


# ---- the checks -------------------------------------------------------------

def fresh_layouts(url, app, minted):
    ids = [layout_id(url) for _ in range(2)]
    minted.extend(i for i in ids if i)
    check("layout: each page load carries an id of the form s1.<80 base64url> (%s)" % ids,
          all(i and ID_RE.match(i) for i in ids), ids)
    check("layout: two page loads get two different ids", len(set(ids)) == 2 and None not in ids,
          ids)
    now = time.time()
    check("layout: the ids carry their issue time (now)",
          all(i and abs(issued(i) - now) < 60 for i in ids), [i and issued(i) - now for i in ids])
    time.sleep(0.2)
    log = app().log_text()
    check("layout: the log notes each new session by a short hash",
          len(re.findall(r'GET /session/_dash-layout 200 .* note="new session [0-9a-f]{16}"',
                         log)) >= 2, log[-800:])


def two_sessions(url, app, minted, store):
    a, b = layout_id(url), layout_id(url)
    minted.extend([a, b])
    if not check("two sessions: two page loads give two ids", a and b and a != b, (a, b)):
        return
    m0 = metrics(url)
    off = app().log_size()
    jobs = [(1, a), (2, a), (1, b), (2, b)]
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=4) as ex:
        rs = list(ex.map(lambda j: ask(url, j[0], j[1]), jobs))
    took = time.time() - t0
    d = delta(metrics(url), m0)
    check("two sessions: all four answers 200", all(r.status == 200 for r, _ in rs),
          [r for r, _ in rs if r.status != 200])
    texts = [shown(r, n) for (r, _), (n, _) in zip(rs, jobs)]
    equal("two sessions: each output says \"Output N - Button has been clicked None times\"",
          [t[0] for t in texts], ["Output %d - Button has been clicked None times" % n
                                  for n, _ in jobs])
    pre_a1, pre_a2, pre_b1, pre_b2 = (t[1] for t in texts)
    check("two sessions: session A's two outputs show the same frame", pre_a1 == pre_a2 and pre_a1,
          (pre_a1, pre_a2))
    check("two sessions: session B's two outputs show the same frame", pre_b1 == pre_b2 and pre_b1,
          (pre_b1, pre_b2))
    check("two sessions: A and B show different frames (their times differ)", pre_a1 != pre_b1,
          (pre_a1, pre_b1))
    for name, pre in (("A", pre_a1), ("B", pre_b1)):
        m = CSV_RE.match(pre or "")
        check("two sessions: %s's frame is the CSV of four times 5 s apart, values a b a c"
              % name, m and all(
                  (time.mktime(time.strptime(m.group(k + 1)[:19], "%Y-%m-%d %H:%M:%S"))
                   - time.mktime(time.strptime(m.group(k)[:19], "%Y-%m-%d %H:%M:%S"))) == 5
                  for k in range(1, 4)), pre)
    equal("two sessions: metrics: one computation per session, although both outputs asked "
          "at once", d["computes"], 2)
    check("two sessions: each output's answer waited for its session's one computation "
          "(%s s)" % [round(t, 2) for _, t in rs],
          all(COMPUTE_S - 0.1 <= t < 2 * COMPUTE_S for _, t in rs), [t for _, t in rs])
    check("two sessions: all of it took about one computation (%.2f s)" % took,
          took < 2 * COMPUTE_S, took)
    time.sleep(0.2)
    log = app().log_since(off)
    hashes = collections.Counter(re.findall(
        r'POST /session/_dash-update-component 200 .* note="session ([0-9a-f]{16})"', log))
    check("two sessions: the log names the two sessions by their hashes, two requests each "
          "(%s)" % dict(hashes), sorted(hashes.values()) == [2, 2], log[-1000:])
    store.update(a=a, b=b, pre_a=pre_a1, pre_b=pre_b1)

    # "Get data": n_clicks 1 and 2, instantly, the same frame.
    for clicks in (1, 2):
        m0 = metrics(url)
        with ThreadPoolExecutor(max_workers=2) as ex:
            rs = list(ex.map(lambda n: ask(url, n, a, clicks), (1, 2)))
        d = delta(metrics(url), m0)
        got = [shown(r, n) for (r, _), n in zip(rs, (1, 2))]
        equal("Get data (%d): both outputs say \"clicked %d times\" over A's frame"
              % (clicks, clicks), got,
              [("Output %d - Button has been clicked %d times" % (n, clicks), pre_a1)
               for n in (1, 2)])
        check("Get data (%d): answered at once (%s s), nothing computed"
              % (clicks, [round(t, 3) for _, t in rs]),
              all(t < 1.0 for _, t in rs) and d["computes"] == 0 and d["misses"] == 0, d)

    # Never each other's: interleaved, concurrent.
    m0 = metrics(url)
    jobs = [(random.choice((1, 2)), s, random.choice((None, 1, 7))) for s in (a, b) * 12]
    random.shuffle(jobs)
    with ThreadPoolExecutor(max_workers=4) as ex:
        rs = list(ex.map(lambda j: ask(url, *j), jobs))
    d = delta(metrics(url), m0)
    wrong = [(n, s == a, r.status) for (r, _), (n, s, _) in zip(rs, jobs)
             if shown(r, n)[1] != (pre_a1 if s == a else pre_b1)]
    check("never each other's: 24 interleaved requests of A and B, each answered with its own "
          "frame", not wrong, wrong[:5])
    equal("never each other's: nothing computed again", (d["computes"], d["misses"]), (0, 0))


def tamper(session, at):
    """The id with the base64url character at `at` replaced by another."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    c = session[at]
    return session[:at] + alphabet[(alphabet.index(c) + 1) % 64] + session[at + 1:]


def refused(url, app, label, session, code):
    """One refused id: 403, a JSON error naming it, no callback run."""
    m0 = metrics(url)
    off = app().log_size()
    results = [ask(url, n, session) for n in (1, 2)]
    d = delta(metrics(url), m0)
    for n, (r, took) in zip((1, 2), results):
        j = r.json()
        ok = (r.status == 403 and isinstance(j, dict) and j.get("status") == 403
              and isinstance(j.get("message"), str) and j.get("message")
              and (j.get("error") == code if code else str(j.get("error", "")).startswith("session_"))
              and (r.header("Content-Type") or "").startswith("application/json"))
        check("%s (output-%d): 403 with a JSON error %s" % (label, n, code or "session_*"), ok,
              "%s %s" % (r.status, r.text[:300]))
        check("%s (output-%d): no callback ran: no answer, no \"Output\" text, at once (%.3f s)"
              % (label, n, took), "response" not in (j or {}) and "Output" not in r.text
              and took < 1.0, r.text[:300])
    equal("%s: metrics: no computation, no cache lookup" % label, (d["computes"], d["misses"],
                                                                  d["hits"]), (0, 0, 0))
    time.sleep(0.2)
    log = app().log_since(off)
    check("%s: the log says why, by the id's hash" % label,
          len(re.findall(r" 403 \d+B \d+us error=\"session [0-9a-f]{16} refused: ", log)) == 2,
          log[-600:])


def refusals(url, app, urls, store):
    a = store.get("a") or layout_id(url)
    refused(url, app, "tampered id (a byte of its random part)", tamper(a, 10),
            "session_bad_signature")
    refused(url, app, "tampered id (its issue time)", tamper(a, 3 + 22),
            "session_bad_signature")
    refused(url, app, "tampered id (its signature)", tamper(a, len(a) - 5),
            "session_bad_signature")
    refused(url, app, "truncated id", a[:-1], "session_malformed")
    made_up = "s1." + "".join(random.choice(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for _ in range(80))
    # An unknown key id cannot be told from a retired one (cache/SESSION.md).
    refused(url, app, "made-up id of the right shape", made_up, "session_retired_key")
    refused(url, app, "made-up text", "my-session", "session_malformed")
    for label, prefix, code, sign in (("expired id (minted an hour ago, max age %d s)" % MAX_AGE,
                                       "/session-past/", "session_expired", -1),
                                      ("id issued an hour in the future", "/session-future/",
                                       "session_not_yet_valid", 1)):
        if prefix not in urls:
            H.missing(label, "faketime is not installed (apt-get install faketime); "
                      "tests/unit/test_session.c covers it without a server")
            continue
        sid = layout_id(url, prefix)
        if not check("%s: minted by %s under faketime, issued %+d s from now" % (
                label, prefix, (issued(sid) - time.time()) if sid else 0),
                sid and abs(issued(sid) - time.time() - sign * 3600) < 120, sid):
            continue
        refused(url, app, label, sid, code)


def rotation(url, h, pools, env, secrets, minted, store):
    """OLD signs (pools[0], already running); NEW alone refuses OLD's id as
    retired; NEW,OLD accepts it and finds the data computed under OLD."""
    old, new = secrets
    p = pools[0]
    sid = layout_id(url)
    minted.append(sid)
    r, took = ask(url, 1, sid)
    line, pre_old = shown(r, 1)
    check("rotation: with FCDASH_SECRET=OLD a page's id works (%.2f s, computed)" % took,
          r.status == 200 and line == "Output 1 - Button has been clicked None times"
          and pre_old, r)
    h.stop_pool(p)

    p = pool(h, "session", new, 2, env)
    pools[0] = p
    r, _ = ask(url, 1, sid)
    j = r.json() or {}
    check("rotation: with FCDASH_SECRET=NEW only, OLD's id is refused: 403 "
          "session_retired_key, no callback", r.status == 403 and j.get("error")
          == "session_retired_key" and "Output" not in r.text, "%s %s" % (r.status, r.text))
    store["new_only_id"] = layout_id(url)
    minted.append(store["new_only_id"])
    h.stop_pool(p)

    p = pool(h, "session", new + "," + old, 4, dict(env, FCDASH_SESSION_MAX_AGE=str(MAX_AGE)))
    pools[0] = p
    store["old_id"], store["pre_old"] = sid, pre_old


def rotated(url, store):
    sid, pre_old = store.get("old_id"), store.get("pre_old")
    if not sid:
        raise AssertionError("no id from the OLD pool (the rotation step failed)")
    r, took = ask(url, 2, sid, 1)
    equal("rotation: with FCDASH_SECRET=NEW,OLD, OLD's id is accepted again, and its data "
          "computed under OLD is still there", shown(r, 2),
          ("Output 2 - Button has been clicked 1 times", pre_old))
    check("rotation: ... at once, not computed again (%.3f s)" % took, took < 1.0, took)
    r, _ = ask(url, 1, store.get("new_only_id"))
    check("rotation: an id signed by NEW alone is accepted by NEW,OLD", r.status == 200
          and shown(r, 1)[0] == "Output 1 - Button has been clicked None times", r)


def no_ids_in_logs(pools_logs, minted):
    text = "".join(pools_logs)
    leaked = [m for m in minted if m and m[3:30] in text]
    check("the logs never show a session id (%d ids minted, none found)" % len(minted),
          minted and not leaked, leaked[:3])


def browser(url, app):
    where = B.browser_dir(app().harness)
    shots = os.path.join(H.BUILDDIR, "run", "tests")
    os.makedirs(shots, exist_ok=True)
    m0 = metrics(url)
    off = app().log_size()
    B.run_node(where, "session.mjs", [url, os.path.join(shots, "session")], "session browser")
    d = delta(metrics(url), m0)
    time.sleep(0.2)
    log = app().log_since(off)
    equal("session browser: two browsers, two sessions: two computations in all, although "
          "each page's two outputs asked at once and \"Get data\" was pressed 3 times",
          d["computes"], 2)
    news = re.findall(r'GET /session/_dash-layout 200 .* note="new session ([0-9a-f]{16})"', log)
    used = collections.Counter(re.findall(
        r'POST /session/_dash-update-component 200 .* note="session ([0-9a-f]{16})"', log))
    check("session browser: the log shows two page loads' sessions, and every callback "
          "used one of them (%s, %s)" % (news, dict(used)),
          len(news) == 2 and set(used) == set(news), log[-1200:])


def memcached_keys(addr):
    """Every key memcached holds (lru_crawler metadump), URL-decoded."""
    import socket
    import urllib.parse
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"lru_crawler metadump all\r\n")
        data = b""
        while not data.endswith(b"END\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    keys = []
    for line in data.decode().splitlines():
        m = re.match(r"key=(\S+)", line)
        if m:
            keys.append(urllib.parse.unquote(m.group(1)))
    return keys


def session_bound(url, threshold, mc):
    """threshold + 10 sessions through nginx: exactly `threshold` keep
    their data on the server, and the ones gone are the oldest."""
    ids = []
    for _ in range(threshold + 10):
        ids.append(layout_id(url, "/session-bound/"))
    check("bound: %d fresh ids" % len(ids), all(ids) and len(set(ids)) == len(ids), ids[:3])

    def use(session):
        r = post_json(url + "/session-bound/_dash-update-component", body(1, session))
        return r.status

    # Four at a time, oldest first, so least recently used is well defined.
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        for i in range(0, len(ids), 4):
            statuses = list(ex.map(use, ids[i:i + 4]))
            check("bound: sessions %d.. answered 200" % i, statuses == [200] * len(statuses),
                  statuses)
            time.sleep(0.2)
    values = [k for k in memcached_keys(mc)
              if re.match(r"fcds:session:[0-9a-f]{64}:query_and_serialize_data$", k)]
    check("bound: %d sessions hold data after %d were used (FCDASH_SESSION_THRESHOLD=%d)"
          % (len(values), len(ids), threshold), len(values) == threshold, values[:3])
    # The newest session's data is still there (instant), the oldest's was
    # evicted (recomputed: 3 s again).
    t0 = time.time()
    use(ids[-1])
    newest = time.time() - t0
    t0 = time.time()
    use(ids[0])
    oldest = time.time() - t0
    check("bound: the newest session is served from the store (%.2f s)" % newest, newest < 1.5,
          newest)
    check("bound: the oldest session was evicted and recomputed (%.2f s)" % oldest, oldest > 2.5,
          oldest)


def main():
    lib = faketime_lib()
    h = H.Harness("fcdash-session")
    static = h.static_root()
    mc = h.memcached()
    secrets = (os.urandom(32).hex(), os.urandom(32).hex())  # OLD, NEW
    env = {"FCDASH_STATIC_ROOT": static, "FCDASH_CACHE": "memcached://" + mc,
           "FCDASH_PREFIX": "/session/"}
    # The first of the three pools on /session/'s socket: OLD alone.
    pools = [pool(h, "session", secrets[0], 1, env)]
    others = {}
    if lib:
        for prefix, shift in (("/session-past/", "-1h"), ("/session-future/", "+1h")):
            others[prefix] = pool(h, prefix.strip("/"), secrets[1], 1, {
                "FCDASH_PREFIX": prefix, "FCDASH_STATIC_ROOT": static, "FCDASH_CACHE": "none://",
                "LD_PRELOAD": lib, "FAKETIME": shift})
    bound_mc = h.memcached()
    bound_threshold = 5
    bound = pool(h, "session-bound", secrets[1], 4, {
        "FCDASH_PREFIX": "/session-bound/", "FCDASH_STATIC_ROOT": static,
        "FCDASH_CACHE": "memcached://" + bound_mc,
        "FCDASH_SESSION_THRESHOLD": str(bound_threshold), "FCDASH_SESSION_TOUCH": "0"})
    others["/session-bound/"] = bound
    url = h.start_nginx(dict({"/session/": pools[0].upstream},
                             **{p: o.upstream for p, o in others.items()}))
    minted, store = [], {}

    def app():
        return pools[0]

    section("secret rotation: OLD, then NEW alone, then NEW,OLD")
    H.guarded("rotation", rotation, url, h, pools, env, secrets, minted, store)
    if len(app().pids()) != 4:
        raise H.Missing("the NEW,OLD pool of 4 workers is not running")
    section("fresh ids per page load")
    H.guarded("layouts", fresh_layouts, url, app, minted)
    section("two sessions, both outputs at once")
    H.guarded("two sessions", two_sessions, url, app, minted, store)
    section("the rotated pool accepts OLD's id")
    H.guarded("rotated", rotated, url, store)
    section("the bound on sessions (threshold + 10)")
    H.guarded("session bound", session_bound, url, bound_threshold, bound_mc)
    section("refused ids: 403, JSON, no callback")
    H.guarded("refusals", refusals, url, app, others, store)
    section("two browsers")
    if not (os.path.isfile(B.CHROMIUM) and os.access(B.CHROMIUM, os.X_OK)):
        H.missing("session browser", "%s not found (apt-get install chromium)" % B.CHROMIUM)
    else:
        H.guarded("session browser", browser, url, app)
    section("logs")
    logs = [p.log_text() for p in h.pools]
    H.guarded("no ids in logs", no_ids_in_logs, logs, minted)


if __name__ == "__main__":
    private_shm()
    H.run(main)
