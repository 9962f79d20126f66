"""Kernel inspectors (placeholder)."""
