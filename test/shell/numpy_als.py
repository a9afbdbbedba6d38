#!/usr/bin/python3
"""Trains factors outside pgrec with numpy (plain alternating least squares on the 0/1 matrix)
and ranks with them: what rec.import_factors must reproduce. Reads "user,item" lines on stdin;
writes DIR/users.tsv and DIR/items.tsv (id, then the vector as an array literal) and
DIR/numpy_top10.txt (for users 1..20: "user item item ..." by score, seen items excluded).
Usage: numpy_als.py DIR"""
import sys

import numpy as np

out = sys.argv[1]
pairs = np.loadtxt(sys.stdin, delimiter=",", dtype=np.int64, ndmin=2)
users, u_index = np.unique(pairs[:, 0], return_inverse=True)
items, i_index = np.unique(pairs[:, 1], return_inverse=True)
R = np.zeros((len(users), len(items)))
R[u_index, i_index] = 1.0
rng = np.random.default_rng(7)
f, lam = 16, 5.0
U = rng.normal(0, 0.1, (len(users), f))
V = rng.normal(0, 0.1, (len(items), f))
for _ in range(10):
    U = np.linalg.solve(V.T @ V + lam * np.eye(f), V.T @ R.T).T
    V = np.linalg.solve(U.T @ U + lam * np.eye(f), U.T @ R).T
U32, V32 = U.astype(np.float32), V.astype(np.float32)


def write(path, ids, M):
    with open(path, "w") as fh:
        for id_, row in zip(ids, M):
            fh.write(f"{id_}\t{{{','.join(repr(float(x)) for x in row)}}}\n")


write(f"{out}/users.tsv", users, U32)
write(f"{out}/items.tsv", items, V32)
with open(f"{out}/numpy_top10.txt", "w") as fh:
    for u in range(1, 21):
        row = int(np.searchsorted(users, u))
        scores = (V32 @ U32[row]).astype(np.float64)
        scores[R[row] > 0] = -np.inf
        top = np.argsort(-scores, kind="stable")[:10]
        fh.write(f"{u} " + " ".join(str(items[j]) for j in top) + "\n")
