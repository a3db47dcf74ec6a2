#!/usr/bin/python3
"""Reference fixtures for tests/unit/test_frame.c, written by pandas itself.

test_frame runs this with Debian's /usr/bin/python3 (python3-pandas) at the
start of its run, so what the C frame module is compared with is what the
pandas on this machine writes, not a copy someone pasted once.

    pandas_fixtures.py gen DIR       write the fixtures into DIR
    pandas_fixtures.py readback DIR  read back what test_frame wrote into DIR

Files (for each case NAME):
    NAME.split.json    df.to_json(orient='split', date_format='iso')
    NAME.columns.json  df.to_json()
    NAME.csv           df.to_csv(index=False)
    NAME.str.json      [[str(v) for v in df[c]] for c in df], as JSON
    NAME.figure.json   each column as a figure's array: one line a column,
                       json.dumps(separators=(',', ':')) of the values as
                       plotly's encoder leaves them (NaN, inf, NaT and None
                       as null); datetimes as str(), fcdash's choice
decode cases (dNAME):
    dNAME.in           the JSON text given to read_json
    dNAME.orient       split or columns
    dNAME.expect       read_json(...).to_json(orient='split', date_format='iso'),
                       or ERROR when pandas refuses the text
    dNAME.dtypes       index dtype, then each column's dtype, one per line
    dNAME.hex          float.hex() of every float64 cell, row by row
readback: for each C.NAME.{split,columns}.json that test_frame wrote, the
same .expect and .dtypes files that read_json gives for it.

The frames here and in test_frame.c are built from the same values; keep
the two in step.
"""
import io
import json
import math
import os
import random
import sys
import warnings

import numpy as np
import pandas as pd

warnings.simplefilter("ignore")

CITIES = ["MTL", "SF", "NYC"]
FRUITS = ["apples", "oranges", "figs"]


def examples_frame():
    rows = []
    for c, city in enumerate(CITIES):
        for f, fruit in enumerate(FRUITS):
            for d in range(1, 2 + c + f):
                rows.append((city, fruit, d, 10 * (c + 1) + d))
    return pd.DataFrame(rows, columns=["city", "fruit", "day", "amount"])


def ns_series(values):
    return pd.Series(np.array(values, dtype="int64").view("M8[ns]"))


NAT = -(2**63)
DATES = [0, -1, -500000, 1704067200000000000, 1709164800123456789,
         951782400000000000, -2208988800000000000, NAT, 2**63 - 1,
         -(2**63) + 1, 1000000000000000999]

UNICODE = ["plain", "\u00e9t\u00e9", "\U0001F600 grin", "\u4e2d\u6587",
           '"quoted"', "back\\slash", "a/b</script>", "\x01\x1f\x7f",
           "\u2028\u2029", "tab\there", "nl\nhere", "cr\rhere", "\b\f",
           "\U0010FFFF", "\uFFFF\u0800\u07FF\u0080"]


