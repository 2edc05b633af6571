"""Collectors, one module per part of snapshot format v1."""
