// name: categories_merge
// params: $rows = [{path, name, depth, parent}] (parent = path of the parent or null), parents first
// returns: nothing
UNWIND $rows AS row
MERGE (c:Category {path: row.path})
SET c.name = row.name, c.depth = row.depth
WITH c, row WHERE row.parent IS NOT NULL
MERGE (parent:Category {path: row.parent})
MERGE (c)-[:SUBCATEGORY_OF]->(parent)
