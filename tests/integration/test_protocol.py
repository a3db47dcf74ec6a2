"""test_protocol.py - the Dash wire contract, end to end through nginx.

nginx (config from nginx/fcdash-nginx-conf, bundles from a static root laid
out by frontend/layout-static) in front of two spawn-fcgi pools of
tests/apps/protocol_check, the capture app rebuilt in C:
  /app/  2 workers on a unix socket
  /dbg/  2 workers on TCP, FCDASH_DEBUG=1
Every captured request body of the a- .. i- captures is replayed against
both and the answer compared with the captured one (parsed JSON); then the
index page, the bundles' cache headers, _dash-config, _dash-layout,
_dash-dependencies, and the per-request log line.  Bad requests, each
followed by a good one, are test_bad_input.py's catalogue.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as H  # noqa: E402
from harness import check, equal, fetch, post_json, section  # noqa: E402

CAPTURES = "abcdefghi"
FP = re.compile(r"\.v4_4_1m(\d+)\.")
YEAR = "public, max-age=31536000, immutable"

# A known-good request, for the request log's checks.
GOOD = {"output": "dd-out.children", "outputs": {"id": "dd-out", "property": "children"},
        "inputs": [{"id": "dd", "property": "value", "value": 4}],
        "changedPropIds": ["dd.value"], "parsedChangedPropsIds": ["dd.value"]}


def capture_files():
    names = sorted(os.listdir(H.captures_dir()))
    return [n for n in names if n.endswith(".jsonl") and n[0] in CAPTURES and n[1] == "-"]


def no_output_key(base):
    """The no-output callback's output key, from our own _dash-dependencies."""
    r = fetch("GET", base + "_dash-dependencies")
    deps = r.json() or []
    keys = [d["output"] for d in deps if d.get("no_output")]
    return keys[0] if len(keys) == 1 else None


def replay(base, label, debug):
    key = no_output_key(base)
    check("%s: _dash-dependencies has exactly one no-output callback" % label, key is not None)
    for name in capture_files():
        for n, ex in enumerate(H.read_capture(name)):
            if ex.get("method") != "POST":
                continue
            what = "%s: replay %s #%d (%s)" % (label, name, n + 1, ex.get("phase"))
            body = dict(ex["request_body"])
            if body.get("output") == "9f2c0d4e1b7a":
                if key is None:
                    H.missing(what, "no no-output key in our _dash-dependencies")
                    continue
                body["output"] = key
            r = post_json(base + "_dash-update-component", body)
            want = ex.get("response_body")
            if ex["status"] == 204:
                check(what, r.status == 204 and r.body == b"",
                      "got %s %r, expected 204 with an empty body" % (r.status, r.body[:200]))
            elif ex["status"] == 500:
                # The capture server's body was its own; fcdash's contract is
                # a JSON body with a message, the detail only in debug mode.
                got = r.json()
                ok = (r.status == 500 and isinstance(got, dict)
                      and isinstance(got.get("message"), str)
                      and ("simulated failure" in got["message"]) == debug
                      and "Callback error updating err-out.children" in got["message"])
                check(what, ok, "got %s %s (debug %s)" % (r.status, r.text[:300], debug))
                check(what + " Content-Type", (r.header("Content-Type") or "")
                      .startswith("application/json"), r.header("Content-Type"))
            else:
                ok = r.status == ex["status"] and r.json() == want
                check(what, ok, "got %s %s, expected %s %s" % (
                    r.status, r.text[:400], ex["status"], json.dumps(want)[:400]))
                check(what + " Content-Type", (r.header("Content-Type") or "")
                      .startswith("application/json"), r.header("Content-Type"))


def script_srcs(html):
    return re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)


def dash_config(html):
    m = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', html, re.S)
    if not m:
        return None
    try:
        return json.loads(m.group(1))
    except ValueError:
        return None


def plain(src):
    return FP.sub(".", src)


