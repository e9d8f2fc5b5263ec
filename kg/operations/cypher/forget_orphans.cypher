// name: forget_orphans
// params: $rows = [key]; identifiers {{label}} {{key}} (Aspect name | Product id)
// returns: deleted — nodes among $rows left without any relationship and with no property but their key:
// created only by the forgotten person's reviews or events (a catalogue product keeps its title etc.).
UNWIND $rows AS k
MATCH (n:{{label}} {{{key}}: k})
OPTIONAL MATCH (n)-[r]-()
WITH n, count(r) AS edges
WHERE edges = 0 AND size(keys(n)) = 1
DELETE n
RETURN count(*) AS deleted
