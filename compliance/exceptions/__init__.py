"""Exceptions (risk acceptances): requested -> approved | rejected; approved -> expired | revoked."""
