// name: runs_in_graph
// params: none
// returns: run, model, dim, nodes — which training runs the embeddings on the nodes come from (older runs
// stay identifiable: a node not in the newest export keeps the embedding_run of the run that wrote it)
MATCH (n)
WHERE n.embedding_run IS NOT NULL
RETURN n.embedding_run AS run, n.embedding_model AS model, n.embedding_dim AS dim, count(*) AS nodes
ORDER BY nodes DESC
