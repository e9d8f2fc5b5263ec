// name: stats_nodes
// params: none
// returns: label, n — node count per label
MATCH (n)
UNWIND labels(n) AS label
RETURN label, count(*) AS n
ORDER BY label
