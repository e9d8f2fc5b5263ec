// name: segment_popular_products
// description: A segment's best sellers (share: fraction of its members who bought the product).
// subject: segment
// param: segment int example=1 -- the segment's id
// param: limit int default=10 min=0 example=5 -- rows wanted
// returns: rank, product, title, share
MATCH (p:Product)-[r:POPULAR_IN]->(:Segment {id: $segment})
RETURN r.rank AS rank, p.id AS product, p.title AS title, r.share AS share
ORDER BY rank, product
LIMIT $limit
