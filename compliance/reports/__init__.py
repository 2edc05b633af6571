"""Auditor-ready reports: signed PDF assessments with their evidence pack."""
