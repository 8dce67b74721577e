#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpora/<target>/seed-* (small valid and broken
inputs). Crashing inputs found by fuzzing are added beside them as crash-<target>-*.
Run from the repository root: python3 tests/fuzz/make_seeds.py [build-dir]"""
import json, os, shutil, struct, subprocess, sys, tempfile

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
corp = os.path.join(top, "tests", "fuzz", "corpora")
fix = os.path.join(top, "tests", "fixtures")
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, "build")


def put(target, name, data):
    d = os.path.join(corp, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def fixture(name):
    with open(os.path.join(fix, name), "rb") as f:
        return f.read()


# ---- records: containers, BOM/CRLF, broken structure
for n in ["alpaca.json", "alpaca_exam_bom_crlf.jsonl", "custom.json", "exam_choose.json", "exam_items.jsonl",
          "exam_wrapped.json", "messages.jsonl", "sharegpt.jsonl"]:
    put("fuzz_records", n, fixture(n))
rec = [
    ("empty", b""), ("ws", b" \n\t\r\n"), ("bom-only", b"\xef\xbb\xbf"),
    ("array-1", b'[{"question":"q","answer":"A","options":["x","y"]}]'),
    ("array-trailing-comma", b'[{"question":"q"},]'),
    ("array-truncated", b'[{"question":"q","answer":"A"},{"question":"r'),
    ("array-unclosed", b'[{"question":"q"}'),
    ("array-not-object", b'[1, "two", null, {"question":"q"}]'),
    ("jsonl-crlf", b'{"question":"a"}\r\n{"question":"b"}\r\n'),
    ("jsonl-blank-lines", b'\n\n{"question":"a"}\n\n{"question":"b"}\n'),
    ("jsonl-bad-line", b'{"question":"a"}\n{"question":\n{"question":"b"}\n'),
    ("jsonl-bom", b'\xef\xbb\xbf{"question":"a"}\n'),
    ("wrapped", b'{"meta":{"v":1},"questions":[{"question":"a"},{"question":"b"}]}'),
    ("wrapped-two-arrays", b'{"a":[{"question":"a"}],"b":[{"question":"b"}]}'),
    ("wrapped-empty", b'{"data":[]}'),
    ("wrapped-trailing", b'{"data":[{"question":"a"}]} x'),
    ("nested-deep", b'[{"question":"q","x":' + b"[" * 1200 + b"]" * 1200 + b"}]"),
    ("nested-deep-unclosed", b"[" * 3000),
    ("nul-in-string", b'[{"question":"a\x00b"}]'),
    ("escaped-nul", b'[{"question":"a\\u0000b"}]'),
    ("bad-utf8", b'[{"question":"a\xff\xfe"}]'),
    ("surrogate-escape", b'[{"question":"\\ud800x"}]'),
    ("surrogate-pair", b'[{"question":"\\ud83d\\ude00"}]'),
    ("overlong", b'[{"question":"\xc0\xaf"}]'),
    ("numbers", b'[{"question":1e999,"answer":-0.0e-5}]'),
    ("wrong-type", b'[{"question":["a"],"answer":{"x":1}}]'),
    ("dup-keys", b'[{"question":"a","question":"b"}]'),
    ("string-top", b'"just a string"'),
    ("unterminated-string", b'[{"question":"abc'),
    ("bad-escape", b'[{"question":"\\q"}]'),
    ("control-char", b'[{"question":"a\x01b"}]'),
]
for name, data in rec:
    put("fuzz_records", name, data)

# ---- the JSON fast path: records, every escape, numbers, nesting, broken texts
for n in ["alpaca.json", "exam_choose.json", "exam_wrapped.json"]:
    put("fuzz_json_fast", n, fixture(n))
fast = [
    ("record", '{"id": 12, "question": "在城市道路上行驶，最高速度为多少？", "options": ["A、30", "B、40"], '
               '"answer": "B", "explanation": null, "image": ""}'),
    ("escapes", '{"s":"\\"\\\\/\\b\\f\\n\\r\\t\\u00e9\\u4e2d\\u0800\\u07ff\\u0080\\u007f"}'),
    ("surrogates", '["\\ud83d\\ude00","\\ud800","\\udc00","\\u0000","\\uZZZZ","\\u12"]'),
    ("numbers", '[0,-0,12,-7,3.25,1e5,1E-3,01,1.,2147483648,-2147483649,999999999999999,1000000000000000,'
                '123456789012345678901234567890123456789012345678901234567890123456789]'),
    ("literals", '[true,false,null,{"a":{}},[],[[]],{"":""}]'),
    ("deep", "[" * 70 + "1" + "]" * 70),
    ("ws", '{ \t"a" \n:\r 1 ,\x01"b":[ 1 , 2 ]}'),
    ("broken", '{"a":1,}'),
    ("unterminated", '{"a":"x\\'),
    ("bom", '\ufeff{"a":1}'),
]
for name, data in fast:
    put("fuzz_json_fast", name, data)

# ---- mapping: presets, --fields specs, answers of every shape
maps = [
    ("exam", "exam\n" + fixture("exam_choose.json").decode()),
    ("exam-items", "exam\n" + fixture("exam_items.jsonl").decode()),
    ("alpaca", "alpaca\n" + fixture("alpaca.json").decode()),
    ("sharegpt", "sharegpt\n" + fixture("sharegpt.jsonl").decode()),
    ("messages", "messages\n" + fixture("messages.jsonl").decode()),
    ("fields-custom", "fields stem=q.title+q.body,options=opts,answer=ans,explanation=why,image=pic\n"
     + fixture("custom.json").decode()),
    ("fields-bad-spec", "fields stem=,options==x,answer\n[{\"a\":1}]"),
    ("fields-unknown-role", "fields colour=q\n[{\"q\":\"x\"}]"),
    ("fields-deep-path", "fields stem=a.b.c.d.e.f\n[{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":\"x\"}}}}}}]"),
    ("auto-ambiguous", "auto\n[{\"question\":\"q\",\"instruction\":\"i\",\"output\":\"o\"}]"),
]
answers = ["A", "a", "AB", "A,C,D", "A、C", "Z", "对", "错", "正确", "×", "√", "2", "0", "27", "", " B ",
           "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "true", "false", 1, 3.5, True, None, ["A", "B"], {"x": 1}]
for i, a in enumerate(answers):
    rec1 = {"question": "题目%d" % i, "options": ["A、甲", "B．乙", "C) 丙", "(D) 丁"], "answer": a}
    maps.append(("answer-%02d" % i, "exam\n" + json.dumps([rec1], ensure_ascii=False)))
maps.append(("options-27", "exam\n" + json.dumps([{"question": "q", "options": ["o%d" % i for i in range(27)],
                                                   "answer": "A"}])))
maps.append(("options-string", "exam\n" + json.dumps([{"question": "q", "options": "A. 甲\nB. 乙\nC. 丙",
                                                       "answer": "C"}], ensure_ascii=False)))
maps.append(("items", "auto\n" + json.dumps([{"question": "q", "item1": "x", "item2": "y", "item3": "z",
                                              "answer": "3"}])))
maps.append(("abcd", "auto\n" + json.dumps([{"question": "q", "a": "x", "b": "y", "c": "z", "d": "w",
                                             "answer": "D"}])))
maps.append(("judge-type", "auto\n" + json.dumps([{"question": "q", "type": "判断题", "answer": "A",
                                                   "options": ["对", "错"]}], ensure_ascii=False)))
maps.append(("sharegpt-odd", "sharegpt\n" + json.dumps([{"conversations": [{"from": "human", "value": "x"},
                                                                            {"from": "gpt"}, {"value": 1}, 5]}])))
maps.append(("messages-odd", "messages\n" + json.dumps([{"messages": [{"role": "system", "content": ""},
                                                                      {"role": "user", "content": [{"type": "text", "text": "x"}]},
                                                                      {"role": "assistant", "content": None}]}])))
maps.append(("alpaca-history", "alpaca\n" + json.dumps([{"instruction": "i", "input": "", "output": "o",
                                                         "history": [["a", "b"], ["c"], "d"]}])))
for name, data in maps:
    put("fuzz_mapping", name, data)

# ---- normalize: option byte + text
D = bytes([1 | 2 | 4 | 8 | 32])
texts = [
    "12、下列哪个是正确的？<br/>A、五十米 B．百分之三十",
    "【单选题】第十二题：驾驶机动车在高速公路上，时速不得超过１２０公里。",
    "<p>速度<50 &amp; &#x4e00; &#19968; &nbsp;&lt;b&gt;</p><script>x</script><!-- c -->",
    "(多选) 1.2. 一百零五 两万五 三点五 1.5万 2023年 10:30 1,000 0.50 007 3.0",
    "Don't do it. It's not allowed; No. 5 is never forbidden",
    "三分之一 千分之五 5‰ 1/3 ≤ ≥ %",
    "一定 一般 统一 唯一 千万 百姓 陆地 一点五",
    "ＡＢＣ ｶﾀｶﾅ ß \u200b\ufeff",
    "駕駛機動車 \\n\\t literal escapes",
    "", " ", "&#0; &#xD800; &#x110000; &#99999999999;", "<" * 50, "第" * 30 + "题",
    "1" * 40, "一" * 40, "九千九百九十九亿亿亿",
]
for i, t in enumerate(texts):
    put("fuzz_normalize", "default-%02d" % i, D + t.encode())
    put("fuzz_normalize", "t2s-%02d" % i, bytes([63]) + t.encode())
    put("fuzz_normalize", "raw-%02d" % i, bytes([0]) + t.encode())
put("fuzz_normalize", "bad-utf8", D + b"abc\xff")
put("fuzz_normalize", "nul", D + b"a\x00b")
put("fuzz_normalize", "truncated-seq", D + b"\xe4\xb8")

# ---- vectors: .npy f4/f2, .fvecs, broken headers
def npy(descr, shape, payload, fortran=False, version=1):
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, "True" if fortran else "False", shape)
    pre = 10 if version == 1 else 12
    pad = (64 - (pre + len(h) + 1) % 64) % 64
    h = h + " " * pad + "\n"
    hl = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([version, 0]) + hl + h.encode() + payload

f4 = struct.pack("<6f", 1, 0, 0, 0.6, 0.8, 0)
put("fuzz_vectors", "npy-f4", npy("<f4", "(2, 3)", f4))
put("fuzz_vectors", "npy-v2", npy("<f4", "(2, 3)", f4, version=2))
put("fuzz_vectors", "npy-v3", npy("<f4", "(2, 3)", f4, version=3))
put("fuzz_vectors", "npy-f2", npy("<f2", "(2, 3)", struct.pack("<6e", 1, 0, 0, 0.6, 0.8, 0)))
put("fuzz_vectors", "npy-fortran", npy("<f4", "(2, 3)", f4, fortran=True))
put("fuzz_vectors", "npy-3d", npy("<f4", "(1, 2, 3)", f4))
put("fuzz_vectors", "npy-1d", npy("<f4", "(6,)", f4))
put("fuzz_vectors", "npy-f8", npy("<f8", "(1, 3)", struct.pack("<3d", 1, 0, 0)))
put("fuzz_vectors", "npy-big-shape", npy("<f4", "(4611686018427387904, 4)", f4))
put("fuzz_vectors", "npy-zero-shape", npy("<f4", "(0, 3)", b""))
put("fuzz_vectors", "npy-truncated", npy("<f4", "(2, 3)", f4[:10]))
put("fuzz_vectors", "npy-nan", npy("<f4", "(2, 3)", struct.pack("<6f", float("nan"), 0, 0, 0, 0, 0)))
put("fuzz_vectors", "npy-header-garbage", b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'\n")
put("fuzz_vectors", "fvecs", struct.pack("<i3f", 3, 1, 0, 0) + struct.pack("<i3f", 3, 0, 1, 0))
put("fuzz_vectors", "fvecs-ragged", struct.pack("<i3f", 3, 1, 0, 0) + struct.pack("<i2f", 2, 0, 1))
put("fuzz_vectors", "fvecs-negative-d", struct.pack("<i", -3) + b"\0" * 12)
put("fuzz_vectors", "fvecs-huge-d", struct.pack("<i", 0x7fffffff) + b"\0" * 12)
put("fuzz_vectors", "fvecs-truncated", struct.pack("<i3f", 3, 1, 0, 0)[:9])
put("fuzz_vectors", "empty", b"")

# ---- gates
put("fuzz_gates", "fixture-gates", fixture("validate/gates.json"))
for n in ["gates_bad_threshold", "gates_negative", "gates_not_json", "gates_text_threshold", "gates_unknown_check"]:
    put("fuzz_gates", n, fixture("validate/%s.json" % n))
put("fuzz_gates", "override", "residual_near_rate=0.01\n" + json.dumps(
    {"schema": "neardup.gates/1", "gates": {"html_residue": "off", "parse_errors": {"warn": None, "fail": 0}}}))
put("fuzz_gates", "override-off", "html_residue=off\n{}")
put("fuzz_gates", "warn-above-fail", json.dumps({"schema": "neardup.gates/1",
                                                 "gates": {"residual_near_rate": {"warn": 0.5, "fail": 0.1}}}))
put("fuzz_gates", "wrong-schema", json.dumps({"schema": "neardup.gates/2", "gates": {}}))
put("fuzz_gates", "unknown-member", json.dumps({"schema": "neardup.gates/1", "gates": {}, "extra": 1}))
put("fuzz_gates", "gates-not-object", json.dumps({"schema": "neardup.gates/1", "gates": [1, 2]}))
put("fuzz_gates", "huge-number", '{"schema":"neardup.gates/1","gates":{"residual_near_rate":{"fail":1e999}}}')
put("fuzz_gates", "empty", "")

# ---- report: dedup reports of the target's in.json, a validation as baseline
in_json = ('[{"question":"a b c d e","answer":"对"},{"question":"a b c d e","answer":"对"},'
           '{"question":"x y z","answer":"错"}]')
tmp = tempfile.mkdtemp()
try:
    with open(os.path.join(tmp, "in.json"), "w") as f:
        f.write(in_json)
    dedup = os.path.join(build, "dedup")
    validate = os.path.join(build, "validate")
    subprocess.run([dedup, "-q", "in.json", "-o", "out.json", "--report", "report.json", "--removed", "removed.jsonl"],
                   cwd=tmp, check=True)
    subprocess.run([dedup, "-q", "in.json", "--dry-run", "--report", "dry.json"], cwd=tmp, check=True)
    subprocess.run([validate, "-q", "in.json", "--json", "validation.json"], cwd=tmp, stdout=subprocess.DEVNULL)
    with open(os.path.join(tmp, "out.json")) as f:
        out = f.read()
    expect = '[{"question":"a b c d e","answer":"对"},{"question":"x y z","answer":"错"}]'
    if out != expect:
        sys.exit("make_seeds: dedup output changed: update out_json in fuzz_report.c:\n" + out)
    for n in ["report.json", "dry.json", "validation.json"]:
        with open(os.path.join(tmp, n), "rb") as f:
            data = f.read()
        put("fuzz_report", n, data)
        put("fuzz_report", "truncated-" + n, data[: len(data) // 2])
    rep = json.load(open(os.path.join(tmp, "report.json")))
    rep["input"]["sha256"] = "0" * 64
    put("fuzz_report", "stale-sha", json.dumps(rep))
    rep = json.load(open(os.path.join(tmp, "report.json")))
    rep["output"]["records"] = 7
    put("fuzz_report", "wrong-count", json.dumps(rep))
    rep = json.load(open(os.path.join(tmp, "report.json")))
    rep["input"]["path"] = "missing.json"
    put("fuzz_report", "missing-input", json.dumps(rep))
    rep = json.load(open(os.path.join(tmp, "report.json")))
    rep["schema"] = "neardup.report/9"
    put("fuzz_report", "wrong-schema", json.dumps(rep))
finally:
    shutil.rmtree(tmp)
put("fuzz_report", "empty", "")
put("fuzz_report", "baseline-min", json.dumps({"schema": "neardup.validation/1", "records": 10, "checks": [
    {"id": "residual_near_rate", "value": 0.5, "status": "fail"}, {"id": "html_residue", "status": "warn"}]}))
put("fuzz_report", "baseline-huge-records", '{"schema":"neardup.validation/1","records":1e300,"checks":[]}')

# ---- HTTP replies: byte 0 = batch (count-1 | first << 3), byte 1 = dimension state
def reply(obj):
    return json.dumps(obj).encode()
ok2 = reply({"object": "list", "data": [{"index": 0, "embedding": [1, 0, 0]}, {"index": 1, "embedding": [0, 1, 0]}]})
put("fuzz_http_reply", "ok-2", bytes([1, 0]) + ok2)
put("fuzz_http_reply", "ok-2-dim3", bytes([1, 1]) + ok2)
put("fuzz_http_reply", "ok-2-known-dim", bytes([1 | 8, 2 | 4]) + ok2)
put("fuzz_http_reply", "dim-mismatch", bytes([1, 2]) + ok2)
put("fuzz_http_reply", "no-index", bytes([1, 0]) + reply({"data": [{"embedding": [1, 2]}, {"embedding": [3, 4]}]}))
put("fuzz_http_reply", "reversed", bytes([1, 0]) + reply({"data": [{"index": 1, "embedding": [1, 2]},
                                                                   {"index": 0, "embedding": [3, 4]}]}))
put("fuzz_http_reply", "index-twice", bytes([1, 0]) + reply({"data": [{"index": 0, "embedding": [1]},
                                                                      {"index": 0, "embedding": [2]}]}))
put("fuzz_http_reply", "index-frac", bytes([0, 0]) + reply({"data": [{"index": 0.5, "embedding": [1]}]}))
put("fuzz_http_reply", "index-neg", bytes([0, 0]) + reply({"data": [{"index": -1, "embedding": [1]}]}))
put("fuzz_http_reply", "base64", bytes([0, 0]) + reply({"data": [{"index": 0, "embedding": "AAAA"}]}))
put("fuzz_http_reply", "ragged", bytes([1, 0]) + reply({"data": [{"embedding": [1, 2]}, {"embedding": [3]}]}))
put("fuzz_http_reply", "non-number", bytes([0, 0]) + reply({"data": [{"embedding": [1, "x"]}]}))
put("fuzz_http_reply", "empty-embedding", bytes([0, 0]) + reply({"data": [{"embedding": []}]}))
put("fuzz_http_reply", "too-few", bytes([2, 0]) + ok2)
put("fuzz_http_reply", "error-object", bytes([0, 0]) + reply({"error": {"message": "model not found"}}))
put("fuzz_http_reply", "html", bytes([0, 0]) + b"<html><body>502 Bad Gateway</body></html>")
put("fuzz_http_reply", "empty-body", bytes([0, 0]))
put("fuzz_http_reply", "truncated", bytes([1, 0]) + ok2[: len(ok2) // 2])
put("fuzz_http_reply", "huge-values", bytes([0, 0]) + b'{"data":[{"embedding":[1e300,-1e300,1e-300]}]}')
