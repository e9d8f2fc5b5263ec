// name: ingest_runs
// description: Ingest run history, newest first: file, kind, status, rows loaded and rejected, duration.
// subject: shop
// param: kind text default="" example=events -- only runs of this kind (events, products, reviews); empty for all
// param: limit int default=20 min=0 example=10 -- rows wanted
// returns: id, kind, file, status, rows_ok, rows_bad, started_at, finished_at, seconds
MATCH (r:IngestRun)
WHERE $kind = '' OR r.kind = $kind
RETURN r.id AS id, r.kind AS kind, r.file AS file, r.status AS status, r.rows_ok AS rows_ok, r.rows_bad AS rows_bad,
       r.started_at AS started_at, r.finished_at AS finished_at,
       round((r.finished_at - r.started_at) / 100.0) / 10.0 AS seconds
ORDER BY started_at DESC, id
LIMIT $limit
