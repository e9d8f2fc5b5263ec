// name: events_merge
// params: $rows = [[user, item, count, first_at, last_at, first_date, last_date, rating]] — absolute
//         aggregates of (user, item, type) pairs from the event ledger, positional (ingest/events_view.py
//         GRAPH_FIELDS: lists encode and parse faster than maps); identifier {{rel}}
// returns: nothing. The edge is a materialised view of the ledger: values are absolute, so re-runs,
// overlapping files and crashed-then-repeated runs write the same values. A row whose count is below
// the edge's is an older snapshot (a concurrent writer got there first) and is skipped, so edges only
// move forward. Never deletes anything (a pre-ledger edge's event_times list is left for rebuild).
UNWIND $rows AS row
MERGE (u:User {id: row[0]})
MERGE (p:Product {id: row[1]})
MERGE (u)-[r:{{rel}}]->(p)
WITH r, row
WHERE r.count IS NULL OR r.count <= row[2]
SET r.count = row[2], r.first_at = row[3], r.last_at = row[4],
    r.first_date = row[5], r.last_date = row[6], r.rating = row[7]
