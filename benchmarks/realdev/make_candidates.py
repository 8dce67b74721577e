#!/usr/bin/env python3
"""Generate and stratify candidate near-duplicate pairs for the realdev set.

Reads the two real exam banks (never copied into the repo; default location
../shared/data beside the checkout), indexes them the way build_combined.py
does (Rosersn 0..1589, then TRLLM 1590..), computes difflib character
similarity of normalised stems (punctuation and whitespace stripped) and of
the option sets, and selects a seeded, deterministic, stratified sample of
pairs:

  * cross-bank pairs (Rosersn vs TRLLM): for every TRLLM record its 3 most
    similar Rosersn stems (ratio >= 0.5), so that true twins AND their
    nearest non-twins (hard negatives) are in the pool;
  * within-Rosersn pairs: identical generic image stems ("这个标志是何含义？"
    and friends, different images/options) and near-identical stems;
  * a few within-TRLLM near-identical stems.

Each stratum is split into similarity bands (stem ratio 1.0, >=0.95,
0.90-0.95, 0.80-0.90, 0.70-0.80, 0.50-0.70).  Inside a band, half of the quota
is drawn from "tricky" pairs (the stems differ in a digit, a negation word or a
known antonym pair such as 左/右 or 加速/减速, or the option sets / answers
differ, or only one side has an image) and the rest at random.

Output (--out, default stdout): JSON Lines {"a", "b", "stratum", "band",
"stem_ratio", "opt_ratio", "same_options", "same_answer", "tags"} with no
question text.  --show A:B prints selected pairs A..B-1 in full, for judging
(to the terminal only; do not commit that output).
"""
import argparse
import collections
import difflib
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True      # no __pycache__ next to the committed files
sys.path.insert(0, HERE)
from build_combined import DEFAULT_DATA, load_banks  # noqa: E402

SEED = 20260228
BANDS = [(1.0, 1.01, "1.00"), (0.95, 1.0, "0.95-1"), (0.90, 0.95, "0.90-0.95"),
         (0.80, 0.90, "0.80-0.90"), (0.70, 0.80, "0.70-0.80"), (0.50, 0.70, "0.50-0.70")]
# per-stratum quotas per band (same order as BANDS)
QUOTA = {
    "cross":   [30, 60, 55, 55, 45, 40],
    "ros-ros": [40, 8, 8, 10, 8, 6],
    "trl-trl": [10, 6, 6, 4, 2, 2],
}
NEG_CHARS = set("不没未无非禁勿否")
SWAPS = [("左", "右"), ("加速", "减速"), ("前", "后"), ("上", "下"), ("远", "近"), ("内", "外"),
         ("以上", "以下"), ("可以", "不得"), ("高", "低"), ("快", "慢"), ("大", "小"),
         ("增", "减"), ("开启", "关闭"), ("先", "后"), ("进", "出"), ("宽", "窄"),
         ("长", "短"), ("多", "少"), ("重", "轻"), ("直行", "转弯"), ("升", "降")]
JUDGE_OPTS = ["正确", "错误"]
GENERIC_SIGN = "这个标志是何含义"

_nonword = re.compile(r"[\W_]+", re.UNICODE)
_letter = re.compile(r"(?:^|(?<=\s))([A-F])、")


def norm(s):
    return _nonword.sub("", s or "")


def parse_choose(choose):
    """TRLLM 'choose' ("A、x \\n\\nB、y" with LITERAL backslash-n) -> list of option texts."""
    s = (choose or "").replace("\\n", "\n")
    s = re.sub(r"!\[\]\([^)]*\)", " ", s)          # embedded markdown images
    parts = _letter.split(s)
    opts = []
    # parts = [pre, 'A', textA, 'B', textB, ...]
    for k in range(1, len(parts) - 1, 2):
        opts.append(parts[k + 1].strip())
    return opts


def view(rec, bank):
    """Uniform view: stem, option texts, answer texts (list), image, kind."""
    if bank == "ros":
        if rec["type"] == "judge" or not rec.get("options"):
            opts = list(JUDGE_OPTS)
            ans = ["正确"] if rec["answer"] == "对" else ["错误"] if rec["answer"] == "错" else [rec["answer"]]
        else:
            opts = [re.sub(r"^[A-F]、", "", o).strip() for o in rec["options"]]
            ans = [opts[ord(c) - 65] if 0 <= ord(c) - 65 < len(opts) else c
                   for c in rec["answer"].replace(",", "")]
        return {"stem": rec["question"], "opts": opts, "ans": ans, "img": rec.get("image"),
                "letters": rec["answer"], "type": rec["type"]}
    opts = parse_choose(rec["choose"])
    ans = [opts[ord(c) - 65] if 0 <= ord(c) - 65 < len(opts) else c for c in rec["answer"]]
    img = re.findall(r"!\[\]\(([^)]*)\)", rec["choose"] + rec["question"])
    return {"stem": rec["question"], "opts": opts, "ans": ans, "img": img[0] if img else None,
            "letters": rec["answer"], "type": "multi" if len(rec["answer"]) > 1 else
            ("judge" if [norm(o) for o in opts[:2]] == JUDGE_OPTS else "single"),
            "raw_choose": rec["choose"]}


