// name: events_delete_edges
// params: $rows = [{user, item}]; identifier {{rel}}
// returns: nothing. Deletes the {{rel}} edges of the given pairs (rebuild with remove_unknown: edges
// the ledger does not know). Nodes stay.
UNWIND $rows AS row
MATCH (u:User {id: row.user})-[r:{{rel}}]->(p:Product {id: row.item})
DELETE r
