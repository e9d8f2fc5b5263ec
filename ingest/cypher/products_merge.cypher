// name: products_merge
// params: $rows = [{id, props: {title, price}}]
// returns: nothing. Catalogue rows set catalogued = true; stubs made by events or links lack it.
UNWIND $rows AS row
MERGE (p:Product {id: row.id})
SET p += row.props, p.catalogued = true
