// name: schema_unique_name (Neo4j)
// params: $label, $key
// returns: name — of the uniqueness constraint on $label.$key (no row when there is none)
SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties
WHERE type = 'UNIQUENESS' AND labelsOrTypes = [$label] AND properties = [$key]
RETURN name