def index_page(url, prefix, static, label, debug):
    r = fetch("GET", url + prefix)
    check("%s: index page 200" % label, r.status == 200, r)
    check("%s: index page is text/html" % label,
          (r.header("Content-Type") or "").startswith("text/html"), r.header("Content-Type"))
    html = r.text
    check("%s: index page has #react-entry-point" % label, 'id="react-entry-point"' in html)
    check("%s: index page starts the renderer" % label, "new DashRenderer()" in html)
    srcs = script_srcs(html)
    cap = H.read_capture("index-page.json")["ui_on" if debug else "ui_off"]
    want = [plain(s).replace("/_dash-component-suites/", prefix + "_dash-component-suites/", 1)
            for s in cap["script_srcs"]]
    equal("%s: script srcs in Dash's order (fingerprints aside)" % label,
          [plain(s) for s in srcs], want)
    for s in srcs:
        check("%s: fingerprinted %s" % (label, s), FP.search(s) is not None)
    # The fingerprint's number is the file's modification time.
    for s in srcs:
        m = FP.search(s)
        rel = plain(s)[len(prefix + "_dash-component-suites/"):]
        f = os.path.join(static, rel)
        if m and os.path.exists(f):
            equal("%s: fingerprint of %s is its mtime" % (label, rel), int(m.group(1)),
                  int(os.stat(f).st_mtime))
    cfg = dash_config(html)
    check("%s: _dash-config parses as JSON" % label, isinstance(cfg, dict), html[:300])
    cfg = cfg or {}
    equal("%s: requests_pathname_prefix" % label, cfg.get("requests_pathname_prefix"), prefix)
    equal("%s: ui" % label, cfg.get("ui"), debug)
    equal("%s: props_check" % label, cfg.get("props_check"), debug)
    equal("%s: serve_locally" % label, cfg.get("serve_locally"), True)
    for k in ("children_props", "update_title", "suppress_callback_exceptions",
              "disable_version_check"):
        check("%s: _dash-config has %s" % (label, k), k in cfg)
    if debug:
        check("%s: uses dash_renderer.dev.js" % label,
              any("dash_renderer." in s and s.endswith(".dev.js") for s in srcs), srcs)
        check("%s: uses dcc proptypes.js" % label,
              any("/dcc/proptypes." in s for s in srcs), srcs)
    else:
        check("%s: uses dash_renderer.min.js" % label,
              any("dash_renderer." in s and s.endswith(".min.js") for s in srcs), srcs)
        check("%s: no proptypes.js" % label, not any("proptypes" in s for s in srcs), srcs)
    return srcs


def bundles(url, srcs, label):
    for s in srcs:
        r = fetch("GET", url + s)
        ok = r.status == 200 and len(r.body) > 1000
        check("%s: GET %s 200 through nginx" % (label, s), ok, "status %s, %d bytes" % (
            r.status, len(r.body)))
        equal("%s: %s Cache-Control" % (label, s), r.header_all("Cache-Control"), [YEAR])
        check("%s: %s is JavaScript" % (label, s),
              "javascript" in (r.header("Content-Type") or ""), r.header("Content-Type"))


def async_chunks(url, prefix, label):
    for rel in ("dash/dcc/async-dropdown.js", "dash/dcc/async-graph.js",
                "plotly/package_data/plotly.min.js"):
        u = url + prefix + "_dash-component-suites/" + rel
        r = fetch("GET", u)
        check("%s: GET %s 200" % (label, rel), r.status == 200 and len(r.body) > 1000,
              "status %s, %d bytes" % (r.status, len(r.body)))
        etag = r.header("ETag")
        check("%s: %s has an ETag" % (label, rel), bool(etag), dict(r.headers or {}))
        cc = ", ".join(r.header_all("Cache-Control"))
        check("%s: %s is not cached for a year" % (label, rel),
              "31536000" not in cc and "immutable" not in cc, cc)
        if etag:
            r2 = fetch("GET", u, headers={"If-None-Match": etag})
            check("%s: %s If-None-Match gives 304" % (label, rel),
                  r2.status == 304 and r2.body == b"", "status %s" % r2.status)


def layout_and_dependencies(base, label):
    r = fetch("GET", base + "_dash-layout")
    equal("%s: _dash-layout status" % label, r.status, 200)
    equal("%s: _dash-layout Content-Type" % label,
          (r.header("Content-Type") or "").split(";")[0], "application/json")
    equal("%s: _dash-layout equals layout.json" % label, r.json(), H.read_capture("layout.json"))

    r = fetch("GET", base + "_dash-dependencies")
    equal("%s: _dash-dependencies status" % label, r.status, 200)
    equal("%s: _dash-dependencies Content-Type" % label,
          (r.header("Content-Type") or "").split(";")[0], "application/json")
    got = r.json()
    want = H.read_capture("dependencies.json")
    if not check("%s: _dash-dependencies is a list of %d" % (label, len(want)),
                 isinstance(got, list) and len(got) == len(want),
                 "got %s" % H.short(got)):
        return
    for g, w in zip(got, want):
        name = "%s: dependency %s" % (label, w["output"])
        if w.get("no_output"):
            equal(name + " no_output", g.get("no_output"), True)
            check(name + " has its own output key", isinstance(g.get("output"), str)
                  and len(g["output"]) >= 8, g.get("output"))
        else:
            equal(name + " output", g.get("output"), w["output"])
            check(name + " no_output absent or false", not g.get("no_output"), g)
        for k in ("inputs", "state", "prevent_initial_call", "clientside_function"):
            equal("%s %s" % (name, k), g.get(k), w.get(k))


def csrf_headers(base, label):
    """The renderer's GETs with and without the CSRF cookie and header
    (request-headers-csrf.jsonl): fcdash ignores them and answers alike."""
    for n, ex in enumerate(H.read_capture("request-headers-csrf.jsonl")):
        path = ex["path"].lstrip("/")
        hdrs = {k: v for k, v in (ex.get("request_headers") or {}).items()
                if k in ("Accept", "Content-Type", "X-CSRFToken", "Cookie")}
        r = fetch(ex.get("method", "GET"), base + path, headers=hdrs)
        check("%s: %s %s with headers %s -> 200 JSON" % (label, ex.get("method", "GET"), path,
                                                          sorted(hdrs)),
              r.status == 200 and r.json() is not None, r)


