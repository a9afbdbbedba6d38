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

echo "1..13"
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
# rec.drop_model removes the model's files (a trigger on its versions, no function to call).
sql "SELECT rec.train('dropped', 'clicks', 'user_id', 'item_id', algorithm => 'popularity')" >/dev/null
dropped_id=$(sql "SELECT id FROM rec.model_versions WHERE model = 'dropped'")
sql "SELECT rec.drop_model('dropped')" >/dev/null
check "rec.drop_model removes the model's files" test "$(ls "$dir" | grep -c "^${db}_${dropped_id}_")" = 0
# Files of a database that is dropped, or of a pgrec that is dropped, go at the launcher's next passes.
waited_for_files() {  # waited_for_files PATTERN: up to 20 s for no file to match
  for _ in $(seq 1 100); do [ "$(ls "$dir" | grep -c "$1")" = 0 ] && return 0; sleep 0.2; done
  return 1
}
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_files_gone" -c "CREATE DATABASE pgrec_files_gone" >/dev/null
psql -X -q -At -d pgrec_files_gone -c "CREATE EXTENSION pgrec" \
  -c "CREATE TABLE clicks AS SELECT u AS user_id, u % 30 AS item_id FROM generate_series(1, 300) u" \
  -c "SELECT rec.train('p', 'clicks', 'user_id', 'item_id', algorithm => 'popularity')" >/dev/null
gone_db=$(sql "SELECT oid FROM pg_database WHERE datname = 'pgrec_files_gone'")
psql -X -q -d postgres -c "DROP DATABASE pgrec_files_gone" >/dev/null
check "the files of a dropped database are removed by the launcher" waited_for_files "^${gone_db}_"
files_before=$(ls "$dir" | grep -c "^${db}_")
touch -d '20 minutes ago' "$dir/${db}_"*  # older than any open training's
sql "DROP EXTENSION pgrec CASCADE" >/dev/null
check "the files of a dropped pgrec are removed by the launcher (there were $files_before)" waited_for_files "^${db}_"
# Every database is a dispatcher per launcher pass: leave none behind.
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_files" >/dev/null 2>&1
[ "$failed" = 0 ]
