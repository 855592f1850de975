"""Ingestion: the SP-API client, the use cases that land data in the raw zone, and thin Lambda handlers."""
