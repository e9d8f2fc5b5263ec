"""kg: user-interest knowledge graphs for shops.

Ingest behaviour logs, catalogues and reviews into a graph database (Neo4j 5, or the embedded
FalkorDB default), learn knowledge-graph embeddings with PyKEEN and write them back for Cypher.
"""

__all__ = ["__version__"]

__version__ = "0.5.0"
