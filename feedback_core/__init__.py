"""Phản ánh core: the domain model (no I/O) and the applications that store it."""
