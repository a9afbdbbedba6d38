#!/usr/bin/ruby
# Recommendations from pgrec with ruby-pg: train the demo model if it is missing, then print a
# user's top 5 joined with the item table. Connection: the libpq environment (PGHOST, PGPORT...).
# Usage: ruby ruby_pg.rb [USER_ID]
require 'pg'

user_id = Integer(ARGV[0] || 1)
conn = PG.connect
begin
  if conn.exec("SELECT count(*) FROM rec.models WHERE model = 'demo'").getvalue(0, 0).to_i.zero?
    conn.exec("SELECT rec.train('demo', 'ratings', 'user_id', 'item_id')")
  end
  # Parameters go untyped: say which type the user id is.
  res = conn.exec_params('SELECT r.rank, i.name, r.score FROM rec.recommend($1, $2::integer, 5) r ' \
                         'JOIN items i ON i.id = r.item_id ORDER BY r.rank', ['demo', user_id])
  res.each { |row| puts format('%d %s %.3f', row['rank'].to_i, row['name'], row['score'].to_f) }
ensure
  conn.close
end
