// name: reviews_per_month
// params: none
// returns: month ('YYYY-MM', UTC), reviews, rated (reviews with a rating), avg_rating, avg_sentiment — one row per calendar month, oldest first
// Portable (FalkorDB and Neo4j): Review.month and Review.date ('YYYY-MM-DD') are stored at ingest,
// because FalkorDB has no datetime({epochMillis: ...}). Per day: group by r.date instead;
// one product: add {id: $id} to a MATCH (r)-[:ABOUT]->(p:Product).
MATCH (r:Review)
WHERE r.month IS NOT NULL
RETURN r.month AS month, count(r) AS reviews, count(r.rating) AS rated, avg(r.rating) AS avg_rating,
       avg(r.sentiment) AS avg_sentiment
ORDER BY month
