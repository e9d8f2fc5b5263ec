// name: events_set
// params: $rows = [[user, item, count, first_at, last_at, first_date, last_date, rating]] — absolute
//         aggregates from the event ledger, positional (ingest/events_view.py GRAPH_FIELDS); identifier {{rel}}
// returns: nothing. Rebuild: overwrites the edge with the ledger's values whatever it held, and drops
// the pre-ledger event_times list (its times were imported into the ledger first).
UNWIND $rows AS row
MERGE (u:User {id: row[0]})
MERGE (p:Product {id: row[1]})
MERGE (u)-[r:{{rel}}]->(p)
SET r.count = row[2], r.first_at = row[3], r.last_at = row[4],
    r.first_date = row[5], r.last_date = row[6], r.rating = row[7],
    r.event_times = NULL