def optkey(v):
    return "|".join(sorted(norm(o) for o in v["opts"]))


def anskey(v):
    return "|".join(sorted(norm(a) for a in v["ans"]))


def ratio(a, b):
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def diff_tags(sa, sb):
    """Cheap tags describing where two normalised stems differ."""
    tags = set()
    sm = difflib.SequenceMatcher(None, sa, sb, autojunk=False)
    changed_a, changed_b = [], []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op != "equal":
            changed_a.append(sa[i1:i2])
            changed_b.append(sb[j1:j2])
    da, db = "".join(changed_a), "".join(changed_b)
    digits = re.compile(r"[0-9零一二三四五六七八九十百千]")
    if digits.search(da) or digits.search(db):
        tags.add("digit")
    if (set(da) | set(db)) & NEG_CHARS:
        tags.add("neg")
    for x, y in SWAPS:
        if (x in da and y in db) or (y in da and x in db):
            tags.add("swap")
    return tags


def best_matches(stems_a, stems_b, k, lo, same=False):
    """For every b, the k most similar a (ratio >= lo). Yields (ia, ib, ratio)."""
    for ib, sb in enumerate(stems_b):
        sm = difflib.SequenceMatcher(None, autojunk=False)
        sm.set_seq2(sb)
        scored = []
        for ia, sa in enumerate(stems_a):
            if same and ia >= ib:
                break
            sm.set_seq1(sa)
            if sm.real_quick_ratio() < lo or sm.quick_ratio() < lo:
                continue
            r = sm.ratio()
            if r >= lo:
                scored.append((r, ia))
        scored.sort(key=lambda t: (-t[0], t[1]))
        for r, ia in scored[:k]:
            yield ia, ib, r


def build_pool(ros, trl):
    R = [view(r, "ros") for r in ros]
    T = [view(t, "trl") for t in trl]
    V = R + T
    off = len(R)
    rs = [norm(v["stem"]) for v in R]
    ts = [norm(v["stem"]) for v in T]
    pool = {}

    def add(a, b, stratum, r):
        a, b = min(a, b), max(a, b)
        if (a, b) in pool:
            return
        va, vb = V[a], V[b]
        sa, sb = norm(va["stem"]), norm(vb["stem"])
        tags = diff_tags(sa, sb)
        same_opt = optkey(va) == optkey(vb)
        same_ans = anskey(va) == anskey(vb)
        if not same_opt:
            tags.add("opts")
        if not same_ans:
            tags.add("answer")
        if bool(va["img"]) != bool(vb["img"]):
            tags.add("img-one-side")
        elif va["img"] and vb["img"] and va["img"] != vb["img"]:
            tags.add("img-differ")
        elif va["img"] and va["img"] == vb["img"]:
            tags.add("img-same")
        pool[(a, b)] = {"a": a, "b": b, "stratum": stratum, "stem_key": sa if sa == sb else "", "stem_ratio": round(r, 4),
                        "opt_ratio": round(ratio(optkey(va), optkey(vb)), 4),
                        "same_options": same_opt, "same_answer": same_ans, "tags": sorted(tags)}

    # cross-bank: top-3 Rosersn stems for every TRLLM stem
    for ia, ib, r in best_matches(rs, ts, 3, 0.5):
        add(ia, off + ib, "cross", r)
    # within Rosersn: identical stems (all pairs of each group) + top-2 near stems
    groups = collections.defaultdict(list)
    for i, s in enumerate(rs):
        groups[s].append(i)
    for s, idx in groups.items():
        for x in range(len(idx)):
            for y in range(x + 1, len(idx)):
                add(idx[x], idx[y], "ros-ros", 1.0)
    for ia, ib, r in best_matches(rs, rs, 2, 0.5, same=True):
        if r < 1.0:
            add(ia, ib, "ros-ros", r)
    # within TRLLM: top-1 near stem
    for ia, ib, r in best_matches(ts, ts, 1, 0.5, same=True):
        add(off + ia, off + ib, "trl-trl", r)
    return V, pool


def band_of(r):
    for lo, hi, name in BANDS:
        if lo <= r < hi:
            return name
    return None


