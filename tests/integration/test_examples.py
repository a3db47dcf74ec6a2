"""test_examples.py - the guide's Examples 1 (store) and 2 (aggregates) through nginx.

nginx in front of two spawn-fcgi pools, 2 workers each (neither app shares
anything between requests; the browser's requests overlap):
  /store/       examples/store:      clean_data (a 1 s slow step) writes the
                city's rows into a dcc.Store as pandas'
                to_json(orient='split', date_format='iso'); a graph and a
                table read the Store;
  /aggregates/  examples/aggregates: clean_data stores json.dumps of the
                apples, oranges and figs frames; three graphs read their part.

The reference is pandas itself: Debian's /usr/bin/python3 with
python3-pandas builds the same frame (../shared/examples.md) and writes what
the Python app would put in the Store, which the answers must equal byte
for byte; the figures and the table are compared whole with what
create_figure and create_table make of that frame.

Then both pages in headless Chromium (tests/browser/store.mjs and
aggregates.mjs): no city, MTL, SF, NYC; the right rows in the table and the
graph titles, the Store text as pandas writes it, and each change asks the
slow step once, not once per output.  The pool logs agree: one request of a
second or more (the slow step sleeps 1 s) per change, every other answer
fast.
"""

import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # importing test_browser leaves no __pycache__ in the tree
import harness as H  # noqa: E402
from harness import check, equal, fetch, post_json, section  # noqa: E402
import test_browser as B  # noqa: E402  (run_node, browser_dir: the browser runner)

PANDAS = "/usr/bin/python3"
CITIES = ["MTL", "SF", "NYC"]
FRUITS = ["apples", "oranges", "figs"]
SLOW_S = 1.0

# The guide's frame and steps, in pandas: what the Python apps store.
REFERENCE_SCRIPT = r'''
import json, pandas as pd
cities, fruits = ["MTL", "SF", "NYC"], ["apples", "oranges", "figs"]
rows = [(city, fruit, d, 10 * (c + 1) + d)
        for c, city in enumerate(cities) for f, fruit in enumerate(fruits)
        for d in range(1, 2 + c + f)]
df = pd.DataFrame(rows, columns=["city", "fruit", "day", "amount"])
out = {"pandas": pd.__version__}
for value in [None] + cities:
    # slow_processing_step: the city's rows (all of them for no city), index 0..n-1
    cleaned_df = (df if value is None else df[df["city"] == value]).reset_index(drop=True)
    parts = {f: cleaned_df[cleaned_df["fruit"] == f] for f in fruits}
    datasets = {"df_%d" % (k + 1): parts[f].to_json(orient="split", date_format="iso")
                for k, f in enumerate(fruits)}
    out["ALL" if value is None else value] = {
        "store": cleaned_df.to_json(orient="split", date_format="iso"),
        "rows": [[str(v) for v in r] for r in cleaned_df.itertuples(index=False)],
        "days": [int(v) for v in cleaned_df["day"]],
        "amounts": [int(v) for v in cleaned_df["amount"]],
        "aggregates": json.dumps(datasets),
        "counts": {f: len(parts[f]) for f in fruits},
        "parts": {f: {"days": [int(v) for v in parts[f]["day"]],
                      "amounts": [int(v) for v in parts[f]["amount"]]} for f in fruits},
    }
print(json.dumps(out))
'''


