"""fuzz/make-seeds.py [CAPTURES_DIR] - write the fuzzers' seed corpora into fuzz/corpus/.

Seeds are what a client really sends: the request bodies the unchanged
dash-renderer sent in /work/shared/dash-protocol-captures (the fuzz app in
fuzz/fuzz_app.h registers that capture app's callbacks, so each body
reaches its callback), wrapped in FastCGI-param form for fuzz_params,
plus a few hand-made frames and ids.  fuzz_memo_value's seeds are real
cache entries written by memoize itself: run its binary with
FUZZ_MEMO_SEEDS=fuzz/corpus/memo_value.

Only small seeds are kept (under 4 KB each), so the tree stays light.
"""

import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "..", "shared", "dash-protocol-captures")


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > 4096:
        return
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def bodies():
    seen = set()
    for name in sorted(os.listdir(CAPTURES)):
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(CAPTURES, name)) as f:
            for line in f:
                if not line.strip():
                    continue
                ex = json.loads(line)
                b = ex.get("request_body")
                if ex.get("method") == "POST" and isinstance(b, dict):
                    text = json.dumps(b, separators=(",", ":"))
                    if text not in seen:
                        seen.add(text)
                        yield text


def main():
    n = 0
    for text in bodies():
        write("update", text)
        write("params", "POST\0/u/_dash-update-component\0\0application/json\0" + text)
        n += 1
    for method, path, query, ctype in [
            ("GET", "/u/", "", ""), ("GET", "/u/_dash-layout", "", ""),
            ("GET", "/u/_dash-dependencies", "", ""), ("GET", "/u/_fcdash/metrics", "", ""),
            ("GET", "/u/_dash-component-suites/dash/deps/react@18.3.1.min.js", "m=1", ""),
            ("PUT", "/u/_dash-update-component", "", "application/json"),
            ("POST", "/u/_dash-update-component", "", "text/plain"),
            ("POST", "/u/_dash-update-component", "", "application/json; charset=utf-8"),
            ("HEAD", "/u/_dash-layout", "a=b", "")]:
        write("params", "%s\0%s\0%s\0%s\0HTTP_X_REQUEST_ID=abc\0{}" % (method, path, query, ctype))
    frames = [
        {"columns": ["a", "b"], "index": [0, 1], "data": [[1, "x"], [2, None]]},
        {"columns": ["t", "f", "b"], "index": ["r1", "r2"],
         "data": [["2024-01-01T00:00:00.000", 1.5, True], [None, None, False]]},
        {"columns": [], "index": [], "data": []},
    ]
    for fr in frames:
        write("frame_json", b"\0" + json.dumps(fr).encode())
    write("frame_json", b"\1" + json.dumps({"a": {"0": 1, "1": 2}, "b": {"0": "x", "1": None}}).encode())
    write("session", "s1." + "A" * 80)
    write("session", "s1." + "_-" * 40)
    write("session", "\x05" + "s1.")
    print("%d captured bodies written as seeds" % n)


if __name__ == "__main__":
    main()
