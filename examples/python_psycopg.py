#!/usr/bin/python3
"""Recommendations from pgrec with psycopg 3: train the demo model if it is missing, then print a
user's top 5 joined with the item table. Connection: the libpq environment (PGHOST, PGDATABASE...).
Usage: python_psycopg.py [USER_ID]"""
import sys

import psycopg

user_id = int(sys.argv[1]) if len(sys.argv) > 1 else 1

with psycopg.connect() as conn:
    if conn.execute("SELECT count(*) FROM rec.models WHERE model = 'demo'").fetchone()[0] == 0:
        conn.execute("SELECT rec.train('demo', 'ratings', 'user_id', 'item_id')")
    # rec.recommend takes ids of any type: say which one a parameter is (here integer).
    rows = conn.execute(
        "SELECT r.rank, i.name, r.score FROM rec.recommend('demo', %s::integer, 5) r "
        "JOIN items i ON i.id = r.item_id ORDER BY r.rank", (user_id,)).fetchall()
    for rank, name, score in rows:
        print(f"{rank} {name} {score:.3f}")