def reference():
    if not os.access(PANDAS, os.X_OK):
        raise H.Missing("%s not found" % PANDAS)
    r = subprocess.run([PANDAS, "-c", REFERENCE_SCRIPT], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        raise H.Missing("pandas reference failed (apt-get install python3-pandas): %s"
                        % r.stderr.strip()[-800:])
    ref = json.loads(r.stdout)
    print("# reference from pandas %s" % ref.pop("pandas"), flush=True)
    return ref


# ---- requests and the expected answers --------------------------------------

def clean_body(value):
    inp = {"id": "dropdown", "property": "value"}
    if value is not None:
        inp["value"] = value
    return {"output": "intermediate-value.data",
            "outputs": {"id": "intermediate-value", "property": "data"},
            "inputs": [inp], "changedPropIds": ["dropdown.value"]}


def reader_body(component, prop, data):
    return {"output": "%s.%s" % (component, prop),
            "outputs": {"id": component, "property": prop},
            "inputs": [{"id": "intermediate-value", "property": "data", "value": data}],
            "changedPropIds": ["intermediate-value.data"]}


def timed_post(url, body):
    t0 = time.time()
    r = post_json(url, body)
    return r, time.time() - t0


def answer(r, component, prop):
    try:
        return r.json()["response"][component][prop]
    except (TypeError, KeyError):
        return None


def figure(days, amounts, title):
    """create_figure(frame, title) as ../shared/examples.md has it."""
    return {"data": [{"type": "scatter", "mode": "markers", "x": days, "y": amounts}],
            "layout": {"title": {"text": "%s%d rows" % (title, len(days))}}}


def html(kind, children):
    return {"type": kind, "namespace": "dash_html_components", "props": {"children": children}}


def table(rows):
    """create_table(frame): a header Tr of Th, one Tr of Td per row."""
    return ([html("Tr", [html("Th", c) for c in ["city", "fruit", "day", "amount"]])]
            + [html("Tr", [html("Td", v) for v in row]) for row in rows])


def label(value):
    return "no city" if value is None else value


# ---- the checks -------------------------------------------------------------

def store_layout(url):
    r = fetch("GET", url + "/store/_dash-layout")
    lay = r.json() or {}
    kids = (lay.get("props") or {}).get("children") or []
    got = [(k.get("type"), (k.get("props") or {}).get("id")) for k in kids]
    equal("store: the layout is Graph graph, Table table, Dropdown dropdown, Store "
          "intermediate-value, in order", got,
          [("Graph", "graph"), ("Table", "table"), ("Dropdown", "dropdown"),
           ("Store", "intermediate-value")])
    dd = kids[2].get("props", {}) if len(kids) > 2 else {}
    equal("store: the dropdown offers MTL, SF, NYC with no value",
          (dd.get("options"), "value" in dd), (CITIES, False))


def store_answers(url, ref):
    upd = url + "/store/_dash-update-component"
    for value in [None] + CITIES:
        want = ref["ALL" if value is None else value]
        name = "store, %s" % label(value)
        r, took = timed_post(upd, clean_body(value))
        data = answer(r, "intermediate-value", "data")
        if not check("%s: clean_data answers 200" % name, r.status == 200, r):
            continue
        equal("%s: the Store holds exactly pandas' to_json(orient='split', "
              "date_format='iso')" % name, data, want["store"])
        check("%s: clean_data took the slow step's second (%.2f s)" % (name, took),
              took >= SLOW_S - 0.05, took)
        # The readers get the Store as the browser sends it back.
        r, took = timed_post(upd, reader_body("graph", "figure", data))
        equal("%s: the graph is create_figure: %d markers, title \"%d rows\"" % (
            name, len(want["rows"]), len(want["rows"])),
            answer(r, "graph", "figure"), figure(want["days"], want["amounts"], ""))
        check("%s: update_graph does not run the slow step (%.2f s)" % (name, took),
              r.status == 200 and took < SLOW_S, took)
        r, took = timed_post(upd, reader_body("table", "children", data))
        equal("%s: the table is create_table: a header and %d rows of the frame's cells" % (
            name, len(want["rows"])), answer(r, "table", "children"), table(want["rows"]))
        check("%s: update_table does not run the slow step (%.2f s)" % (name, took),
              r.status == 200 and took < SLOW_S, took)
    # A Store written by the Python app reads the same: pandas' text in.
    r = post_json(upd, reader_body("table", "children", ref["SF"]["store"]))
    equal("store: a Store written by pandas reads back as its 9 rows",
          answer(r, "table", "children"), table(ref["SF"]["rows"]))
    r = post_json(upd, reader_body("graph", "figure", "{not json"))
    check("store: a Store that is not a frame fails the callback (500 JSON), not the worker",
          r.status == 500 and isinstance(r.json(), dict), r)


def aggregates_answers(url, ref):
    upd = url + "/aggregates/_dash-update-component"
    lay = fetch("GET", url + "/aggregates/_dash-layout").json() or {}
    kids = (lay.get("props") or {}).get("children") or []
    equal("aggregates: the layout is Dropdown dropdown, Graphs graph1..3, Store "
          "intermediate-value, in order",
          [(k.get("type"), (k.get("props") or {}).get("id")) for k in kids],
          [("Dropdown", "dropdown"), ("Graph", "graph1"), ("Graph", "graph2"),
           ("Graph", "graph3"), ("Store", "intermediate-value")])
    for value in [None] + CITIES:
        want = ref["ALL" if value is None else value]
        name = "aggregates, %s" % label(value)
        r, took = timed_post(upd, clean_body(value))
        data = answer(r, "intermediate-value", "data")
        if not check("%s: clean_data answers 200" % name, r.status == 200, r):
            continue
        equal("%s: the Store holds exactly json.dumps({df_1, df_2, df_3}) of the three "
              "frames' split JSON" % name, data, want["aggregates"])
        check("%s: clean_data took the slow step's second (%.2f s)" % (name, took),
              took >= SLOW_S - 0.05, took)
        for k, fruit in enumerate(FRUITS):
            g = "graph%d" % (k + 1)
            part = want["parts"][fruit]
            r, took = timed_post(upd, reader_body(g, "figure", data))
            equal("%s: %s is create_figure(df_%d, \"%s: \"): %d markers, title \"%s: %d rows\""
                  % (name, g, k + 1, fruit, want["counts"][fruit], fruit, want["counts"][fruit]),
                  answer(r, g, "figure"), figure(part["days"], part["amounts"], fruit + ": "))
            check("%s: %s does not run the slow step (%.2f s)" % (name, g, took),
                  r.status == 200 and took < SLOW_S, took)


def slow_lines(text, prefix):
    """Durations (us) of the callback POSTs in a pool log."""
    return [int(us) for us in re.findall(
        r" POST %s_dash-update-component 200 \d+B (\d+)us" % re.escape(prefix), text)]


def browser(url, pools, ref):
    where = B.browser_dir(pools["store"].harness)
    shots = os.path.join(H.BUILDDIR, "run", "tests")
    os.makedirs(shots, exist_ok=True)
    path = pools["store"].harness.path("reference.json")
    for app, outputs in (("store", 3), ("aggregates", 4)):
        node_ref = {k: {"store": v["store"] if app == "store" else v["aggregates"],
                        "rows": v["rows"], "counts": v["counts"]} for k, v in ref.items()}
        with open(path, "w") as f:
            json.dump(node_ref, f)
        pool = pools[app]
        off = pool.log_size()
        B.run_node(where, app + ".mjs", [url, path, os.path.join(shots, app + ".png")],
                   app + " browser")
        time.sleep(0.3)
        us = slow_lines(pool.log_since(off), "/%s/" % app)
        slow = [u for u in us if u >= SLOW_S * 1e6 * 0.95]
        # The page load and three picks: four changes.
        equal("%s browser: the pool log has 4 changes x %d outputs = %d callback POSTs"
              % (app, outputs, 4 * outputs), len(us), 4 * outputs)
        equal("%s browser: the slow step ran once per change: 4 POSTs of a second or more"
              % app, len(slow), 4)


def main():
    ref = reference()
    h = H.Harness("fcdash-examples")
    static = h.static_root()
    pools = {}
    for app in ("store", "aggregates"):
        pools[app] = h.pool(app, H.program("examples/%s/%s" % (app, app)), workers=2, env={
            "FCDASH_PREFIX": "/%s/" % app, "FCDASH_STATIC_ROOT": static,
            "FCDASH_CACHE": "none://"})
    url = h.start_nginx({"/store/": pools["store"].upstream,
                         "/aggregates/": pools["aggregates"].upstream})

    section("store: clean_data, the graph and the table against pandas")
    H.guarded("store layout", store_layout, url)
    H.guarded("store answers", store_answers, url, ref)
    section("aggregates: clean_data and the three graphs against pandas")
    H.guarded("aggregates answers", aggregates_answers, url, ref)
    section("store and aggregates in Chromium")
    if not (os.path.isfile(B.CHROMIUM) and os.access(B.CHROMIUM, os.X_OK)):
        H.missing("examples browser", "%s not found (apt-get install chromium)" % B.CHROMIUM)
    else:
        H.guarded("examples browser", browser, url, pools, ref)


if __name__ == "__main__":
    H.run(main)
