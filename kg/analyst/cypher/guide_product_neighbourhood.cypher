// name: guide_product_neighbourhood
// params: $product (Product id)
// returns: path — one product and every node one relationship away (buyers and viewers, brand, category,
// reviews, aspects, products bought together): the Neo4j Browser guide's graph slide
MATCH path = (p:Product {id: $product})--()
RETURN path
LIMIT 100
