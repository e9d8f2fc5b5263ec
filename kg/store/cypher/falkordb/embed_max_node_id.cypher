// name: embed_max_node_id (FalkorDB)
// params: none
// returns: max_id — the largest internal node id (null on an empty graph); bounds the paged triple export
MATCH (n)
RETURN max(id(n)) AS max_id
