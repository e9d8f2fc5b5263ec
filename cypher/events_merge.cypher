// name: events_merge
// params: $rows = [{user, item, count, first_at, last_at, first_date, last_date, rating}] — absolute
//         aggregates of (user, item, type) pairs from the event ledger; identifier {{rel}}
// returns: nothing. The edge is a materialised view of the ledger: values are absolute, so re-runs,
// overlapping files and crashed-then-repeated runs write the same values. A row whose count is below
// the edge's is an older snapshot (a concurrent writer got there first) and is skipped, so edges only
// move forward. Never deletes anything (a pre-ledger edge's event_times list is left for rebuild).
UNWIND $rows AS row
MERGE (u:User {id: row.user})
MERGE (p:Product {id: row.item})
MERGE (u)-[r:{{rel}}]->(p)
WITH r, row
WHERE r.count IS NULL OR r.count <= row.count
SET r.count = row.count, r.first_at = row.first_at, r.last_at = row.last_at,
    r.first_date = row.first_date, r.last_date = row.last_date, r.rating = row.rating
