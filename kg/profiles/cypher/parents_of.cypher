// name: parents_of
// params: $paths = [category path]
// returns: path, parent: the (:Category)-[:SUBCATEGORY_OF]->(:Category) edges from these categories.
UNWIND $paths AS k
MATCH (c:Category {path: k})-[:SUBCATEGORY_OF]->(parent:Category)
RETURN c.path AS path, parent.path AS parent
