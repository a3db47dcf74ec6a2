"""test_scores.py - the guide's first app, right and wrong, under several workers.

nginx in front of:
  /scores/                 examples/scores, 4 workers: 500 callback
                           requests, values 1..5 and None in random order,
                           16 at a time; every answer right, and more than
                           one worker answered (their log lines);
  /scores-global/          examples/scores-global, 3 workers: app data is
                           frozen, so every callback gets a 500 with a JSON
                           body and the log names global variable 'df'; the
                           page itself still loads;
  /scores-global-nofreeze/ the same program with FCDASH_FREEZE=0 and one
                           worker: the guide's bug for real, answers drift
                           (value 5, then value 1 answers 0 instead of 3).
"""

import os
import random
import re
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness as H  # noqa: E402
from harness import check, equal, fetch, post_json, section  # noqa: E402

# Ten students scored 1,5,2,5,2,3,1,5,1,5 (../shared/examples.md).
EXPECTED = {1: 3, 2: 2, 3: 1, 4: 0, 5: 4, None: 0}


def body(value):
    inp = {"id": "score", "property": "value"}
    if value is not None:
        inp["value"] = value
    return {"output": "output.children", "outputs": {"id": "output", "property": "children"},
            "inputs": [inp], "changedPropIds": ["score.value"],
            "parsedChangedPropsIds": ["score.value"]}


def answer(r):
    j = r.json()
    try:
        return j["response"]["output"]["children"]
    except (TypeError, KeyError):
        return None


def log_pids(text, path):
    return set(re.findall(r"\[(\d+)\] rid=\S+ POST %s 200 " % re.escape(path), text))


def page_loads(url, prefix, label):
    r = fetch("GET", url + prefix)
    check("%s: index page 200 with the renderer" % label,
          r.status == 200 and "new DashRenderer()" in r.text, r)
    r = fetch("GET", url + prefix + "_dash-layout")
    lay = r.json() or {}
    text = str(lay)
    check("%s: _dash-layout 200 JSON with the dropdown and the text" % label,
          r.status == 200 and "'id': 'score'" in text
          and "was scored by this many students:" in text, r)
    r = fetch("GET", url + prefix + "_dash-dependencies")
    deps = r.json() or []
    check("%s: _dash-dependencies has output.children <- score.value" % label,
          r.status == 200 and len(deps) == 1 and deps[0].get("output") == "output.children"
          and deps[0].get("inputs") == [{"id": "score", "property": "value"}], r)


def scores_many(url, pool):
    prefix = "/scores/"
    values = [1, 2, 3, 4, 5, None] * 84  # 504 requests
    values = values[:500]
    random.seed(20251125)
    random.shuffle(values)
    off = pool.log_size()

    def one(v):
        return v, post_json(url + prefix + "_dash-update-component", body(v))
    with ThreadPoolExecutor(max_workers=16) as ex:
        results = list(ex.map(one, values))
    wrong = [(v, r.status, r.text[:120]) for v, r in results
             if r.status != 200 or answer(r) != EXPECTED[v]]
    check("scores: 500 concurrent requests in random order, every answer right "
          "(1->3 2->2 3->1 4->0 5->4 None->0)", not wrong,
          "%d wrong, first: %s" % (len(wrong), wrong[:5]))
    for v in (1, 2, 3, 4, 5, None):
        got = {answer(r) for w, r in results if w == v}
        equal("scores: value %s always answers %d" % (v, EXPECTED[v]), got, {EXPECTED[v]})
    H.time.sleep(0.3)
    pids = log_pids(pool.log_since(off), prefix + "_dash-update-component")
    check("scores: more than one worker answered (pids in the log: %s)" % sorted(pids),
          len(pids) > 1, pids)
    check("scores: the 4 workers are all still up", len(pool.pids()) == 4, pool.pids())


def scores_global(url, pool):
    prefix = "/scores-global/"
    page_loads(url, prefix, "scores-global")
    off = pool.log_size()
    bad = []
    for v in [1, 2, 3, 4, 5, None] * 5:
        r = post_json(url + prefix + "_dash-update-component", body(v))
        j = r.json()
        if not (r.status == 500 and isinstance(j, dict) and isinstance(j.get("message"), str)):
            bad.append((v, r.status, r.text[:200]))
    check("scores-global: every callback request gets 500 with a JSON message (frozen data)",
          not bad, bad[:5])
    H.time.sleep(0.3)
    log = pool.log_since(off)
    check("scores-global: the pool log names global variable 'df'",
          "global variable 'df'" in log, log[-1500:])
    check("scores-global: the workers survive the refused write (3 still up)",
          len(pool.pids()) == 3, pool.pids())
    page_loads(url, prefix, "scores-global after the 500s")


def scores_global_nofreeze(url, pool):
    prefix = "/scores-global-nofreeze/"
    upd = url + prefix + "_dash-update-component"
    page_loads(url, prefix, "scores-global FCDASH_FREEZE=0")
    first = answer(post_json(upd, body(5)))
    then = answer(post_json(upd, body(1)))
    check("scores-global FCDASH_FREEZE=0: value 5 answers 4 (the first answer is still right)",
          first == 4, first)
    check("scores-global FCDASH_FREEZE=0: the guide's bug: value 1 after 5 on the same worker "
          "answers 0, not 3", then == 0, then)
    check("scores-global FCDASH_FREEZE=0: the answer drifted from the right one (3)", then != 3,
          then)


def main():
    h = H.Harness("fcdash-scores")
    static = h.static_root()
    scores = h.pool("scores", H.program("examples/scores/scores"), workers=4, env={
        "FCDASH_PREFIX": "/scores/", "FCDASH_STATIC_ROOT": static})
    glob = h.pool("scores-global", H.program("examples/scores-global/scores-global"), workers=3,
                  env={"FCDASH_PREFIX": "/scores-global/", "FCDASH_STATIC_ROOT": static})
    nofreeze = h.pool("scores-global-nofreeze",
                      H.program("examples/scores-global/scores-global"), workers=1, tcp=True,
                      env={"FCDASH_PREFIX": "/scores-global-nofreeze/",
                           "FCDASH_STATIC_ROOT": static, "FCDASH_FREEZE": "0"})
    url = h.start_nginx({"/scores/": scores.upstream, "/scores-global/": glob.upstream,
                         "/scores-global-nofreeze/": nofreeze.upstream})

    section("scores: 4 workers, 500 requests")
    H.guarded("scores page", page_loads, url, "/scores/", "scores")
    H.guarded("scores many", scores_many, url, scores)
    section("scores-global: frozen app data")
    H.guarded("scores-global", scores_global, url, glob)
    section("scores-global without the freeze")
    H.guarded("scores-global nofreeze", scores_global_nofreeze, url, nofreeze)


if __name__ == "__main__":
    H.run(main)
