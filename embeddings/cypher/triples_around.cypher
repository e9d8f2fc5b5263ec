// name: triples_around
// params: $users (User ids), $products (Product ids), $types (relationship types exported)
// returns: one row per relationship of one of those types that starts at one of the users, or starts or
// ends at one of the products: h_label, h_key, rel, t_label, t_key (keys per kg.foundation.schema.KEYS).
// kg serve's fold-in reads only the neighbourhood of a batch's users and products, not the whole graph.
CALL {
    UNWIND $users AS key
    MATCH (h:User {id: key})-[r]->(t)
    WHERE type(r) IN $types
    RETURN h, r, t
    UNION
    UNWIND $products AS key
    MATCH (h:Product {id: key})-[r]->(t)
    WHERE type(r) IN $types
    RETURN h, r, t
    UNION
    UNWIND $products AS key
    MATCH (h)-[r]->(t:Product {id: key})
    WHERE type(r) IN $types
    RETURN h, r, t
}
WITH labels(h)[0] AS h_label, h, type(r) AS rel, labels(t)[0] AS t_label, t
RETURN h_label,
       CASE h_label WHEN 'Category' THEN h.path WHEN 'Brand' THEN h.name WHEN 'Aspect' THEN h.name ELSE h.id END AS h_key,
       rel,
       t_label,
       CASE t_label WHEN 'Category' THEN t.path WHEN 'Brand' THEN t.name WHEN 'Aspect' THEN t.name ELSE t.id END AS t_key
