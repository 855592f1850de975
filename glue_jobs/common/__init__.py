"""Shared pieces of the Glue jobs: Spark session, registry → Spark types, catalog registration, lake I/O."""
