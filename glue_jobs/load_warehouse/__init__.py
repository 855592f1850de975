"""Glue job: load the curated zone into the warehouse (Redshift; offline a DuckDB file)."""
