// name: path_step
// params: $a, $b (key values); identifiers {{a_label}} {{a_key}} {{rel}} {{b_label}} {{b_key}}
// returns: n — how many {{rel}} edges lead from the first node to the second (a reason's path step)
MATCH (a:{{a_label}} {{{a_key}}: $a})-[:{{rel}}]->(b:{{b_label}} {{{b_key}}: $b})
RETURN count(*) AS n
