// name: schema_key_index (FalkorDB)
// params: none; identifiers {{label}}, {{key}}
// returns: nothing. The range index a uniqueness constraint on {{label}}.{{key}} needs.
CREATE INDEX FOR (n:{{label}}) ON (n.{{key}})
