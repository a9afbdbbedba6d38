#!/usr/bin/python3
"""Recommendations from pgrec with SQLAlchemy (Core, text() with bound parameters): train the demo
model if it is missing, then print a user's top 5 joined with the item table.
Connection: the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE), through psycopg2.
Usage: python_sqlalchemy.py [USER_ID]"""
import sys

from sqlalchemy import create_engine, text

user_id = int(sys.argv[1]) if len(sys.argv) > 1 else 1
# An empty URL lets libpq read the environment, as psql does.
engine = create_engine("postgresql+psycopg2://")

with engine.begin() as conn:
    if conn.execute(text("SELECT count(*) FROM rec.models WHERE model = 'demo'")).scalar() == 0:
        conn.execute(text("SELECT rec.train('demo', 'ratings', 'user_id', 'item_id')"))
    rows = conn.execute(
        text("SELECT r.rank, i.name, r.score FROM rec.recommend('demo', CAST(:user AS integer), 5) r "
             "JOIN items i ON i.id = r.item_id ORDER BY r.rank"), {"user": user_id})
    for row in rows:
        print(f"{row.rank} {row.name} {row.score:.3f}")
