"""What every app shares: roles, API errors, pagination, CSV, the read-only admin base, label selectors, timestamps.

Imports Django and DRF only, never one of the project's apps.
"""
