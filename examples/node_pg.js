#!/usr/bin/env node
// Recommendations from pgrec with node-postgres: train the demo model if it is missing, then print
// a user's top 5 joined with the item table. Connection: the libpq environment (PGHOST, PGPORT...).
// Usage: node node_pg.js [USER_ID]
const { Client } = require('pg');

async function main() {
  const userId = parseInt(process.argv[2] || '1', 10);
  const client = new Client();  // reads PGHOST, PGPORT, PGUSER, PGDATABASE
  await client.connect();
  try {
    const models = await client.query("SELECT count(*)::int AS n FROM rec.models WHERE model = 'demo'");
    if (models.rows[0].n === 0) await client.query("SELECT rec.train('demo', 'ratings', 'user_id', 'item_id')");
    // node-postgres sends parameters untyped: say which type the user id is.
    const res = await client.query(
      'SELECT r.rank, i.name, r.score FROM rec.recommend($1, $2::integer, 5) r ' +
      'JOIN items i ON i.id = r.item_id ORDER BY r.rank', ['demo', userId]);
    for (const row of res.rows) console.log(`${row.rank} ${row.name} ${row.score.toFixed(3)}`);
  } finally {
    await client.end();
  }
}

main().catch((err) => { console.error(err.message); process.exit(1); });
