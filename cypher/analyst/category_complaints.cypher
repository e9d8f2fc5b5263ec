// name: category_complaints
// description: The most complained-about aspects in a category and its subcategories (negative mentions).
// subject: category
// param: category text example="Gift Cards" -- the category's path (' > ' between levels)
// param: limit int default=10 min=0 example=5 -- rows wanted
// returns: aspect, negative, mentions, negative_share, products
MATCH (:Category {path: $category})<-[:SUBCATEGORY_OF*0..]-(:Category)<-[:IN_CATEGORY]-(p:Product)
      -[h:HAS_ASPECT]->(a:Aspect)
WITH a, toInteger(sum(h.negative)) AS negative, toInteger(sum(h.mentions)) AS mentions, count(DISTINCT p) AS products
WHERE negative > 0
RETURN a.name AS aspect, negative, mentions, round(1000.0 * negative / mentions) / 1000.0 AS negative_share, products
ORDER BY negative DESC, negative_share DESC, aspect
LIMIT $limit
