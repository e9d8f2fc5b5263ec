// name: relationship_types
// params: none
// returns: type — every relationship type the graph knows (may include types with no edges left)
CALL db.relationshipTypes() YIELD relationshipType
RETURN relationshipType AS type
