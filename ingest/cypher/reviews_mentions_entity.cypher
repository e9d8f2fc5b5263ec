// name: reviews_mentions_entity
// params: $rows = [{review, key}]; identifiers {{label}} (Brand|Product|Category), {{key}} (its key property)
// returns: nothing. Only catalogue entities already in the graph are linked (MATCH, never MERGE).
UNWIND $rows AS row
MATCH (r:Review {id: row.review})
MATCH (e:{{label}} {{{key}}: row.key})
MERGE (r)-[:MENTIONS]->(e)
