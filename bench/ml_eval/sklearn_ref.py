#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Reference peer for ml-eval's segmentation section: scikit-learn's KMeans (k-means++,
# 10 restarts, Lloyd) on the same feature matrix ml-eval wrote. Bench-only, never shipped.
# Usage: sklearn_ref.py MATRIX_FILE K [K ...]   prints "k inertia" per line.
import sys

import numpy as np
from sklearn.cluster import KMeans


def main():
    x = np.loadtxt(sys.argv[1], ndmin=2)
    for k in (int(a) for a in sys.argv[2:]):
        km = KMeans(n_clusters=k, n_init=10, algorithm="lloyd", random_state=0).fit(x)
        print(k, repr(float(km.inertia_)), flush=True)


if __name__ == "__main__":
    main()
