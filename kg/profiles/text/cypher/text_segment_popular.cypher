// name: text_segment_popular
// params: $limit (best sellers per segment)
// returns: segment, rank, product, title, category, brand, share — each segment's best sellers (share: the
// fraction of its members who bought it), best first
MATCH (p:Product)-[r:POPULAR_IN]->(s:Segment)
WHERE r.rank <= $limit
OPTIONAL MATCH (p)-[:IN_CATEGORY]->(c:Category)
OPTIONAL MATCH (p)-[:HAS_BRAND]->(b:Brand)
WITH s, r, p, collect(DISTINCT c.path) AS categories, collect(DISTINCT b.name) AS brands
RETURN s.id AS segment, r.rank AS rank, p.id AS product, p.title AS title, head(categories) AS category,
       head(brands) AS brand, r.share AS share
ORDER BY segment, rank
