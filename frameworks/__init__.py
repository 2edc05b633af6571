"""Frameworks: versioned catalogs (CIS Docker, PCI DSS, HIPAA, GDPR), their loader, requirements and crosswalks."""
