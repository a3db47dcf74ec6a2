#!/usr/bin/python3
"""callgrind_graph.py - instructions per cache-hit graph-1 call of examples/signal.

    FCDASH_BUILDDIR=$PWD FCDASH_SRCDIR=$PWD bench/callgrind_graph.py [N] [OUTDIR]

The recipe of bench/README.md ("What bounds the missed targets") in one
command: a private memcached and one signal worker under callgrind (both
started by tests/lib/harness.py, stopped by pid), the compute call for
"apples" (3 s, fills the memoized frame), three graph-1 calls to warm up,
the counters zeroed, then N (30) graph-1 hits, each answer checked to be
the same bytes as the warm-up's.  Prints the instructions per request and
leaves callgrind_annotate's inclusive listing in OUTDIR/annotate.txt
(default: a temp dir, named on the last line).

Instruction counts do not depend on what else the machine runs, unlike the
timings of make bench, so they tell one change from the next.
"""
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import harness as H  # noqa: E402


def body(output, inp, value):
    oid, prop = output.rsplit(".", 1)
    iid, iprop = inp.rsplit(".", 1)
    return json.dumps({"output": output, "outputs": {"id": oid, "property": prop},
                       "inputs": [{"id": iid, "property": iprop, "value": value}],
                       "changedPropIds": [inp]})


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    outdir = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="callgrind-graph-")
    os.makedirs(outdir, exist_ok=True)
    for f in glob.glob(os.path.join(outdir, "cg.out*")):
        os.remove(f)
    h = H.Harness("callgrind-graph")
    try:
        mc = h.memcached()
        port = H.free_port()
        worker = h.spawn(["valgrind", "--tool=callgrind",
                          "--callgrind-out-file=%s/cg.out.%%p" % outdir,
                          H.program("examples/signal/signal"), "--listen",
                          "127.0.0.1:%d" % port],
                         env={"FCDASH_CACHE": "memcached://" + mc, "FCDASH_PREFIX": "/signal/",
                              "FCDASH_LOG_REQUESTS": "0"}, log=h.path("worker.log"))
        addr, path = "127.0.0.1:%d" % port, "/signal/_dash-update-component"
        compute = body("signal.data", "dropdown.value", "apples")
        graph = body("graph-1.figure", "signal.data", "apples")
        deadline = time.time() + 60
        r = H.fcgi_request(addr, "POST", path, compute, timeout=60)
        while r.status == 0 and time.time() < deadline:  # valgrind starts slowly
            time.sleep(0.2)
            r = H.fcgi_request(addr, "POST", path, compute, timeout=60)
        if r.status != 200:
            sys.exit("the compute call answered %d: %s" % (r.status, r.body[:200]))
        for _ in range(3):
            want = H.fcgi_request(addr, "POST", path, graph, timeout=60)
        if want.status != 200:
            sys.exit("graph-1 answered %d: %s" % (want.status, want.body[:200]))
        subprocess.run(["callgrind_control", "-z", str(worker.pid)], check=True,
                       capture_output=True)
        for _ in range(n):
            r = H.fcgi_request(addr, "POST", path, graph, timeout=60)
            if r.status != 200 or r.body != want.body:
                sys.exit("a graph-1 hit answered differently (%d)" % r.status)
        # Under callgrind the worker does not stop on SIGTERM after serving:
        # dump, then kill.
        subprocess.run(["callgrind_control", "-d", str(worker.pid)], check=True,
                       capture_output=True)
        time.sleep(1)
        H.kill_pid(worker.pid, signal.SIGKILL)
    finally:
        h.stop()
    dumps = sorted(glob.glob(os.path.join(outdir, "cg.out.*.*")), key=os.path.getmtime)
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", dumps[-1]],
                          capture_output=True, text=True, check=True).stdout
    with open(os.path.join(outdir, "annotate.txt"), "w") as f:
        f.write(text)
    total = next(int(line.split()[0].replace(",", "")) for line in text.splitlines()
                 if "PROGRAM TOTALS" in line)
    print("graph-1 hits: %d requests, answer %d bytes, %d instructions a request"
          % (n, len(want.body), total // n))
    print("profile: %s/annotate.txt" % outdir)


if __name__ == "__main__":
    main()
