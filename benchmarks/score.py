#!/usr/bin/env python3
"""Score a neardup dedup report against gold labels.

Cluster mode (labels from gen_corpus.py):
    score.py --labels labels.json --report report.json [--json] [--out FILE]
             [--min-f1 X] [--min-precision X] [--min-recall X] [--max-hardneg-merge-rate X]

Pairs mode (hand-labelled pairs, e.g. the real-data dev set):
    score.py --pairs --gold-pairs pairs.jsonl --report report.json [--json]
    pairs.jsonl: one {"a": i, "b": j, "dup": true|false [, "kind": "..."]} per line.

The report:  {"clusters": [{"kept": i, "members": [{"index": i, "similarity": x,
              "pass": "..."}, ...]}, ...], "variants": [{"a", "b", "reason"}],
              "conflicts": [{"a", "b", ...}]}
Records in no cluster are singletons.  Pairwise precision/recall/F1 are computed
from cluster-size arithmetic over the gold x predicted contingency table (no pair
enumeration), so 1M records score in seconds.

Exit status: 0, 1 when a --min-*/--max-* threshold is not met, 2 on bad input.
"""
import argparse
import json
import signal
import sys
from collections import Counter, defaultdict


def c2(n):
    return n * (n - 1) // 2


def die(msg):
    sys.stderr.write("score: %s\n" % msg)
    sys.exit(2)


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        die("cannot read %s %s: %s" % (what, path, e))
    except ValueError as e:
        die("%s %s is not valid JSON: %s" % (what, path, e))


def member_index(m):
    if isinstance(m, dict):
        return m.get("index")
    return m


def read_report(rep, n):
    """-> (pred list with -1 for singletons or dict when n is None, problems dict)."""
    if not isinstance(rep, dict) or not isinstance(rep.get("clusters", []), list):
        die("report has no \"clusters\" list")
    probs = Counter()
    pred = [-1] * n if n is not None else {}

    def get(i):
        return pred[i] if n is not None else pred.get(i, -1)

    nclusters = 0
    for ci, c in enumerate(rep.get("clusters", [])):
        if not isinstance(c, dict):
            probs["cluster is not an object"] += 1
            continue
        nclusters += 1
        idxs = []
        for m in c.get("members", []):
            i = member_index(m)
            if not isinstance(i, int) or isinstance(i, bool):
                probs["member without an integer index"] += 1
                continue
            idxs.append(i)
        kept = c.get("kept")
        if isinstance(kept, int) and not isinstance(kept, bool):
            if kept not in idxs:
                probs["kept record not among members (added)"] += 1
                idxs.append(kept)
        elif kept is not None:
            probs["kept is not an integer"] += 1
        seen = set()
        for i in idxs:
            if i in seen:
                probs["record listed twice in one cluster"] += 1
                continue
            seen.add(i)
            if n is not None and not 0 <= i < n:
                probs["index out of range"] += 1
                continue
            if get(i) != -1:
                probs["record in more than one cluster (first kept)"] += 1
                continue
            pred[i] = ci
    return pred, probs, nclusters


def pair_set(lst):
    s = set()
    for p in lst or []:
        if isinstance(p, dict) and isinstance(p.get("a"), int) and isinstance(p.get("b"), int):
            a, b = p["a"], p["b"]
            s.add((a, b) if a < b else (b, a))
    return s


def ratio(a, b, empty=1.0):
    return a / b if b else empty


def f1(p, r):
    return 2 * p * r / (p + r) if p + r else 0.0


