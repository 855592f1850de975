"""Use cases composed of the SP-API client and storage; handlers call exactly one of these."""
