// name: events_set
// params: $rows = [{user, item, count, first_at, last_at, first_date, last_date, rating}] — absolute
//         aggregates from the event ledger; identifier {{rel}}
// returns: nothing. Rebuild: overwrites the edge with the ledger's values whatever it held, and drops
// the pre-ledger event_times list (its times were imported into the ledger first).
UNWIND $rows AS row
MERGE (u:User {id: row.user})
MERGE (p:Product {id: row.item})
MERGE (u)-[r:{{rel}}]->(p)
SET r.count = row.count, r.first_at = row.first_at, r.last_at = row.last_at,
    r.first_date = row.first_date, r.last_date = row.last_date, r.rating = row.rating,
    r.event_times = NULL
