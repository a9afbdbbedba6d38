#!/usr/bin/env bash
# Mapped model files: a truncated, foreign or missing file is never served; the session reads the
# tables instead, answers as before, and writes the file again. Prints TAP; run by scripts/test.
# Needs the private cluster of scripts/lib.sh to be running.
source "$(dirname "$0")/../../scripts/lib.sh"
set +e
pick_datadir
n=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one TAP line
  n=$((n + 1))
  if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi
}
sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -d pgrec_files -c "$1"; }
answers() { sql "SELECT string_agg(item_id || ':' || round(score::numeric, 5), ' ' ORDER BY rank) FROM generate_series(1, 20) u, rec.recommend('mf', u, 10)"; }

echo "1..10"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_files" -c "CREATE DATABASE pgrec_files" >/dev/null
sql "CREATE EXTENSION pgrec" >/dev/null
sql "CREATE TABLE clicks AS SELECT u AS user_id, (u * 31 + k * 17) % 400 AS item_id FROM generate_series(1, 800) u, generate_series(1, 8) k" >/dev/null
sql "SELECT rec.train('mf', 'clicks', 'user_id', 'item_id', params => '{\"factors\": 16, \"iterations\": 3}')" >/dev/null
file=$(ls "$PGDATA_DIR/data/pgrec_models/$(sql "SELECT oid FROM pg_database WHERE datname = 'pgrec_files'")_$(sql "SELECT id FROM rec.model_versions WHERE model = 'mf'")_"*.model 2>/dev/null)
check "training wrote the version's file" test -s "$file"
size=$(stat -c %s "$file")
expected=$(answers)

as_owner truncate -s $((size - 100)) "$file"
check "a truncated file is not served: same answers" test "$(answers)" = "$expected"
check "and the file is written again, whole" test "$(stat -c %s "$file")" = "$size"

as_owner dd if=/dev/zero of="$file" bs=1 count=8 conv=notrunc status=none
check "a file with a foreign header is not served: same answers" test "$(answers)" = "$expected"
check "and is replaced" test "$(head -c 8 "$file")" = "PGRECMAP"

as_owner rm -f "$file"
check "a missing file: same answers" test "$(answers)" = "$expected"
check "and it is written again" test -s "$file"

# Only serving versions keep files; a training that rolls back leaves none.
dir="$PGDATA_DIR/data/pgrec_models"
db=$(sql "SELECT oid FROM pg_database WHERE datname = 'pgrec_files'")
sql "SELECT rec.train('mf', 'clicks', 'user_id', 'item_id', params => '{\"factors\": 8, \"iterations\": 2}')" >/dev/null
check "a new version replaces the old version's file" test ! -e "$file" -a \
  "$(ls "$dir" | grep -c "^${db}_$(sql "SELECT max(id) FROM rec.model_versions WHERE model = 'mf'")_")" = 1
before=$(ls "$dir" | grep -c "^${db}_")
psql -X -q -d pgrec_files -c "BEGIN" -c "SELECT rec.train('gone', 'clicks', 'user_id', 'item_id', params => '{\"factors\": 8, \"iterations\": 2}')" \
  -c "ROLLBACK" >/dev/null
check "a rolled-back training leaves no file" test "$(ls "$dir" | grep -c "^${db}_")" = "$before"
sql "SELECT rec.deploy('mf', 1)" >/dev/null
check "a version deployed again serves as before, from a file written on its first load" \
  bash -c "[ \"\$(psql -X -q -At -d pgrec_files -c \"SELECT string_agg(item_id || ':' || round(score::numeric, 5), ' ' ORDER BY rank) FROM generate_series(1, 20) u, rec.recommend('mf', u, 10)\")\" = '$expected' ] && [ -s '$file' ]"
# Every database is a dispatcher per launcher pass: leave none behind.
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_files" >/dev/null 2>&1
[ "$failed" = 0 ]
