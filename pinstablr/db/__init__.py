"""Database topology: aliases, the router, per-request read routing and replica health."""
