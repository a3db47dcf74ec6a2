"""test_bad_input.py - the bad input catalogue (issue 8, item 4), through
the real transport.

nginx (nginx/fcdash-nginx-conf) in front of three pools that multiwatch
keeps whole (so a worker that had to exit is replaced):
  /app/      tests/apps/protocol_check, 2 workers, unix socket, with its
             test-only buttons (crash-btn, loop-btn), a 2 s callback limit
  /dbg/      the same with FCDASH_DEBUG=1, on TCP
  /session/  examples/session, 2 workers, a fixed FCDASH_SECRET
Each row of CATALOGUE is one hostile or broken request: (name, pool,
method, path, headers, body, expected status, expected text of the JSON
error's "message").  For every row the test checks what a client sees
(the status, an application/json body {"message": ..., "status": N}
saying what was wrong, Allow on a 405), what the pool did (the same
worker pids afterwards, or, for the rows that must cost a worker, exactly
one replaced), and the workers' log (one line for a request that reached
a worker, with its X-Request-Id and status; none for one nginx answered
itself).  Then one good request must answer exactly right.

README.md's "What a worker answers" is the contract these rows hold the
code to.  Rows that nginx answers itself (a body past its own limit, a
header too large, a broken chunked body) or that never complete (a client
gone mid-body) are marked as such: no worker may see them.
"""

import http.client as httpclient
import io
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as H  # noqa: E402
from harness import check, equal, fetch, post_json, section  # noqa: E402

UPD = "_dash-update-component"
JSON_CT = {"Content-Type": "application/json", "Accept": "application/json"}
TIME_LIMIT = 2
# 32 random bytes in hex, for this test only.
SECRET = "5f0c8a1e9d3b7c2a4e6f8091b3d5c7e9a1b2c3d4e5f60718293a4b5c6d7e8f90"

GOOD = {"output": "dd-out.children", "outputs": {"id": "dd-out", "property": "children"},
        "inputs": [{"id": "dd", "property": "value", "value": 4}],
        "changedPropIds": ["dd.value"], "parsedChangedPropsIds": ["dd.value"]}
GOOD_ANSWER = {"multi": True, "response": {"dd-out": {"children": 400}}}


def body(**changes):
    """GOOD with some keys replaced (a value of None removes the key)."""
    b = dict(GOOD)
    for k, v in changes.items():
        if v is None:
            b.pop(k, None)
        else:
            b[k] = v
    return json.dumps(b, separators=(",", ":")).encode()


def value(v):
    """GOOD with the dropdown's value given as raw JSON text."""
    return body(inputs=[{"id": "dd", "property": "value", "value": "@V@"}]).replace(
        b'"@V@"', v.encode() if isinstance(v, str) else v)


def click(btn, out):
    return json.dumps({"output": out + ".children",
                       "outputs": {"id": out, "property": "children"},
                       "inputs": [{"id": btn, "property": "n_clicks", "value": 1}],
                       "changedPropIds": [btn + ".n_clicks"]}).encode()


def answer(children, out="dd-out"):
    return {"multi": True, "response": {out: {"children": children}}}


def session_body(session, n=1):
    inputs = [{"id": "get-data-button", "property": "n_clicks", "value": 1},
              {"id": "session-id", "property": "data"}]
    if session is not None:
        inputs[1]["value"] = session
    return json.dumps({"output": "output-%d.children" % n,
                       "outputs": {"id": "output-%d" % n, "property": "children"},
                       "inputs": inputs, "changedPropIds": ["get-data-button.n_clicks"]}).encode()


def tamper(session, at):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    c = session[at]
    return session[:at] + alphabet[(alphabet.index(c) + 1) % 64] + session[at + 1:]


# ---- raw HTTP, for what http.client will not send ------------------------

class _Sock:
    def __init__(self, data):
        self.data = data

    def makefile(self, *a, **k):
        return io.BytesIO(self.data)


def raw(port, data, half_close=False, read=True, timeout=15):
    """Send bytes as they are; returns a harness Response (status 0 when
    nginx closed without an answer)."""
    s = socket.create_connection(("127.0.0.1", port), timeout)
    got = b""
    try:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        if not read:
            return H.Response(0, None, b"not read: the client went away")
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    if not got:
        return H.Response(0, None, b"closed without an answer")
    r = httpclient.HTTPResponse(_Sock(got))
    r.begin()
    return H.Response(r.status, r.headers, r.read())


