// name: server_settings (Neo4j)
// params: $prefixes (setting name prefixes)
// returns: name, value — of the server's settings whose names start with one of $prefixes
SHOW SETTINGS YIELD name, value
WHERE any(p IN $prefixes WHERE name STARTS WITH p)
RETURN name, value