# ---------------------------------------------------------------------- cluster mode
def score_clusters(labels, rep, max_enum=64):
    gold = labels.get("cluster")
    if not isinstance(gold, list):
        die("labels have no \"cluster\" list")
    n = len(gold)
    pred, probs, npc = read_report(rep, n)

    gsize = Counter(gold)
    gold_pairs = sum(c2(s) for s in gsize.values())
    cont = Counter()
    psize = Counter()
    for i in range(n):
        p = pred[i]
        if p >= 0:
            cont[(gold[i], p)] += 1
            psize[p] += 1
    pred_pairs = sum(c2(s) for s in psize.values())
    tp = sum(c2(s) for s in cont.values())
    P = ratio(tp, pred_pairs)
    R = ratio(tp, gold_pairs)
    # B-cubed (singletons contribute 1/1 to precision and 1/|g| to recall)
    b3p = b3r = 0.0
    clustered = 0
    for (g, p), k in cont.items():
        b3p += k * k / psize[p]
        b3r += k * k / gsize[g]
        clustered += k
    for i in range(n):
        if pred[i] < 0:
            b3p += 1.0
            b3r += 1.0 / gsize[gold[i]]
    b3p /= n or 1
    b3r /= n or 1

    def same(a, b):
        return pred[a] >= 0 and pred[a] == pred[b]

    out = {
        "mode": "clusters",
        "records": n,
        "gold_clusters": len(gsize),
        "predicted_clusters": npc,
        "records_in_predicted_clusters": clustered,
        "pairs": {"gold": gold_pairs, "predicted": pred_pairs, "true_positive": tp,
                  "false_positive": pred_pairs - tp, "false_negative": gold_pairs - tp,
                  "precision": P, "recall": R, "f1": f1(P, R)},
        "bcubed": {"precision": b3p, "recall": b3r, "f1": f1(b3p, b3r)},
        "report_problems": dict(probs),
    }

    # hard negatives
    variants = pair_set(rep.get("variants"))
    hk = {}
    for h in labels.get("hard_negatives", []):
        a, b, k = h["a"], h["b"], h.get("kind", "?")
        d = hk.setdefault(k, {"pairs": 0, "merged": 0, "flagged_variant": 0})
        d["pairs"] += 1
        if same(a, b):
            d["merged"] += 1
        if ((a, b) if a < b else (b, a)) in variants:
            d["flagged_variant"] += 1
    tot = {"pairs": 0, "merged": 0, "flagged_variant": 0}
    for d in hk.values():
        d["merge_rate"] = ratio(d["merged"], d["pairs"], 0.0)
        for key in tot:
            tot[key] += d[key]
    tot["merge_rate"] = ratio(tot["merged"], tot["pairs"], 0.0)
    out["hard_negatives"] = {"by_kind": dict(sorted(hk.items())), "total": tot}

    # conflicts
    gconf = labels.get("conflicts", [])
    rconf = pair_set(rep.get("conflicts"))
    conf_records = {c["b"] for c in gconf}
    reported = merged = 0
    for c in gconf:
        a, b = c["a"], c["b"]
        if ((a, b) if a < b else (b, a)) in rconf:
            reported += 1
        elif same(a, b):
            merged += 1
    good_reports = 0
    for a, b in rconf:
        if 0 <= a < n and 0 <= b < n and gold[a] == gold[b] and \
                ((a in conf_records) != (b in conf_records)):
            good_reports += 1
    out["conflicts"] = {
        "gold": len(gconf), "reported": reported, "merged_not_reported": merged,
        "recall": ratio(reported + merged, len(gconf)),
        "recall_reported": ratio(reported, len(gconf)),
        "report_conflicts": len(rconf), "report_conflicts_correct": good_reports,
        "precision": ratio(good_reports, len(rconf)),
    }

    # missed gold pairs by variant kind (gold clusters are small: enumerate them)
    kinds = labels.get("kinds")
    if isinstance(kinds, dict):
        members = defaultdict(list)
        for i, g in enumerate(gold):
            if gsize[g] > 1:
                members[g].append(i)
        kk = {}
        big = 0
        kcache = {}

        def kset(i):
            s = kcache.get(i)
            if s is None:
                v = kinds.get(str(i), "")
                s = kcache[i] = frozenset(x for x in v.split(",") if x and x != "hn")
            return s

        for g, ms in members.items():
            if len(ms) > max_enum:
                big += 1
                continue
            for x in range(len(ms)):
                i = ms[x]
                ki = kset(i)
                for y in range(x + 1, len(ms)):
                    j = ms[y]
                    u = ki | kset(j)
                    miss = not same(i, j)
                    for k in u:
                        d = kk.get(k)
                        if d is None:
                            d = kk[k] = [0, 0, 0, 0]
                        d[0] += 1
                        d[1] += miss
                        if len(u) == 1:
                            d[2] += 1
                            d[3] += miss
        out["missed_by_variant_kind"] = {
            k: {"pairs": d[0], "missed": d[1], "miss_rate": ratio(d[1], d[0], 0.0),
                "pairs_only_this_kind": d[2], "missed_only_this_kind": d[3]}
            for k, d in sorted(kk.items(), key=lambda kv: (-kv[1][1], kv[0]))}
        if big:
            out["missed_by_variant_kind_skipped_clusters"] = big
    return out


