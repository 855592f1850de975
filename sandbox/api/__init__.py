"""HTTP surface of the sandbox, one module per SP-API resource."""
