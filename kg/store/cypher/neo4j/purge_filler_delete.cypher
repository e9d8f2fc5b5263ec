// name: purge_filler_delete (Neo4j)
// params: $eid (the element id purge_filler_create returned)
// returns: nothing; deletes the throwaway node
MATCH (n) WHERE elementId(n) = $eid
DELETE n
