"""Offline runtime: moto's server, the SP-API sandbox, local Spark and DuckDB, wired by configuration only."""
