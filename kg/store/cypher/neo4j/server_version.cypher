// name: server_version (Neo4j)
// params: none
// returns: name, version — of the Neo4j kernel component.
CALL dbms.components() YIELD name, versions
RETURN name, versions[0] AS version
