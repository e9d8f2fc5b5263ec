// name: reviews_merge
// params: $rows = [{id, user (pseudonym), item, rating (or null), created_at (epoch ms), date ('YYYY-MM-DD', UTC), month ('YYYY-MM'), lang, route, text (scrubbed, or null)}]
// returns: nothing. Idempotent: MERGE on Review.id; text is null (removed) unless --store-text was given.
UNWIND $rows AS row
MERGE (r:Review {id: row.id})
SET r.rating = row.rating, r.created_at = row.created_at, r.date = row.date, r.month = row.month,
    r.lang = row.lang, r.route = row.route,
    r.text = row.text
MERGE (u:User {id: row.user})
MERGE (p:Product {id: row.item})
MERGE (u)-[:WROTE]->(r)
MERGE (r)-[:ABOUT]->(p)
