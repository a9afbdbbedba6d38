#!/usr/bin/env bash
# The client examples (examples/run: psycopg, SQLAlchemy, Django, node-postgres, ruby-pg) print
# what psql prints for the same query: the demo model trained when missing, then a user's top 5
# joined with the item table. Prints TAP; run by scripts/test on the private cluster.
source "$(dirname "$0")/../../scripts/lib.sh"
set +e
pick_datadir
export PGDATABASE=pgrec_examples
n=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one TAP line
  n=$((n + 1))
  if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi
}
sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# What psql says: "rank name score" per line.
expected() {
  sql "SELECT r.rank || ' ' || i.name || ' ' || r.score FROM rec.recommend('demo', $1, 5) r JOIN items i ON i.id = r.item_id ORDER BY r.rank"
}
# Same ranks and names, scores within 0.001 (the examples print three decimals).
same_answer() {  # same_answer EXPECTED ACTUAL
  [ "$(wc -l < "$1")" = 5 ] && [ "$(wc -l < "$2")" = 5 ] &&
    paste -d'|' "$1" "$2" | awk -F'|' '{
      ne = split($1, e, " "); na = split($2, a, " ");
      le = ""; la = ""; for (j = 1; j < ne; j++) le = le " " e[j]; for (j = 1; j < na; j++) la = la " " a[j];
      d = e[ne] - a[na]; if (d < 0) d = -d;
      if (le != la || d > 0.0011) { print "differs: " $1 " vs " $2 > "/dev/stderr"; bad = 1 } }
      END { exit bad }'
}

examples=(python_psycopg python_sqlalchemy django_app node_pg ruby_pg)
echo "1..$((${#examples[@]} * 2))"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_examples" -c "CREATE DATABASE pgrec_examples" >/dev/null
sql "CREATE EXTENSION pgrec" >/dev/null
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -f "$REPO/scripts/demo_data.sql" >/dev/null

for name in "${examples[@]}"; do
  # The first example finds no model and trains it; the others find it.
  "$REPO/examples/run" "$name" -- 1 > "$work/$name.1" 2> "$work/$name.err"
  rc=$?
  [ $rc = 0 ] || cat "$work/$name.err" >&2
  expected 1 > "$work/expected.1"
  check "$name: user 1's top 5 with item names, as psql gives them" \
    bash -c "[ $rc = 0 ] && $(declare -f same_answer); same_answer '$work/expected.1' '$work/$name.1'"
  "$REPO/examples/run" "$name" -- 7 > "$work/$name.7" 2>> "$work/$name.err"
  expected 7 > "$work/expected.7"
  check "$name: and user 7's" bash -c "$(declare -f same_answer); same_answer '$work/expected.7' '$work/$name.7'"
done
[ "$(sql "SELECT count(*) FROM rec.model_versions WHERE model = 'demo'")" = 1 ] ||
  { echo "# the examples trained the demo model more than once" >&2; failed=$((failed + 1)); }
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_examples" >/dev/null
[ "$failed" = 0 ]
