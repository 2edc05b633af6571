"""Inventory: agent tokens, hosts, snapshots and what they hold; the ingest API. The agent lives in inventory/agent/."""
