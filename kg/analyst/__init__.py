"""analyst layer."""
