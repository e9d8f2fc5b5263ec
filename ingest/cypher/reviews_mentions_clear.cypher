// name: reviews_mentions_clear
// params: $rows = [review id] — reviews about to be (re-)written
// returns: nothing. Drops the reviews' MENTIONS edges so the new extraction replaces them exactly.
UNWIND $rows AS k
MATCH (r:Review {id: k})-[m:MENTIONS]->()
DELETE m