def select_identical_stems(cands, q, rng):
    """Within-Rosersn identical stems: 17k of them are pairs of the generic sign
    stem.  Take 3/8 of the quota from that group (same-image pairs first) and
    the rest round-robin over the other identical-stem groups."""
    groups = collections.defaultdict(list)
    for p in cands:
        groups[p["stem_key"]].append(p)
    sign = groups.pop(GENERIC_SIGN, [])
    n_sign = min(len(sign), q * 3 // 8)
    same_img = [p for p in sign if "img-same" in p["tags"]]
    pick = same_img[:n_sign]
    rest = [p for p in sign if p not in pick]
    pick += rng.sample(rest, n_sign - len(pick))
    keys = sorted(groups)
    rng.shuffle(keys)
    for k in keys:
        rng.shuffle(groups[k])
    while len(pick) < q and any(groups.values()):
        for k in keys:
            if groups[k] and len(pick) < q:
                pick.append(groups[k].pop())
    return pick


def select(pool):
    rng = random.Random(SEED)
    by = collections.defaultdict(list)
    for key in sorted(pool):
        p = pool[key]
        b = band_of(p["stem_ratio"])
        if b:
            by[(p["stratum"], b)].append(p)
    chosen = []
    for stratum, quotas in QUOTA.items():
        for (lo, hi, bname), q in zip(BANDS, quotas):
            cands = by.get((stratum, bname), [])
            if stratum == "ros-ros" and bname == "1.00":
                pick = select_identical_stems(cands, q, rng)
                for p in sorted(pick, key=lambda p: (p["a"], p["b"])):
                    chosen.append(dict(p, band=bname))
                continue
            tricky = [p for p in cands if p["tags"]]
            plain = [p for p in cands if not p["tags"]]
            n_tricky = min(len(tricky), (q + 1) // 2)
            pick = rng.sample(tricky, n_tricky)
            rest = [p for p in cands if p not in pick]
            pick += rng.sample(rest, min(len(rest), q - n_tricky))
            for p in sorted(pick, key=lambda p: (p["a"], p["b"])):
                chosen.append(dict(p, band=bname))
    for p in chosen:
        p.pop("stem_key", None)
    return chosen


def show(V, pairs, start, end):
    def fmt(i):
        v = V[i]
        src = "ros" if i < 1590 else "trl"
        out = [f"  [{i} {src} {v['type']}] {v['stem']}"]
        if v["type"] != "judge":
            out.append("     opts: " + " | ".join(v["opts"]))
        out.append(f"     ans: {v['letters']} -> {' / '.join(v['ans'])}   img: {v['img']}")
        return "\n".join(out)
    for n in range(start, min(end, len(pairs))):
        p = pairs[n]
        print(f"#{n} {p['stratum']} band={p['band']} stem={p['stem_ratio']} opt={p['opt_ratio']} "
              f"tags={','.join(p['tags'])}")
        print(fmt(p["a"]))
        print(fmt(p["b"]))
        print()


def summarise_labels(pairs, path):
    with open(path, encoding="utf-8") as f:
        labels = [json.loads(line) for line in f if line.strip()]
    sel = {(p["a"], p["b"]): p for p in pairs}
    lab = {(x["a"], x["b"]): x for x in labels}
    missing, extra = set(sel) - set(lab), set(lab) - set(sel)
    if missing or extra:
        print(f"labels do not match the selection: {len(missing)} unlabelled, {len(extra)} extra",
              file=sys.stderr)
    by_band = collections.defaultdict(lambda: [0, 0])
    for key, p in sel.items():
        if key in lab:
            by_band[(p["stratum"], p["band"])][0 if lab[key]["dup"] else 1] += 1
    print("stratum  band        dup  not-dup")
    for stratum in QUOTA:
        for _, _, bname in BANDS:
            if (stratum, bname) in by_band:
                d, n = by_band[(stratum, bname)]
                print(f"{stratum:8} {bname:10} {d:4} {n:8}")
    kinds = collections.Counter((x["kind"], x["dup"], x.get("conflict", False)) for x in labels)
    print("\nkind        dup    conflict  count")
    for (k, d, c), n in sorted(kinds.items(), key=lambda t: (-t[1], t[0])):
        print(f"{k:11} {str(d):6} {str(c):9} {n}")
    print(f"\n{len(labels)} labels, {sum(x['dup'] for x in labels)} dup, "
          f"{sum(bool(x.get('conflict')) for x in labels)} conflict")
    return 1 if (missing or extra) else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=os.environ.get("NEARDUP_SHARED_DATA", DEFAULT_DATA))
    ap.add_argument("--out", help="write selected pairs (JSON Lines, no text) here; default stdout")
    ap.add_argument("--pool-stats", action="store_true", help="print pool sizes per stratum/band")
    ap.add_argument("--show", metavar="A:B", help="print selected pairs A..B-1 in full for judging")
    ap.add_argument("--labels", metavar="LABELS",
                    help="check LABELS (labels.jsonl) against the selection and print counts "
                         "per stratum/band and per kind")
    args = ap.parse_args(argv)

    ros, trl = load_banks(args.data_dir)
    V, pool = build_pool(ros, trl)
    pairs = select(pool)
    if args.pool_stats:
        c = collections.Counter((p["stratum"], band_of(p["stem_ratio"])) for p in pool.values())
        for k in sorted(c, key=str):
            print(k, c[k], file=sys.stderr)
    if args.labels:
        return summarise_labels(pairs, args.labels)
    if args.show:
        a, b = (int(x) for x in args.show.split(":"))
        show(V, pairs, a, b)
        return 0
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    for p in pairs:
        out.write(json.dumps(p, ensure_ascii=False, sort_keys=True) + "\n")
    if args.out:
        out.close()
    print(f"make_candidates: {len(pool)} pairs in pool, {len(pairs)} selected", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
