// name: product_vector
// params: $id (Product id)
// returns: id, title, vector (the embedding as a list; null when not embedded), run (embedding_run)
MATCH (p:Product {id: $id})
RETURN p.id AS id, p.title AS title, p.embedding AS vector, p.embedding_run AS run
