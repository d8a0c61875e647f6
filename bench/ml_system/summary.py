#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# One table over the cutoffs of a bench/ml_system run: score.py's JSON files in, the
# system's figures beside the baselines and the ratios out, with the aims.
import json
import math
import sys


def f(x, nd=4):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else "%.*f" % (nd, x)


def ratio(a, b):
    return a / b if a is not None and b else float("nan")


def markdown(rows):
    print("| cutoff | customers scored | recall@20 system / popularity | ratio | HR@20 | ratio | NDCG@20 | ratio "
          "| silhouette system / scikit-learn (k) | MASE 14 d system / seasonal naive | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for o in rows:
        r, s, fc = o["reco"], o["segment"], o["forecast"]
        cells = [o["cutoff"], str(r["users_scored"])]
        for i in range(3):
            pair = "%s / %s" % (f(r["system"][i]), f(r["popularity"][i]))
            cells += [pair if i == 0 else pair, "%sx" % f(ratio(r["system"][i], r["popularity"][i]), 2)]
        cells.append("%s / %s (%d)" % (f(s.get("system"), 3), f(s.get("sklearn"), 3), s["k"]))
        if fc["scored"]:
            cells += ["%s / %s" % (f(fc["system"], 3), f(fc["seasonal_naive"], 3)),
                      "%sx" % f(ratio(fc["system"], fc["seasonal_naive"]), 2)]
        else:
            cells += ["-", "-"]
        print("| " + " | ".join(cells) + " |")


def main():
    if sys.argv[1:2] == ["--markdown"]:
        return markdown([json.load(open(p)) for p in sys.argv[2:]])
    rows = [json.load(open(p)) for p in sys.argv[1:]]
    print("\n== ML through the system: every cutoff ==")
    print("%-10s | %-27s | %-27s | %-27s | %-25s | %-25s" % (
        "cutoff", "recall@20 sys / pop / ratio", "HR@20 sys / pop / ratio", "NDCG@20 sys / pop / ratio",
        "silhouette sys / skl / diff", "MASE14 sys / s.naive / ratio"))
    met = {"reco": 0, "seg": 0, "fc": 0}
    for o in rows:
        r, s, fc = o["reco"], o["segment"], o["forecast"]
        cells = []
        for i in range(3):
            cells.append("%s / %s / %sx" % (f(r["system"][i]), f(r["popularity"][i]),
                                            f(ratio(r["system"][i], r["popularity"][i]), 2)))
        rr = ratio(r["system"][0], r["popularity"][0])
        met["reco"] += rr >= 2.5
        if "system" in s:
            d = s["system"] - s["sklearn"]
            seg = "%s / %s / %+.3f" % (f(s["system"], 3), f(s["sklearn"], 3), d)
            met["seg"] += d >= -0.02
        else:
            seg = "- (k=%d)" % s["k"]
        if fc["scored"]:
            fr = ratio(fc["system"], fc["seasonal_naive"])
            fcs = "%s / %s / %sx" % (f(fc["system"], 3), f(fc["seasonal_naive"], 3), f(fr, 2))
            met["fc"] += fr <= 0.9
        else:
            fcs = "-"
        print("%-10s | %-27s | %-27s | %-27s | %-25s | %-25s" % (o["cutoff"], cells[0], cells[1], cells[2], seg, fcs))
    n = len(rows)
    print("aims met on %d cutoffs: recall@20 >= 2.5x popularity %d/%d, silhouette within 0.02 of scikit-learn %d/%d, "
          "MASE <= 0.9x seasonal naive %d/%d" % (n, met["reco"], n, met["seg"], n, met["fc"], n))


if __name__ == "__main__":
    main()
