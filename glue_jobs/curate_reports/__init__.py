"""Curate raw SP-API report documents into typed, deduplicated, partitioned Parquet, driven by the schema registry."""
