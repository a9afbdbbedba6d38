#!/usr/bin/env bash
# rec.train reports progress for every family (a NOTICE per epoch with pgrec.progress_interval = 0:
# epoch, loss, time and time left), client_min_messages silences it, and rec.training_curve has
# the curve of every iterative family. Prints TAP; run by scripts/test on the private cluster.
source "$(dirname "$0")/../../scripts/lib.sh"
set +e
pick_datadir
export PGDATABASE=pgrec_progress
n=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one TAP line
  n=$((n + 1))
  if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi
}
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@" 2>&1; }
# The NOTICEs of one training with progress every epoch.
notices() { sql -c "SET pgrec.progress_interval = 0" -c "SELECT rec.train($1)" | grep '^NOTICE:'; }
epoch_lines() {  # epoch_lines ALGORITHM EPOCHS NOTICES: one well-formed line per epoch, in order
  local e
  for e in $(seq 1 "$2"); do
    grep -qE "^NOTICE:  $1 epoch $e/$2: loss [0-9.]+, [0-9.]+ s, about [0-9.]+ s left$" <<< "$3" || return 1
  done
  [ "$(wc -l <<< "$3")" = "$2" ]
}
curve_rows() { sql -c "SELECT count(*) || ' ' || count(loss) FROM rec.training_curve('$1')"; }

echo "1..13"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_progress" -c "CREATE DATABASE pgrec_progress" >/dev/null
sql -c "CREATE EXTENSION pgrec" >/dev/null
PGOPTIONS="-c client_min_messages=warning" sql -f "$REPO/scripts/demo_data.sql" >/dev/null

out=$(notices "'als', 'ratings', 'user_id', 'item_id', params => '{\"iterations\": 4}'")
check "als: a NOTICE per iteration with the loss and the time left" epoch_lines als 4 "$out"
out=$(notices "'bpr', 'ratings', 'user_id', 'item_id', algorithm => 'bpr', params => '{\"epochs\": 3}'")
check "bpr: a NOTICE per epoch" epoch_lines bpr 3 "$out"
out=$(notices "'sgd', 'ratings', 'user_id', 'item_id', 'rating', algorithm => 'sgd_mf', params => '{\"epochs\": 3}'")
check "sgd_mf: a NOTICE per epoch" epoch_lines sgd_mf 3 "$out"
out=$(notices "'svdpp', 'ratings', 'user_id', 'item_id', 'rating', algorithm => 'svdpp', params => '{\"epochs\": 2}'")
check "svdpp: a NOTICE per epoch" epoch_lines svdpp 2 "$out"
out=$(notices "'knn', 'ratings', 'user_id', 'item_id', algorithm => 'item_knn'")
check "item_knn (one pass, no objective): says when it is trained" \
  grep -qE "^NOTICE:  item_knn trained in [0-9.]+ s$" <<< "$out"
out=$(notices "'neu', 'ratings', 'user_id', 'item_id', algorithm => 'neumf', params => '{\"epochs\": 2, \"factors\": 8}'")
check "neumf (LibTorch): a NOTICE per epoch" epoch_lines neumf 2 "$out"
out=$(sql -c "SET pgrec.progress_interval = 0" -c "SET client_min_messages = warning" \
          -c "SELECT rec.train('bpr', 'ratings', 'user_id', 'item_id', algorithm => 'bpr', params => '{\"epochs\": 3}')")
check "client_min_messages = warning silences them" test "$out" = 2
out=$(sql -c "SELECT rec.train('bpr', 'ratings', 'user_id', 'item_id', algorithm => 'bpr', params => '{\"epochs\": 3}')")
check "by default (every 2 s) a short training says nothing" test "$out" = 3

check "rec.training_curve: bpr's loss per epoch" test "$(curve_rows bpr)" = "3 3"
check "rec.training_curve: sgd_mf's per epoch" test "$(curve_rows sgd)" = "3 3"
sql -c "SELECT rec.train('bpr_v', 'ratings', 'user_id', 'item_id', algorithm => 'bpr', params => '{\"epochs\": 20, \"validation\": true}')" >/dev/null
# Chance ranks one held-out item of 380 in the top 10 about 1 time in 38 (NDCG@10 near 0.01).
check "rec.training_curve: bpr with validation has the held-out NDCG@10 of every epoch, rising far above chance" \
  test "$(sql -c "SELECT count(*) || ' ' || count(ndcg_at_10) || ' ' || (max(ndcg_at_10) > 0.05)
                    || ' ' || ((SELECT ndcg_at_10 FROM rec.training_curve('bpr_v') WHERE epoch = 20) > (SELECT ndcg_at_10 FROM rec.training_curve('bpr_v') WHERE epoch = 1))
                  FROM rec.training_curve('bpr_v')")" = "20 20 true true"
check "rec.training_curve: als only with track_loss (its objective costs a pass)" \
  test "$(curve_rows als)|$(sql -c "SELECT rec.train('als', 'ratings', 'user_id', 'item_id', params => '{\"iterations\": 4, \"track_loss\": true}')" >/dev/null; curve_rows als)" = "0 0|4 4"
# A background job records the same curve.
job=$(sql -c "SELECT rec.train_async('job', 'ratings', 'user_id', 'item_id', algorithm => 'bpr', params => '{\"epochs\": 4}')")
sql -c "SELECT rec.wait($job)" >/dev/null
check "a training job records the curve too" test "$(curve_rows job)" = "4 4"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_progress" >/dev/null
[ "$failed" = 0 ]
