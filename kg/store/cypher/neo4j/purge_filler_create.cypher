// name: purge_filler_create (Neo4j)
// params: $pad (a long string)
// returns: eid — the element id of a throwaway unlabelled node holding $pad: written after a forget so the
// transaction log rotates and the files holding the deleted records are pruned at the next checkpoint
CREATE (n {id: $pad})
RETURN elementId(n) AS eid
