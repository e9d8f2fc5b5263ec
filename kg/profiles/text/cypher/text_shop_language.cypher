// name: text_shop_language
// params: none
// returns: lang, reviews — the language most of the shop's reviews are in (no row without reviews)
MATCH (r:Review)
WHERE r.lang IS NOT NULL
RETURN r.lang AS lang, count(r) AS reviews
ORDER BY reviews DESC, lang
LIMIT 1
