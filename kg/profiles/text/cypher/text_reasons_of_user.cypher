// name: text_reasons_of_user
// params: $id (pseudonymised user id)
// returns: product, rank, text, source, model — the reason sentences stored on the user's recommendations
MATCH (:User {id: $id})-[r:RECOMMENDED]->(p:Product)
WHERE r.reason_text IS NOT NULL
RETURN p.id AS product, r.rank AS rank, r.reason_text AS text, r.reason_text_source AS source,
       r.reason_text_model AS model
ORDER BY rank
