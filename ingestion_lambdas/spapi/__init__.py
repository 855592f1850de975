"""The SP-API client: LWA auth, per-operation token buckets, transport with retries, one module per resource."""