# ------------------------------------------------------------------------ pairs mode
def score_pairs(path, rep, n=None):
    pred, probs, npc = read_report(rep, n)

    def same(a, b):
        if n is None:
            pa = pred.get(a, -1)
            return pa >= 0 and pa == pred.get(b, -1)
        return 0 <= a < n and 0 <= b < n and pred[a] >= 0 and pred[a] == pred[b]

    cm = Counter()
    byk = defaultdict(Counter)
    bad = 0
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        die("cannot read gold pairs %s: %s" % (path, e))
    with f:
        for ln, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                d = json.loads(line)
                a, b, dup = d["a"], d["b"], bool(d["dup"])
                if not isinstance(a, int) or not isinstance(b, int):
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                bad += 1
                continue
            s = same(a, b)
            cell = ("tp" if s else "fn") if dup else ("fp" if s else "tn")
            cm[cell] += 1
            if "kind" in d:
                byk[str(d["kind"])][cell] += 1

    def metrics(c):
        P = ratio(c["tp"], c["tp"] + c["fp"])
        R = ratio(c["tp"], c["tp"] + c["fn"])
        tot = sum(c[k] for k in ("tp", "fp", "fn", "tn"))
        return {"pairs": tot, "dup_pairs": c["tp"] + c["fn"], "tp": c["tp"], "fp": c["fp"],
                "fn": c["fn"], "tn": c["tn"], "precision": P, "recall": R, "f1": f1(P, R),
                "accuracy": ratio(c["tp"] + c["tn"], tot)}

    out = {"mode": "pairs", "predicted_clusters": npc, "report_problems": dict(probs),
           "bad_lines": bad, "pairs": metrics(cm)}
    if byk:
        out["by_kind"] = {k: metrics(c) for k, c in sorted(byk.items())}
    return out


# --------------------------------------------------------------------------- output
def pct(x):
    return "%6.2f%%" % (100.0 * x)