def cases():
    out = {}
    df = examples_frame()
    out["examples"] = df
    for city in CITIES:
        out["examples_" + city] = df[df["city"] == city]
        out["examples_" + city + "_reset"] = \
            df[df["city"] == city].reset_index(drop=True)
    for fruit in FRUITS:
        out["examples_" + fruit] = df[df["fruit"] == fruit]

    out["missing"] = pd.DataFrame({
        "f": [1.5, np.nan, -2.25, 1e20, 1e-20, 0.1, np.inf],
        "s": ["a", None, "", "x,y", 'q"q', "line\nbreak", "tab\t"],
        "b": pd.Series([True, None, False, True, None, False, True],
                       dtype=object),
        "i": [0, -1, 2**63 - 1, -(2**63), 42, 7, 1000000],
        "t": ns_series([1704067200000000000, NAT, 0, -1, 5, NAT,
                        1709164800123456789]),
    })
    out["unicode"] = pd.DataFrame({"s": UNICODE,
                                   "n": list(range(len(UNICODE)))})
    out["dates"] = pd.DataFrame({"t": ns_series(DATES)})
    day = 86400 * 10**9
    out["dates_only"] = pd.DataFrame({"t": ns_series([0, day, NAT, -day])})
    out["dates_s"] = pd.DataFrame({"t": ns_series([0, day + 10**9, NAT])})
    out["dates_ms"] = pd.DataFrame({"t": ns_series([0, 5 * 10**8, NAT])})
    out["dates_us"] = pd.DataFrame({"t": ns_series([0, 5 * 10**8, 1000])})
    out["dates_ns"] = pd.DataFrame({"t": ns_series([0, 1, -1])})
    out["empty"] = pd.DataFrame()
    out["empty_cols"] = pd.DataFrame({"a": [], "b": []})
    out["no_cols"] = pd.DataFrame(index=range(2))
    out["strindex"] = pd.DataFrame({"v": [1, 2, 3]},
                                   index=["x", "y/z", "\u00e9"])
    out["bools"] = pd.DataFrame({"b": [True, False, True], "only": [1, 2, 3]})
    out["one_empty"] = pd.DataFrame({"s": ["", "a", None]})
    out["session"] = pd.DataFrame({
        "time": ["2024-05-01 12:00:00.123456", "2024-05-01 12:00:05.123456",
                 "2024-05-01 12:00:10.123456", "2024-05-01 12:00:15.123456"],
        "values": ["a", "b", "a", "c"]})

    n = 100000
    i = np.arange(n, dtype=np.int64)
    out["big"] = pd.DataFrame({
        "i": i * 7919 % 1000003 - 500000,
        "x": i.astype(np.float64) / 7.0,
        "y": i.astype(np.float64) * 0.37,
        "s": ["r%d\u00e9" % k if k % 5 else None for k in range(n)],
        "b": (i % 3 == 0),
        "t": ns_series((1704067200000000000 + i * 1234567891).tolist()),
    })

    rnd = random.Random(20240101)
    floats = []
    for k in range(20000):
        e = rnd.randint(-20, 20)
        floats.append(rnd.uniform(-1, 1) * 10.0 ** e)
    # halves and near-halves at the tenth decimal, ujson's rounding edge
    floats += [k * 5e-11 for k in range(200)]
    floats += [k + 0.5 for k in range(-50, 50)]
    floats += [1e16, 1e16 - 2, 9999999999999998.0, 1e15 + 0.3, 1e-15,
               1e-16, 9.99999999999e-16, 5e-324, 2.2250738585072014e-308,
               1.7976931348623157e308, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, -0.0,
               2**53, 2**53 + 2, 2**63, 123456789.123456789, 0.95, 0.99999999995,
               0.999999999949, 2.5e-10, 1.5e-10, -5e-11, -1e-12]
    floats += [2.0 ** k for k in range(-1074, 1024, 7)]
    out["floats"] = pd.DataFrame({"x": floats})
    return out


