"""The web front: QR pages, tracking and the staff queue (FastAPI + Jinja2, no JavaScript)."""
