// name: text_reason_write
// params: $rows = [{user, product, text, source ("model"|"template"), model}], $run (the profiles run)
// returns: nothing. Sets reason_text, reason_text_source, reason_text_model, reason_text_run on the user's
// RECOMMENDED edge to the product (edges kg profiles wrote).
UNWIND $rows AS row
MATCH (:User {id: row.user})-[r:RECOMMENDED]->(:Product {id: row.product})
SET r.reason_text = row.text, r.reason_text_source = row.source, r.reason_text_model = row.model,
    r.reason_text_run = $run
