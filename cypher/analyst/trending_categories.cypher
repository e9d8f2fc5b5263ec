// name: trending_categories
// description: Categories gaining people in a time window: active users, and those new to the category then.
// subject: shop
// param: since text example=2024-03-01 -- first day of the window (YYYY-MM-DD, UTC)
// param: until text default=9999-12-31 example=2024-03-31 -- last day of the window (YYYY-MM-DD, UTC)
// param: limit int default=10 min=0 example=5 -- rows wanted
// returns: category, users, new_users, new_share
// Per (category, user) over the category and its subcategories: active when the user's first event there is
// on or before `until` and the last on or after `since`; new when the first falls inside the window.
MATCH (u:User)-[e:VIEWED|FAVORITED|CARTED|PURCHASED|RATED]->(:Product)-[:IN_CATEGORY]->(leaf:Category)
WITH leaf, u, min(e.first_date) AS first, max(e.last_date) AS last
MATCH (leaf)-[:SUBCATEGORY_OF*0..]->(c:Category)
WITH c, u, min(first) AS first, max(last) AS last
WHERE last >= $since AND first <= $until
WITH c, count(u) AS users, toInteger(sum(CASE WHEN first >= $since THEN 1 ELSE 0 END)) AS new_users
RETURN c.path AS category, users, new_users, round(1000.0 * new_users / users) / 1000.0 AS new_share
ORDER BY new_users DESC, users DESC, category
LIMIT $limit