def print_table(r, f=sys.stdout):
    w = f.write
    p = r["pairs"]
    if r["mode"] == "pairs":
        w("pairs scored      %d (%d duplicates), bad lines %d\n" % (p["pairs"], p["dup_pairs"],
                                                                 r["bad_lines"]))
        w("precision %s  recall %s  F1 %s  accuracy %s\n" % (
            pct(p["precision"]), pct(p["recall"]), pct(p["f1"]), pct(p["accuracy"])))
        w("tp %d  fp %d  fn %d  tn %d\n" % (p["tp"], p["fp"], p["fn"], p["tn"]))
        if "by_kind" in r:
            w("\n%-20s %7s %7s %6s %6s %8s %8s\n" % ("kind", "pairs", "dups", "fp", "fn",
                                                     "prec", "recall"))
            for k, m in r["by_kind"].items():
                w("%-20s %7d %7d %6d %6d %8s %8s\n" % (k, m["pairs"], m["dup_pairs"], m["fp"],
                                                       m["fn"], pct(m["precision"]),
                                                       pct(m["recall"])))
    else:
        w("records %d   gold clusters %d   predicted clusters %d (%d records clustered)\n" % (
            r["records"], r["gold_clusters"], r["predicted_clusters"],
            r["records_in_predicted_clusters"]))
        w("\npairwise   precision %s  recall %s  F1 %s\n" % (
            pct(p["precision"]), pct(p["recall"]), pct(p["f1"])))
        w("           gold pairs %d  predicted %d  true %d  false merges %d  missed %d\n" % (
            p["gold"], p["predicted"], p["true_positive"], p["false_positive"],
            p["false_negative"]))
        b = r["bcubed"]
        w("B-cubed    precision %s  recall %s  F1 %s\n" % (pct(b["precision"]), pct(b["recall"]),
                                                          pct(b["f1"])))
        h = r["hard_negatives"]
        w("\n%-18s %8s %8s %9s %10s\n" % ("hard negative", "pairs", "merged", "rate", "variant"))
        for k, d in h["by_kind"].items():
            w("%-18s %8d %8d %9s %10d\n" % (k, d["pairs"], d["merged"], pct(d["merge_rate"]),
                                            d["flagged_variant"]))
        t = h["total"]
        w("%-18s %8d %8d %9s %10d\n" % ("all", t["pairs"], t["merged"], pct(t["merge_rate"]),
                                        t["flagged_variant"]))
        c = r["conflicts"]
        w("\nconflicts  gold %d  reported %d  merged only %d  recall %s (reported %s)\n" % (
            c["gold"], c["reported"], c["merged_not_reported"], pct(c["recall"]),
            pct(c["recall_reported"])))
        w("           report lists %d, %d correct: precision %s\n" % (
            c["report_conflicts"], c["report_conflicts_correct"], pct(c["precision"])))
        if "missed_by_variant_kind" in r:
            w("\n%-18s %9s %8s %9s %12s %8s\n" % ("variant kind", "pairs", "missed", "rate",
                                                  "alone:pairs", "missed"))
            for k, d in r["missed_by_variant_kind"].items():
                w("%-18s %9d %8d %9s %12d %8d\n" % (k, d["pairs"], d["missed"],
                                                    pct(d["miss_rate"]),
                                                    d["pairs_only_this_kind"],
                                                    d["missed_only_this_kind"]))
    if r.get("report_problems"):
        w("\nreport problems:\n")
        for k, v in r["report_problems"].items():
            w("  %-45s %d\n" % (k, v))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__[__doc__.index("Cluster mode"):])
    ap.add_argument("--labels", help="labels.json from gen_corpus.py")
    ap.add_argument("--report", required=True, help="the dedup report (JSON)")
    ap.add_argument("--pairs", action="store_true", help="score labelled pairs instead")
    ap.add_argument("--gold-pairs", help="JSONL of {a, b, dup[, kind]} (with --pairs)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    ap.add_argument("--out", help="also write the JSON result to this file")
    ap.add_argument("--min-f1", type=float)
    ap.add_argument("--min-precision", type=float)
    ap.add_argument("--min-recall", type=float)
    ap.add_argument("--max-hardneg-merge-rate", type=float)
    a = ap.parse_args(argv)

    rep = load_json(a.report, "report")
    if a.pairs:
        if not a.gold_pairs:
            ap.error("--pairs needs --gold-pairs")
        n = None
        if a.labels:
            lab = load_json(a.labels, "labels")
            n = lab.get("n") if isinstance(lab, dict) else None
        r = score_pairs(a.gold_pairs, rep, n)
    else:
        if not a.labels:
            ap.error("--labels is required (or use --pairs --gold-pairs)")
        lab = load_json(a.labels, "labels")
        if not isinstance(lab, dict):
            die("labels are not a JSON object")
        r = score_clusters(lab, rep)

    fails = []
    p = r["pairs"]
    if a.min_f1 is not None and p["f1"] < a.min_f1:
        fails.append("F1 %.4f < %.4f" % (p["f1"], a.min_f1))
    if a.min_precision is not None and p["precision"] < a.min_precision:
        fails.append("precision %.4f < %.4f" % (p["precision"], a.min_precision))
    if a.min_recall is not None and p["recall"] < a.min_recall:
        fails.append("recall %.4f < %.4f" % (p["recall"], a.min_recall))
    if a.max_hardneg_merge_rate is not None and "hard_negatives" in r and \
            r["hard_negatives"]["total"]["merge_rate"] > a.max_hardneg_merge_rate:
        fails.append("hard-negative merge rate %.4f > %.4f" % (
            r["hard_negatives"]["total"]["merge_rate"], a.max_hardneg_merge_rate))
    r["thresholds_failed"] = fails

    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(r, f, ensure_ascii=False, indent=1)
            f.write("\n")
    if a.json:
        json.dump(r, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print_table(r)
        for x in fails:
            print("THRESHOLD FAILED: " + x)
    return 1 if fails else 0


if __name__ == "__main__":
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # quiet exit under `| head`
    sys.exit(main())
