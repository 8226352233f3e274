"""Payments settings."""