# read_json inputs: (name, orient, text)
DECODE = [
    ("int", "split", '{"columns":["a"],"index":[0,1],"data":[[1],[2]]}'),
    ("wholefloat", "split", '{"columns":["a"],"index":[0,1],"data":[[1.0],[2.0]]}'),
    ("intfloat", "split", '{"columns":["a"],"index":[0,1],"data":[[1],[2.5]]}'),
    ("intnull", "split", '{"columns":["a"],"index":[0,1],"data":[[1],[null]]}'),
    ("boolnull", "split", '{"columns":["a"],"index":[0,1],"data":[[true],[null]]}'),
    ("bool", "split", '{"columns":["a"],"index":[0,1],"data":[[true],[false]]}'),
    ("boolint", "split", '{"columns":["a"],"index":[0,1],"data":[[true],[2]]}'),
    ("numstr", "split", '{"columns":["a"],"index":[0,1],"data":[["1"],["2"]]}'),
    ("numstr2", "split", '{"columns":["a"],"index":[0,1],"data":[["1.5"],[" 2 "]]}'),
    ("numstr3", "split", '{"columns":["a"],"index":[0,1],"data":[["1_0"],["-inf"]]}'),
    ("numstrnull", "split", '{"columns":["a"],"index":[0,1],"data":[["7"],[null]]}'),
    ("strnull", "split", '{"columns":["a"],"index":[0,1],"data":[["a"],[null]]}'),
    ("allnull", "split", '{"columns":["a"],"index":[0,1],"data":[[null],[null]]}'),
    ("empty", "split", '{"columns":["a"],"index":[],"data":[]}'),
    ("nothing", "split", '{"columns":[],"index":[],"data":[]}'),
    ("noindex", "split", '{"columns":["a"],"data":[[1],[2]]}'),
    ("strindex", "split", '{"columns":["a"],"index":["x","y"],"data":[[1],[2]]}'),
    ("numstrindex", "split", '{"columns":["a"],"index":["1","2"],"data":[[1],[2]]}'),
    ("floatindex", "split", '{"columns":["a"],"index":[1.5,2],"data":[[1],[2]]}'),
    ("nullindex", "split", '{"columns":["a"],"index":[1,null],"data":[[1],[2]]}'),
    ("boolindex", "split", '{"columns":["a"],"index":[true,false],"data":[[1],[2]]}'),
    ("dateindex", "split", '{"columns":["a"],"index":[40000000,50000000],"data":[[1],[2]]}'),
    ("isoindex", "split", '{"columns":["a"],"index":["2024-01-01","2024-01-02"],"data":[[1],[2]]}'),
    ("dupcols", "split", '{"columns":["a","a"],"index":[0],"data":[[1,2]]}'),
    ("date_iso", "split", '{"columns":["date"],"index":[0,1],"data":[["2024-01-01T00:00:00.000"],[null]]}'),
    ("date_ms", "split", '{"columns":["date"],"index":[0,1],"data":[[1704067200000],[null]]}'),
    ("date_s", "split", '{"columns":["modified"],"index":[0,1],"data":[[1704067200],[1704067201]]}'),
    ("date_small", "split", '{"columns":["date"],"index":[0,1],"data":[[1704067200],[1]]}'),
    ("date_str", "split", '{"columns":["x_at"],"index":[0,1],"data":[["2024-01-01"],["x"]]}'),
    ("date_nulls", "split", '{"columns":["Created_At"],"index":[0,1],"data":[[null],[null]]}'),
    ("date_numstr", "split", '{"columns":["timestamp_x"],"index":[0,1],"data":[["1704067200000"],["NaT"]]}'),
    ("date_fracstr", "split", '{"columns":["end_time"],"index":[0,1],"data":[["1.5"],["2"]]}'),
    ("date_float", "split", '{"columns":["date"],"index":[0,1],"data":[[1704067200000.5],[null]]}'),
    ("date_bool", "split", '{"columns":["date"],"index":[0,1],"data":[[true],[false]]}'),
    ("date_us", "split", '{"columns":["datetime"],"index":[0],"data":[["2024-02-29 23:59:59.123456"]]}'),
    ("time_notdate", "split", '{"columns":["time"],"index":[0,1],"data":[["2024-01-01T00:00:00.000"],[null]]}'),
    ("bigfloat", "split", '{"columns":["a"],"index":[0,1],"data":[[1e20],[2]]}'),
    ("maxint", "split", '{"columns":["a"],"index":[0,1],"data":[[9223372036854775807],[-9223372036854775808]]}'),
    ("negzero", "split", '{"columns":["a"],"index":[0,1],"data":[[-0.0],[3]]}'),
    ("escapes", "split", '{"columns":["s","\\u00e9"],"index":[0,1],"data":[["\\u0000\\ud83d\\ude00\\/\\"",1],["\\b\\f\\n\\r\\t\\\\",2]]}'),
    ("raw_utf8", "split", '{"columns":["s"],"index":[0],"data":[["\u00e9\u4e2d\U0001F600"]]}'),
    ("spaces", "split", ' {\n "data" : [ [ 1 , "x" ] ] ,\t"columns" : [ "a" , "b" ] } \n'),
    ("ragged", "split", '{"columns":["a"],"index":[0,1],"data":[[1,2],[2]]}'),
    ("toowide", "split", '{"columns":["a"],"index":[0,1],"data":[[1,2],[2,3]]}'),
    ("shortindex", "split", '{"columns":["a"],"index":[0],"data":[[1],[2]]}'),
    ("extrakey", "split", '{"columns":["a"],"index":[0,1],"data":[[1],[2]],"extra":1}'),
    ("hugeint", "split", '{"columns":["a"],"index":[0],"data":[[99999999999999999999]]}'),
    ("c_basic", "columns", '{"a":{"0":1,"1":2},"b":{"0":"x","1":null}}'),
    ("c_align", "columns", '{"a":{"1":1,"0":2},"b":{"0":3,"2":4}}'),
    ("c_strindex", "columns", '{"a":{"x":1,"y":2}}'),
    ("c_empty", "columns", '{"a":{}}'),
    ("c_nothing", "columns", '{}'),
    ("c_msindex", "columns", '{"a":{"1704067200000":1}}'),
    ("c_isoindex", "columns", '{"a":{"2024-01-01T00:00:00.000":1}}'),
    ("c_fracindex", "columns", '{"a":{"1.5":1,"2":2}}'),
    ("c_negindex", "columns", '{"a":{"-1":1,"1":2}}'),
    ("c_date", "columns", '{"date":{"0":1704067200000,"1":null}}'),
    ("c_floats", "columns", '{"f":{"0":0.1,"1":null,"2":1e-7}}'),
]

