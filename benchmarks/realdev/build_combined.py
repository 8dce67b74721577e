#!/usr/bin/env python3
"""Build the combined JSON Lines file the realdev labels refer to.

Writes every record of the Rosersn bank (combined indices 0..1589, file order)
followed by every record of the TRLLM bank (combined indices 1590.., file order),
one JSON object per line, each record as-is.  A label {"a": i, "b": j} names the
records on lines i and j (0-based) of this file.

The two banks are NOT part of the repository (licence unclear for Rosersn); by
default they are read from ../shared/data beside the checkout.

    python3 benchmarks/realdev/build_combined.py --out /tmp/combined.jsonl
"""
import argparse
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data"))
ROSERSN_N = 1590
TRLLM_N = 1646
# the file versions labels.jsonl was judged against (see ../shared/data/README.md)
SHA256 = {
    "rosersn_c1_subject1.json": "a1842982eafc7c475acd3061c00ae35bea23905bb65a99052dedfa4755a2f26a",
    "trllm_structqa_text.json": "a1407688a3b4ef8b7dcdb378e47ee66206913fe91012447b381f3ade8fd31ecb",
}


def check_versions(data_dir):
    """Warn (do not fail) when a bank file differs from the judged version."""
    for name, want in SHA256.items():
        with open(os.path.join(data_dir, name), "rb") as f:
            got = hashlib.sha256(f.read()).hexdigest()
        if got != want:
            print(f"build_combined: warning: {name} sha256 {got[:12]}... differs from the version "
                  f"labels.jsonl was judged on ({want[:12]}...); indices may not line up",
                  file=sys.stderr)


def load_banks(data_dir):
    """Return (rosersn_records, trllm_records) exactly as stored in the files."""
    with open(os.path.join(data_dir, "rosersn_c1_subject1.json"), encoding="utf-8") as f:
        ros = json.load(f)["questions"]
    with open(os.path.join(data_dir, "trllm_structqa_text.json"), encoding="utf-8") as f:
        trl = json.load(f)
    return ros, trl


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output JSON Lines path (e.g. /tmp/combined.jsonl)")
    ap.add_argument("--data-dir", default=os.environ.get("NEARDUP_SHARED_DATA", DEFAULT_DATA),
                    help="directory holding the two bank files (default: %(default)s)")
    args = ap.parse_args(argv)

    ros, trl = load_banks(args.data_dir)
    check_versions(args.data_dir)
    if len(ros) != ROSERSN_N or len(trl) != TRLLM_N:
        print(f"build_combined: warning: expected {ROSERSN_N}+{TRLLM_N} records, got "
              f"{len(ros)}+{len(trl)}; labels.jsonl indices assume the former", file=sys.stderr)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for rec in ros:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        for rec in trl:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"build_combined: wrote {len(ros) + len(trl)} records "
          f"(rosersn 0..{len(ros) - 1}, trllm {len(ros)}..{len(ros) + len(trl) - 1}) to {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
