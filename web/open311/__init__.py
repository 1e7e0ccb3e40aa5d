"""Open311 GeoReport v2: the standard API for civic service requests (docs/open311.md)."""

from web.open311.router import BASE_PATH, open311_routes

# The demo application's key (feedback_core/data/demo_api_clients.json holds its SHA-256);
# `make run` prints it when the demo clients are loaded.
DEMO_API_KEY = "demo-open311-key-2026"

__all__ = ["BASE_PATH", "DEMO_API_KEY", "open311_routes"]
