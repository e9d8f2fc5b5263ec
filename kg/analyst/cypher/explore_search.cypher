// name: explore_search (kg explore)
// params: $keys = [key values to match exactly], $lower = lower-cased text to find in the name, $limit (int)
// identifiers: {{label}}, {{key}} (its key property), {{shown}} (the property shown as its name)
// returns: key, name; exact key matches first. Read-only.
MATCH (n:{{label}})
WHERE n.{{key}} IN $keys OR ($lower <> '' AND toLower(toString(n.{{shown}})) CONTAINS $lower)
RETURN n.{{key}} AS key, n.{{shown}} AS name, CASE WHEN n.{{key}} IN $keys THEN 0 ELSE 1 END AS rank
ORDER BY rank, name, key
LIMIT $limit