def traversal(url, prefix, label):
    """Nothing outside the static root is served, however the path is spelled."""
    for p in ("_dash-component-suites/../../../../etc/passwd",
              "_dash-component-suites/..%2f..%2f..%2f..%2f..%2fetc/passwd",
              "_dash-component-suites/dash/..%2f..%2f..%2f..%2f..%2f..%2fetc/passwd.v1m1.x",
              "_dash-component-suites/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
              "_dash-component-suites/dash/deps/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd.v1m1.x",
              "assets/../../../../etc/passwd",
              "assets/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd"):
        r = fetch("GET", url + prefix + p)
        check("%s: GET %s is not served" % (label, p),
              r.status != 200 and b"root:" not in r.body, r)


def request_log(url, pool, prefix, label):
    off = pool.log_size()
    r = post_json(url + prefix + "_dash-update-component", GOOD)
    rid = r.header("X-Request-Id")
    check("%s: nginx answers with an X-Request-Id" % label, bool(rid), dict(r.headers or {}))
    text = ""
    for _ in range(50):
        text = pool.log_since(off)
        if rid and rid in text:
            break
        H.time.sleep(0.05)
    line = next((ln for ln in text.splitlines() if rid and ("rid=" + rid) in ln), None)
    check("%s: the pool log has a line with rid=%s" % (label, rid), line is not None, text[-800:])
    if line is None:
        return
    m = re.search(r"\[(\d+)\] rid=(\S+) (\S+) (\S+) (\d{3}) (\d+)B (\d+)us", line)
    check("%s: log line shape: pid, rid, method, path, status, bytes, microseconds" % label,
          m is not None, line)
    if m:
        equal("%s: log line method" % label, m.group(3), "POST")
        equal("%s: log line path" % label, m.group(4), prefix + "_dash-update-component")
        equal("%s: log line status" % label, int(m.group(5)), 200)
        equal("%s: log line bytes" % label, int(m.group(6)), len(r.body))
    # Errors are logged with their reason.
    off = pool.log_size()
    post_json(url + prefix + "_dash-update-component", b"{bad")
    H.time.sleep(0.2)
    check("%s: a 400 is logged with its status" % label,
          re.search(r" POST \S+ 400 \d+B \d+us", pool.log_since(off)) is not None,
          pool.log_since(off)[-500:])


def main():
    h = H.Harness("fcdash-protocol")
    static = h.static_root()
    app = H.program("tests/apps/protocol_check")
    prod = h.pool("protocol", app, workers=2, env={
        "FCDASH_PREFIX": "/app/", "FCDASH_STATIC_ROOT": static})
    dbg = h.pool("protocol-debug", app, workers=2, tcp=True, env={
        "FCDASH_PREFIX": "/dbg/", "FCDASH_STATIC_ROOT": static, "FCDASH_DEBUG": "1"})
    url = h.start_nginx({"/app/": prod.upstream, "/dbg/": dbg.upstream})
    print("# nginx at %s, pools %s %s" % (url, prod.upstream, dbg.upstream), flush=True)

    section("replay the captures")
    H.guarded("replay /app/", replay, url + "/app/", "app", False)
    H.guarded("replay /dbg/", replay, url + "/dbg/", "dbg", True)

    section("index page and bundles")
    srcs = H.guarded("index /app/", index_page, url, "/app/", static, "app", False) or []
    H.guarded("bundles /app/", bundles, url, srcs, "app")
    H.guarded("async chunks", async_chunks, url, "/app/", "app")
    dsrcs = H.guarded("index /dbg/", index_page, url, "/dbg/", static, "dbg", True) or []
    H.guarded("bundles /dbg/", bundles, url, dsrcs, "dbg")
    r = fetch("GET", url + "/app/some/page/of/a/multi-page/app")
    check("app: unknown GET path under the prefix gives the index page (Dash's catch-all)",
          r.status == 200 and "react-entry-point" in r.text, r)

    section("_dash-layout and _dash-dependencies")
    H.guarded("layout /app/", layout_and_dependencies, url + "/app/", "app")
    H.guarded("layout /dbg/", layout_and_dependencies, url + "/dbg/", "dbg")

    H.guarded("csrf headers", csrf_headers, url + "/app/", "app")
    H.guarded("traversal", traversal, url, "/app/", "app")

    section("request log")
    H.guarded("request log", request_log, url, prod, "/app/", "app")
    check("app: both workers still up", len(prod.pids()) == 2, prod.pids())
    check("app: no worker crashed (no signal in the pool log)",
          "Segmentation" not in prod.log_text() and "core dumped" not in prod.log_text(),
          prod.log_text()[-1000:])


if __name__ == "__main__":
    H.run(main)
