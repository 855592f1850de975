"""Governance as code: the schema registry, its renderers, and (later) grants."""
