// name: await_indexes (Neo4j)
// params: none
// returns: nothing; waits (up to 300 s) until every index is online.
CALL db.awaitIndexes(300)
