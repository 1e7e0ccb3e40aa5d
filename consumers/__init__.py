"""Kafka publishers and subscribers (FastStream) around the Cases application."""
