// name: events_create
// params: $rows = [[user, item, count, first_at, last_at, first_date, last_date, rating]] — as events_merge,
//         for pairs the event ledger did not hold before this batch; identifier {{rel}}
// returns: nothing. Used only while the graph's {{rel}} edges match the ledger's pairs one to one
// (ingest/events_view.py can_create_fresh), so a pair new to the ledger has no edge yet: creating it
// skips MERGE's search for one (about a third of the server's work for a new pair).
UNWIND $rows AS row
MERGE (u:User {id: row[0]})
MERGE (p:Product {id: row[1]})
CREATE (u)-[r:{{rel}}]->(p)
SET r.count = row[2], r.first_at = row[3], r.last_at = row[4],
    r.first_date = row[5], r.last_date = row[6], r.rating = row[7]
