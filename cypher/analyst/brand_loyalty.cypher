// name: brand_loyalty
// description: Brands by repeat buyers: people who bought the brand at least twice, as a share of its buyers.
// subject: shop
// param: min_buyers int default=1 min=1 example=10 -- brands with at least this many buyers
// param: limit int default=20 min=0 example=10 -- rows wanted
// returns: brand, buyers, repeat_buyers, repeat_share
MATCH (b:Brand)<-[:HAS_BRAND]-(:Product)<-[e:PURCHASED]-(u:User)
WITH b, u, sum(e.count) AS purchases
WITH b, count(u) AS buyers, toInteger(sum(CASE WHEN purchases >= 2 THEN 1 ELSE 0 END)) AS repeat_buyers
WHERE buyers >= $min_buyers
RETURN b.name AS brand, buyers, repeat_buyers, round(1000.0 * repeat_buyers / buyers) / 1000.0 AS repeat_share
ORDER BY repeat_share DESC, buyers DESC, brand
LIMIT $limit
