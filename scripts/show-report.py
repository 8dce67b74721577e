#!/usr/bin/env python3
"""Prints what a dedup report decided, in a few lines per item: clusters (kept and
removed ids), variants with the guard that kept them apart, answer conflicts.
   scripts/show-report.py report.json [--max N]"""
import json
import sys

def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--max")]
    limit = 10
    for a in sys.argv[1:]:
        if a.startswith("--max="):
            limit = int(a.split("=", 1)[1])
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    r = json.load(open(args[0], encoding="utf-8"))
    name = lambda m, k="id", i="index": m.get(k) or "#%d" % m[i]
    print("clusters (kept <- removed):")
    for c in r["clusters"][:limit]:
        removed = ", ".join("%s (%.2f, %s)" % (name(m), m["similarity"], m["pass"]) for m in c["members"][1:])
        flag = "  [answers differ]" if c.get("conflict") else ""
        print("  %s <- %s%s" % (c.get("kept_id") or "#%d" % c["kept"], removed, flag))
    print("variants kept apart:")
    for v in r["variants"][:limit]:
        print("  %s / %s: %s (%s)" % (v.get("a_id") or "#%d" % v["a"], v.get("b_id") or "#%d" % v["b"],
                                      v["guard"], v["detail"]))
    print("answer conflicts:")
    for c in r["conflicts"][:limit]:
        print("  %s says %s, %s says %s" % (c.get("a_id") or "#%d" % c["a"], c["answer_a"],
                                            c.get("b_id") or "#%d" % c["b"], c["answer_b"]))
    return 0

if __name__ == "__main__":
    sys.exit(main())
