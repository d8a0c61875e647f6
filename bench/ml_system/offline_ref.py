#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Offline reference for docs/ml.md "Measured through the system": what implicit ALS (and
# blends beside it) can reach on a split of the data file, with score.py's truth and
# popularity, without the system. Only for validation splits (both dates before the test
# cutoffs); numpy/scipy, bench-only. Slow (10-30 s a row).
#   offline_ref.py CUTOFF TRUTH_UNTIL [k=64] [reg=60] [alpha=5] [hl=30] [iters=8]
#                  [w_i2i=0] [w_rec=0] [uknn=0] [ghl=0] [seed=42]
# hl: half-life (days) of a line's weight, age from the customer's newest line (ml-eval);
# ghl: a second, global half-life from the cutoff; w_i2i: blend of item-to-item cosine
# (summed over the customer's items); w_rec: of the last 30 days' popularity; uknn: of a
# 50-neighbour user-kNN. Each score is scaled by its maximum before blending.
import math
import os
import sys
import time
from collections import defaultdict

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import score as S  # noqa: E402

def run(buys, cut, end, k=64, reg=60.0, alpha=5.0, hl=30.0, iters=8, w_i2i=0.0, seed=42, ghl=0.0, w_rec=0.0, uknn=0.0):
    cut_ms, end_ms = S.day_ms(cut), S.day_ms(end)
    tr = [b for b in buys if b[4] < cut_ms]
    bought = defaultdict(set)
    for u,c,q,p,t,inv in tr: bought[u].add(c)
    new = defaultdict(set)
    for u,c,q,p,t,inv in buys:
        if cut_ms <= t < end_ms and u in bought and c not in bought[u]: new[u].add(c)
    users = sorted(bought); items = sorted({b[1] for b in tr})
    ui = {u:i for i,u in enumerate(users)}; ii = {c:i for i,c in enumerate(items)}
    last = defaultdict(int)
    for u,c,q,p,t,inv in tr: last[u] = max(last[u], t)
    R = defaultdict(float)
    for u,c,q,p,t,inv in tr:
        R[(ui[u], ii[c])] += (2 ** (-(last[u]-t)/(hl*S.DAY_MS)) if hl else 1.0) * (2 ** (-(cut_ms-t)/(ghl*S.DAY_MS)) if ghl else 1.0)
    nu, ni = len(users), len(items)
    rows = defaultdict(list); cols = defaultdict(list)
    for (a,b),v in R.items(): rows[a].append((b,v)); cols[b].append((a,v))
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.01, (nu,k)); Y = rng.normal(0, 0.01, (ni,k))
    def solve(F, lists, out):
        G = F.T @ F
        for a, lst in lists.items():
            idx = np.array([b for b,_ in lst]); r = np.array([v for _,v in lst])
            c = 1 + alpha * r
            Fi = F[idx]
            A = G + (Fi.T * (c-1)) @ Fi + reg*np.eye(k)
            out[a] = np.linalg.solve(A, Fi.T @ c)
    for it in range(iters):
        solve(Y, rows, X); solve(X, cols, Y)
    # item-to-item cosine on first touches (binary user x item)
    B = sp.csr_matrix((np.ones(len(R)), ([a for a,b in R], [b for a,b in R])), shape=(nu,ni))
    C = (B.T @ B).toarray().astype(float); d = np.sqrt(np.diag(C)); np.fill_diagonal(C, 0)
    Cos = C / np.outer(d, d).clip(min=1e-9)
    rn = np.sqrt(np.asarray(B.sum(axis=1)).ravel()).clip(min=1e-9)
    Bn = sp.diags(1/rn) @ B
    pop = S.popularity(buys, cut_ms)
    rb = defaultdict(set)
    for u,c,q,p,t,inv in tr:
        if t >= cut_ms - 30*S.DAY_MS: rb[c].add(u)
    recv = np.array([len(rb[c]) for c in items], float); recv = recv / recv.max()
    lists = {}
    for u in new:
        s = Y @ X[ui[u]]
        if w_i2i:
            bi = B[ui[u]].indices
            s2 = Cos[:, bi].sum(axis=1)
            s = (1-w_i2i) * s / max(np.abs(s).max(),1e-9) + w_i2i * s2 / max(s2.max(),1e-9)
        if uknn:
            # user-kNN: cosine over binary histories, top 50 neighbours' items
            bu = B[ui[u]]
            sims = (Bn @ bu.T).toarray().ravel() / max(np.sqrt(bu.sum()),1e-9); sims[ui[u]] = 0
            nb = np.argpartition(-sims, 50)[:50]
            s3 = np.asarray((sims[nb][:,None] * B[nb].toarray()).sum(axis=0)).ravel()
            s = (1-uknn) * s / max(np.abs(s).max(),1e-9) + uknn * s3 / max(s3.max(),1e-9)
        if w_rec:
            s = s / max(np.abs(s).max(),1e-9) + w_rec * recv
        order = np.argsort(-s)
        lists[u] = S.top_excluding([items[j] for j in order], bought[u])
    poplists = {u: S.top_excluding(pop, bought[u]) for u in new}
    a = S.mean_metrics(lists, new); b = S.mean_metrics(poplists, new)
    return len(new), a, b
if __name__ == '__main__':
    cut, end = sys.argv[1], sys.argv[2]
    kw = {k: float(v) for k,v in (a.split('=') for a in sys.argv[3:])}
    for key in ('k','iters'):
        if key in kw: kw[key] = int(kw[key])
    data = os.environ.get("SHOPSTREAM_DATA_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data"))
    buys, _ = S.load(data)
    t=time.time(); n,a,b = run(buys, cut,end,**kw)
    print(cut,end,kw,'users',n,'als',[round(x,4) for x in a],'pop',[round(x,4) for x in b],'ratio recall %.2f'%(a[0]/b[0]), '%.0fs'%(time.time()-t))