def dtypes_of(df):
    idx = df.index
    if isinstance(idx, pd.RangeIndex):
        lines = ["range"]
    else:
        lines = [str(idx.dtype)]
    lines += [str(t) for t in df.dtypes]
    return "\n".join(lines) + "\n"


def write(path, text, mode="w"):
    with open(path, mode, encoding=None if "b" in mode else "utf-8",
              newline="" if "b" not in mode else None) as f:
        f.write(text)


def read_back(text, orient):
    return pd.read_json(io.StringIO(text), orient=orient, precise_float=True)


def describe_decode(d, name, text, orient):
    write(os.path.join(d, name + ".orient"), orient)
    try:
        df = read_back(text, orient)
    except Exception as e:  # pandas refuses it: so must fcdash
        write(os.path.join(d, name + ".expect"), "ERROR %s\n" % e)
        return
    write(os.path.join(d, name + ".expect"),
          df.to_json(orient="split", date_format="iso"))
    write(os.path.join(d, name + ".dtypes"), dtypes_of(df))
    floats = [df.iloc[:, c].tolist() for c in range(df.shape[1])
              if df.dtypes.iloc[c] == np.float64]
    hexes = [float(x).hex() for row in zip(*floats) for x in row]
    write(os.path.join(d, name + ".hex"), "\n".join(hexes) + "\n")


def figure_value(v):
    """A cell as Python's json module gets it in a figure's array."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or v is pd.NaT or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return str(v)
    return v


def figure_arrays(df):
    return "".join(json.dumps([figure_value(v) for v in df[c]], separators=(",", ":")) + "\n"
                   for c in df.columns)


def gen(d):
    for name, df in cases().items():
        write(os.path.join(d, name + ".split.json"),
              df.to_json(orient="split", date_format="iso"))
        write(os.path.join(d, name + ".columns.json"), df.to_json())
        write(os.path.join(d, name + ".csv"), df.to_csv(index=False))
        write(os.path.join(d, name + ".figure.json"), figure_arrays(df))
        if len(df) <= 1000:
            cells = [[str(v) for v in df[c]] for c in df.columns]
            write(os.path.join(d, name + ".str.json"), json.dumps(cells))
    floats = cases()["floats"]["x"].tolist()
    write(os.path.join(d, "floats.hex"), "\n".join(x.hex() for x in floats) + "\n")
    for name, orient, text in DECODE:
        write(os.path.join(d, "d" + name + ".in"), text)
        describe_decode(d, "d" + name, text, orient)
    # 17-digit texts, read back exactly
    rnd = random.Random(7)
    vals = [rnd.uniform(-1, 1) * 10.0 ** rnd.randint(-30, 30) for _ in range(5000)]
    text = '{"columns":["x"],"index":[%s],"data":[%s]}' % (
        ",".join(str(k) for k in range(len(vals))),
        ",".join("[%r]" % v for v in vals))
    write(os.path.join(d, "dprecise.in"), text)
    describe_decode(d, "dprecise", text, "split")
    write(os.path.join(d, "decode.list"),
          "\n".join(["d" + n for n, _, _ in DECODE] + ["dprecise"]) + "\n")


def readback(d):
    for f in sorted(os.listdir(d)):
        if f.startswith("C.") and f.endswith(".json"):
            orient = "split" if f.endswith(".split.json") else "columns"
            with open(os.path.join(d, f), encoding="utf-8") as fh:
                text = fh.read()
            describe_decode(d, f[:-5], text, orient)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("gen", "readback"):
        sys.exit("usage: pandas_fixtures.py gen|readback DIR")
    (gen if sys.argv[1] == "gen" else readback)(sys.argv[2])
