"""The audit trail: who did what, when, to which object; append-only."""
