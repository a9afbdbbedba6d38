-- ML-100K leave-last-out: each user's last interaction by timestamp is the test item; full
-- ranking over all items, training items excluded; sequential models against the rest.
SELECT * FROM rec.split('llo', 'ml100k', 'user_id', 'item_id', method => 'leave_last_out', time_col => 'ts',
                        replace => true) \g /dev/null
CREATE INDEX ON llo_train (user_id, ts);  -- sequential models read a user's rows at query time
SELECT bench.ranking_row('ML-100K leave-last-out', 'last interaction per user (timestamp) held out, full ranking over all items, training items excluded, 943 users',
                         label, algorithm, params::jsonb, 'llo_train', 'llo_test',
                         'ML-1M, same protocol (gSASRec paper): SASRec R@10 .239 NDCG@10 .126; gSASRec .300 / .173', ARRAY['hr', 'ndcg'])
FROM (VALUES ('popularity (count)', 'popularity', '{}'),
             ('als implicit, 64 f, 15 it', 'als', '{"factors": 64, "iterations": 15}'),
             ('bpr, 64 f, 50 epochs, uniform negatives', 'bpr', '{}'),
             ('lightgcn, 64 f, 3 layers, early stopping', 'lightgcn', '{}'),
             ('neumf, 32 + 32 f, 3 MLP layers, 4 negatives', 'neumf', '{"epochs": 30}'),
             ('gru4rec, 64 f, max_len 50, full softmax', 'gru4rec', '{"time_col": "ts", "epochs": 100, "patience": 8}'),
             ('sasrec, 64 f, 2 blocks, max_len 50, full softmax', 'sasrec', '{"time_col": "ts", "epochs": 100, "patience": 8}')) v(label, algorithm, params);
DROP TABLE llo_train, llo_test;
