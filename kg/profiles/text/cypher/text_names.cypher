// name: text_names
// params: none; identifiers {{label}} (Product, Brand, Category, Aspect, Segment) and {{prop}} (the name property)
// returns: name — every distinct non-empty name of that kind in the shop (the checker's catalogue)
MATCH (n:{{label}})
WHERE n.{{prop}} IS NOT NULL AND n.{{prop}} <> ''
RETURN DISTINCT n.{{prop}} AS name
