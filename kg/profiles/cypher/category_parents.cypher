// name: category_parents
// params: none
// returns: path, parent: every (:Category)-[:SUBCATEGORY_OF]->(:Category) edge.
MATCH (c:Category)-[:SUBCATEGORY_OF]->(parent:Category)
RETURN c.path AS path, parent.path AS parent