def chunked_good(port, prefix):
    conn = httpclient.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        data = body()
        conn.request("POST", prefix + UPD, body=iter([data[:20], data[20:]]),
                     headers=dict(JSON_CT), encode_chunked=True)
        r = conn.getresponse()
        return H.Response(r.status, r.headers, r.read())
    finally:
        conn.close()


def head(method, path, extra=""):
    return ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n"
            % (method, path, extra)).encode()


# ---- the catalogue -------------------------------------------------------

def row(name, method, path, status, message, pool="app", body=b"", headers=None, **kw):
    r = {"name": name, "pool": pool, "method": method, "path": path, "status": status,
         "message": message, "body": body, "headers": JSON_CT if headers is None else headers,
         "json": True, "worker": True, "replaced": False, "answer": None, "allow": None,
         "send": None, "absent": None}
    r.update(kw)
    return r


def catalogue(port, session_id, upstream):
    deep = b'{"output":"dd-out.children","inputs":' + b"[" * 100 + b"]" * 100 + b"}"
    good = body()
    rows = [
        # -- the body is not JSON, or not the JSON a callback takes
        row("malformed JSON", "POST", UPD, 400, "malformed JSON",
            body=b'{"output": dd-out.children}'),
        row("truncated JSON", "POST", UPD, 400, "ends too early", body=good[:len(good) // 2]),
        row("100-level nesting", "POST", UPD, 400, "nested deeper than 64", body=deep),
        row("a 50 MB body (over FCDASH_MAX_BODY, 16m)", "POST", UPD, 413, "FCDASH_MAX_BODY",
            body=body(pad="x" * (50 << 20))),
        row("empty body", "POST", UPD, 400, "empty request body"),
        row("a JSON array for a body", "POST", UPD, 400, "must be a JSON object", body=b"[1,2]"),
        row("a JSON string for a body", "POST", UPD, 400, "must be a JSON object",
            body=b'"dd-out.children"'),
        row("a bare number for a body", "POST", UPD, 400, "must be a JSON object", body=b"5"),
        row("a bare null for a body", "POST", UPD, 400, "null, not an object", body=b"null"),
        row("a NUL byte after the JSON value", "POST", UPD, 400, "unexpected data after",
            body=good + b"\0"),
        row("a NUL byte inside a string", "POST", UPD, 400, "a NUL byte at byte",
            body=good.replace(b"dd-out.children", b"dd-out\0.children", 1)),
        row("an escaped NUL (\\u0000) in the output key", "POST", UPD, 400, "NUL character",
            body=good.replace(b'"dd-out.children"', b'"dd-out.children\\u0000x"', 1)),
        row("a raw control character inside a string", "POST", UPD, 400, "control character",
            body=good.replace(b'"dd-out.children"', b'"dd-out\x01.children"', 1)),
        row("invalid UTF-8 in a string", "POST", UPD, 400, "invalid utf-8",
            body=value(b'"\xff\xfe"')),
        row("an integer past 64 bits", "POST", UPD, 400, "64-bit range",
            body=value("99999999999999999999999")),
        row("a number past the double range (1e400)", "POST", UPD, 400, "double range",
            body=value("1e400")),
        row("NaN", "POST", UPD, 400, "NaN or Infinity", body=value("NaN")),
        row("-Infinity", "POST", UPD, 400, "NaN or Infinity", body=value("-Infinity")),
        row("the largest int64 is a value like any other", "POST", UPD, 200, None,
            body=value("9223372036854775807"), answer=answer(9.223372036854776e20)),
        # -- each field of the body with the wrong type, or missing
        row("output missing", "POST", UPD, 400, 'missing "output"', body=body(output=None)),
        row("output a number", "POST", UPD, 400, '"output" must be a string', body=body(output=5)),
        row("outputs a string", "POST", UPD, 400, '"outputs" must be an object',
            body=body(outputs="dd-out.children")),
        row("outputs names another output", "POST", UPD, 400, 'outputs[0] has id "b-out1"',
            body=body(outputs={"id": "b-out1", "property": "children"})),
        row("outputs names the output twice", "POST", UPD, 400, '"outputs" has 2 entries',
            body=body(outputs=[{"id": "dd-out", "property": "children"}] * 2)),
        row("outputs of a two-output callback names one twice", "POST", UPD, 400,
            'outputs[1] has id "b-out1", expected "b-out2"',
            body=json.dumps({"output": "..b-out1.children...b-out2.children..",
                             "outputs": [{"id": "b-out1", "property": "children"}] * 2,
                             "inputs": [{"id": "btn-b", "property": "n_clicks", "value": 1}],
                             "changedPropIds": ["btn-b.n_clicks"]}).encode()),
        row("an output key naming an output twice", "POST", UPD, 404, "no callback has output",
            body=body(output="..dd-out.children...dd-out.children..", outputs=None)),
        row("inputs an object", "POST", UPD, 400, '"inputs" must be an array',
            body=body(inputs={"id": "dd"})),
        row("inputs missing", "POST", UPD, 400, 'missing "inputs"', body=body(inputs=None)),
        row("an input a number", "POST", UPD, 400, "inputs[0] must be an object",
            body=body(inputs=[5])),
        row("an input's id a number", "POST", UPD, 400, 'inputs[0] has id 5, expected "dd"',
            body=body(inputs=[{"id": 5, "property": "value", "value": 4}])),
        row("an input's property a number", "POST", UPD, 400,
            "inputs[0]'s \"property\" must be a string",
            body=body(inputs=[{"id": "dd", "property": 5, "value": 4}])),
        row("an input without property", "POST", UPD, 400, 'inputs[0] has no "property"',
            body=body(inputs=[{"id": "dd", "value": 4}])),
        row("an input's value of another type reaches the callback", "POST", UPD, 200, None,
            body=value('{"a": [1]}'), answer=answer(0)),
        row("state not an array", "POST", UPD, 400, '"state" must be an array',
            body=json.dumps({"output": "d-out2.children",
                             "inputs": [{"id": "store", "property": "data", "value": {}}],
                             "state": "dd.value"}).encode()),
        row("state for a callback without state", "POST", UPD, 400,
            '"state" has 1 entry, but callback',
            body=body(state=[{"id": "dd", "property": "value", "value": 1}])),
        row("changedPropIds a string", "POST", UPD, 400, '"changedPropIds" must be an array',
            body=body(changedPropIds="dd.value")),
        row("changedPropIds holding a number", "POST", UPD, 400,
            '"changedPropIds" must be an array of strings', body=body(changedPropIds=[5])),
        row("parsedChangedPropsIds of a wrong type is ignored, as Python Dash does", "POST", UPD,
            200, None, body=body(parsedChangedPropsIds=5), answer=GOOD_ANSWER),
        row("a key given twice: the last counts, as in Python", "POST", UPD, 200, None,
            body=b'{"output":"nope.children",' + good[1:], answer=GOOD_ANSWER),
        row("an unknown key is ignored", "POST", UPD, 200, None, body=body(extra=[1, {}]),
            answer=GOOD_ANSWER),
        # -- ids the app does not have
        row("unknown output", "POST", UPD, 404, 'no callback has output "nope.children"',
            body=body(output="nope.children", outputs=None)),
        row("unknown input id", "POST", UPD, 400, 'expected "dd"',
            body=body(inputs=[{"id": "nope", "property": "value", "value": 4}])),
        row("wrong input property", "POST", UPD, 400, 'has property "nope", expected "value"',
            body=body(inputs=[{"id": "dd", "property": "nope", "value": 4}])),
        row("an input missing", "POST", UPD, 400, "takes 1", body=body(inputs=[])),
        row("a plain entry for a pattern-matching input", "POST", UPD, 400,
            "must be an array (pattern-matching",
            body=json.dumps({"output": "pm-out.children",
                             "inputs": [{"id": "x", "property": "n_clicks"}]}).encode()),
        # -- content types
        row("Content-Type text/plain", "POST", UPD, 415, "application/json", body=good,
            headers={"Content-Type": "text/plain"}),
        row("no Content-Type", "POST", UPD, 415, "application/json", body=good, headers={}),
        row("Content-Type application/jsonp", "POST", UPD, 415, "application/json", body=good,
            headers={"Content-Type": "application/jsonp"}),
        row("Content-Type with a charset is fine", "POST", UPD, 200, None, body=good,
            headers={"Content-Type": "application/json; charset=utf-8"}, answer=GOOD_ANSWER),
        # -- callbacks that fail, crash or never return
        row("a failing callback", "POST", UPD, 500, "Callback error updating err-out.children",
            body=click("btn-err", "err-out"), absent="simulated failure"),
        row("a failing callback, debug mode: the detail", "POST", UPD, 500,
            "Callback error updating err-out.children: simulated failure", pool="dbg",
            body=click("btn-err", "err-out")),
        row("a callback that crashes (SIGSEGV)", "POST", UPD, 500,
            "Callback error updating crash-out.children", body=click("crash-btn", "crash-out"),
            replaced=True, absent="Segmentation"),
        row("a callback that crashes, debug mode: the signal", "POST", UPD, 500,
            "the callback crashed (Segmentation fault", pool="dbg",
            body=click("crash-btn", "crash-out"), replaced=True),
        row("a callback looping past FCDASH_CALLBACK_TIME_LIMIT", "POST", UPD, 504,
            "Callback error updating loop-out.children", body=click("loop-btn", "loop-out"),
            replaced=True),
        row("a callback looping, debug mode: the limit named", "POST", UPD, 504,
            "FCDASH_CALLBACK_TIME_LIMIT", pool="dbg", body=click("loop-btn", "loop-out"),
            replaced=True),
        # -- methods, paths, query strings
        row("GET on _dash-update-component", "GET", UPD, 405, "answers POST", headers={},
            allow="POST"),
        row("PUT on _dash-update-component", "PUT", UPD, 405, "not PUT", body=good,
            allow="POST"),
        row("DELETE on _dash-update-component", "DELETE", UPD, 405, "not DELETE", headers={},
            allow="POST"),
        row("HEAD on _dash-update-component (no body in a HEAD answer)", "HEAD", UPD, 405, None,
            headers={}, allow="POST", json=False),
        row("POST on _dash-layout", "POST", "_dash-layout", 405, "answers GET, HEAD", body=good,
            allow="GET, HEAD"),
        row("PUT on _dash-dependencies", "PUT", "_dash-dependencies", 405, "not PUT", body=good,
            allow="GET, HEAD"),
        row("POST on the index page", "POST", "", 405, "the index page answers GET", body=good,
            allow="GET, HEAD"),
        row("HEAD on _dash-layout: headers only", "HEAD", "_dash-layout", 200, None, headers={},
            json=False),
        row("a query string on _dash-layout is ignored", "GET", "_dash-layout?x=1&y", 200, None,
            headers={}, json=False),
        row("a query string on a callback is ignored", "POST", UPD + "?cacheKey=1", 200, None,
            body=good, answer=GOOD_ANSWER),
        row("an unknown Dash endpoint", "GET", "_dash-nope", 404, "no such Dash endpoint",
            headers={}),
        row("_favicon.ico", "GET", "_favicon.ico", 404, "is not served", headers={}),
        row("a missing bundle: nginx's 404, no worker", "GET",
            "_dash-component-suites/dash/nope.js", 404, None, headers={}, json=False,
            worker=False),
        row("a path outside every prefix: nginx's 404, no worker", "GET", "/elsewhere/x", 404,
            "no app is served at this path", headers={}, worker=False),
        row("the prefix without its /: nginx's 301", "GET", "/app", 301, None, headers={},
            json=False, worker=False),
        # -- session ids (examples/session's callbacks take session-id.data)
        row("a tampered session id", "POST", UPD, 403, "signature does not match", pool="session",
            body=session_body(tamper(session_id, 10)), error="session_bad_signature"),
        row("a truncated session id", "POST", UPD, 403, "not a session id", pool="session",
            body=session_body(session_id[:-1]), error="session_malformed"),
        row("a session id that is a number", "POST", UPD, 403, "not a session id",
            pool="session", body=session_body(12345), error="session_malformed"),
        row("no session id at all", "POST", UPD, 403, "not a session id", pool="session",
            body=session_body(None), error="session_malformed"),
        row("a 100 kB session id", "POST", UPD, 403, "not a session id", pool="session",
            body=session_body("s1." + "A" * 100000), error="session_malformed"),
        row("a session id with an escaped NUL", "POST", UPD, 400, "NUL character",
            pool="session", body=session_body(session_id[:20] + "\u0000" + session_id[20:])),
        # -- the transport: headers, lengths, chunks, clients that leave
        row("a 6 kB header reaches the worker", "POST", UPD, 200, None, body=good,
            headers=dict(JSON_CT, Cookie="c=" + "x" * 6000), answer=GOOD_ANSWER),
        row("a 20 kB header: nginx's 400, no worker", "GET", "_dash-layout", 400,
            "header too large", worker=False,
            send=lambda p: raw(port, head("GET", p, "Cookie: c=%s\r\n" % ("x" * 20000)))),
        row("a body past nginx's client_max_body_size (100 MB announced)", "POST", UPD, 413,
            "larger than the web server accepts", worker=False,
            send=lambda p: raw(port, head("POST", p, "Content-Type: application/json\r\n"
                                             "Content-Length: %d\r\n" % (100 << 20)))),
        row("Content-Length larger than the body, client half-closes: nginx drops it, "
            "no worker hangs", "POST", UPD, 0, None, json=False, worker=False,
            send=lambda p: raw(port, head("POST", p, "Content-Type: application/json\r\n"
                                             "Content-Length: 1000\r\n") + good[:10],
                               half_close=True)),
        row("a client gone in the middle of its body", "POST", UPD, 0, None, json=False,
            worker=False,
            send=lambda p: raw(port, head("POST", p, "Content-Type: application/json\r\n"
                                             "Content-Length: 100000\r\n") + good,
                               read=False)),
        # -- FastCGI straight to the pool's socket: what a misbehaving web
        #    server could hand a worker, which must answer, not wait
        row("FastCGI: CONTENT_LENGTH larger than the body", "POST", UPD, 400,
            "request body ended after 10 of 1000 bytes",
            send=lambda p: H.fcgi_request(upstream, "POST", p, good[:10],
                                          params={"CONTENT_LENGTH": "1000"})),
        row("FastCGI: CONTENT_LENGTH not a number", "POST", UPD, 400, "is not a number",
            send=lambda p: H.fcgi_request(upstream, "POST", p, good,
                                          params={"CONTENT_LENGTH": "12abc"})),
        row("FastCGI: CONTENT_LENGTH negative", "POST", UPD, 400, "is not a number",
            send=lambda p: H.fcgi_request(upstream, "POST", p, good,
                                          params={"CONTENT_LENGTH": "-5"})),
        row("FastCGI: no CONTENT_LENGTH, the body read to its end", "POST", UPD, 200, None,
            answer=GOOD_ANSWER,
            send=lambda p: H.fcgi_request(upstream, "POST", p, good,
                                          params={"CONTENT_LENGTH": ""})),
        row("a chunked body", "POST", UPD, 200, None, answer=GOOD_ANSWER,
            send=lambda p: chunked_good(port, p[:-len(UPD)])),
        row("a broken chunked body: nginx's 400, no worker", "POST", UPD, 400,
            "could not read the request", worker=False,
            send=lambda p: raw(port, head("POST", p, "Content-Type: application/json\r\n"
                                             "Transfer-Encoding: chunked\r\n")
                               + b"zz\r\n" + good + b"\r\n0\r\n\r\n")),
    ]
    return rows


# ---- running a row -------------------------------------------------------

LOG_LINE = re.compile(r"\[(\d+)\] rid=(\S+) (\S+) (\S+) (\d{3}) (\d+)B (\d+)us")


def request_lines(pool, offset):
    return [m for m in (LOG_LINE.search(ln) for ln in pool.log_since(offset).splitlines()) if m]


wait_until = H.wait_until


def run_row(url, pools, goods, r):
    pool, prefix = pools[r["pool"]]
    label = "%s [%s]" % (r["name"], r["pool"])
    path = r["path"] if r["path"].startswith("/") else prefix + r["path"]
    before = sorted(pool.pids())
    off = pool.log_size()
    if r["send"] is not None:
        res = r["send"](path)
    else:
        res = fetch(r["method"], url + path, r["body"] if r["method"] not in ("GET", "HEAD")
                    else None, r["headers"], timeout=30)
    statuses = r["status"] if isinstance(r["status"], tuple) else (r["status"],)
    check("%s -> %s" % (label, "/".join(map(str, statuses))), res.status in statuses,
          "got %s %s" % (res.status, res.text[:300]))
    if r["json"] and statuses[0] >= 400:
        j = res.json()
        msg = j.get("message") if isinstance(j, dict) else None
        check("%s: a JSON body with a message" % label,
              (res.header("Content-Type") or "").startswith("application/json")
              and isinstance(msg, str) and msg != "" and j.get("status") == statuses[0],
              "%s %s" % (res.header("Content-Type"), res.text[:300]))
        if r["message"] is not None:
            check("%s: the message says %r" % (label, r["message"]),
                  isinstance(msg, str) and r["message"] in msg, res.text[:400])
        if r.get("error"):
            equal("%s: error code" % label, j.get("error") if isinstance(j, dict) else None,
                  r["error"])
        if r["absent"]:
            check("%s: the answer does not show %r" % (label, r["absent"]),
                  r["absent"] not in res.text, res.text[:300])
    if r["allow"]:
        equal("%s: Allow" % label, res.header("Allow"), r["allow"])
    if r["answer"] is not None:
        equal("%s: the answer" % label, res.json(), r["answer"])
    elif res.status == 200 and r["method"] == "GET":
        check("%s: a layout" % label, isinstance(res.json(), dict) and "props" in res.json(),
              res.text[:200])
    if r["method"] == "HEAD" and res.status == 200:
        check("%s: no body" % label, res.body == b"", res.body[:100])

    # The pool: the same workers, or exactly one replaced.
    n = len(before)
    if r["replaced"]:
        ok = wait_until(lambda: len(pool.pids()) == n and len(set(pool.pids()) - set(before)) == 1,
                        5)
        check("%s: the worker that ran it is replaced, the pool whole again" % label, ok,
              (before, pool.pids()))
    else:
        time.sleep(0.05)
        equal("%s: the same workers" % label, sorted(pool.pids()), before)

    # The log: one line for a request a worker saw, none otherwise.
    want = 1 if r["worker"] else 0
    wait_until(lambda: len(request_lines(pool, off)) >= want, 3)
    if not r["worker"]:
        time.sleep(0.2)
    lines = request_lines(pool, off)
    equal("%s: request lines in the workers' log" % label, len(lines), want)
    rid = res.header("X-Request-Id")
    if want == 1 and lines:
        m = lines[0]
        check("%s: the log line has its rid and status" % label,
              (rid is None or m.group(2) == rid) and int(m.group(5)) == statuses[0],
              m.group(0))

    # The next good request.
    off = pool.log_size()
    g = goods[r["pool"]]()
    check("%s: then a good request answers right" % label, g, g)
    wait_until(lambda: len(request_lines(pool, off)) >= 1, 3)
    equal("%s: ... with one log line" % label, len(request_lines(pool, off)), 1)


def main():
    h = H.Harness("fcdash-bad-input")
    static = h.static_root()
    app = H.program("tests/apps/protocol_check")
    common = {"FCDASH_STATIC_ROOT": static, "FCDASH_TEST_EXTRAS": "1",
              "FCDASH_CALLBACK_TIME_LIMIT": str(TIME_LIMIT)}
    prod = h.pool("bad-app", app, workers=2, multiwatch=True,
                  env=dict(common, FCDASH_PREFIX="/app/"))
    dbg = h.pool("bad-dbg", app, workers=2, multiwatch=True, tcp=True,
                 env=dict(common, FCDASH_PREFIX="/dbg/", FCDASH_DEBUG="1"))
    os.environ["FCDASH_SECRET"] = SECRET  # in the environment, not on a command line
    try:
        sess = h.pool("bad-session", H.program("examples/session/session"), workers=2,
                      multiwatch=True, env={"FCDASH_PREFIX": "/session/",
                                            "FCDASH_STATIC_ROOT": static})
    finally:
        del os.environ["FCDASH_SECRET"]
    url = h.start_nginx({"/app/": prod.upstream, "/dbg/": dbg.upstream,
                         "/session/": sess.upstream})
    port = int(url.rsplit(":", 1)[1])
    pools = {"app": (prod, "/app/"), "dbg": (dbg, "/dbg/"), "session": (sess, "/session/")}

    # A session id from a page load, and its callback's answer (computed
    # once, 3 s, then read from the cache).
    r = fetch("GET", url + "/session/_dash-layout")
    try:
        session_id = r.json()["props"]["children"][0]["props"]["data"]
    except (TypeError, KeyError, IndexError):
        raise H.Missing("no session id in /session/_dash-layout: %s" % r)
    warm = post_json(url + "/session/" + UPD, session_body(session_id), timeout=30)
    check("session: a good callback with the page's id answers 200", warm.status == 200, warm)

    def good(prefix):
        def f():
            r = post_json(url + prefix + UPD, GOOD)
            return r.status == 200 and r.json() == GOOD_ANSWER or r
        return f

    def good_session():
        r = post_json(url + "/session/" + UPD, session_body(session_id))
        return r.status == 200 and r.json() == warm.json() or r

    goods = {"app": good("/app/"), "dbg": good("/dbg/"), "session": good_session}
    rows = catalogue(port, session_id, prod.upstream)
    section("the catalogue: %d rows" % len(rows))
    check("the catalogue has at least 40 rows", len(rows) >= 40, len(rows))
    for r in rows:
        H.guarded(r["name"], run_row, url, pools, goods, r)

    section("afterwards")
    for name, (pool, _) in pools.items():
        equal("%s: the pool is whole" % name, len(pool.pids()), 2)


if __name__ == "__main__":
    H.run(main)
