"""Actions the audit trail records."""

from django.db import models


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    CHANGE = "change", "Change"
    DELETE = "delete", "Delete"
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REVOKE = "revoke", "Revoke"
    # A decision refused by a rule (a requester approving their own exception); what was attempted is in `changes`.
    DENY = "deny", "Denied"
    UPLOAD = "upload", "Upload"
    DOWNLOAD = "download", "Download"
    REMIND = "remind", "Reminder sent"
    FLAG_STALE = "flag_stale", "Flagged stale"
    LOGIN = "login", "Login"
    LOGIN_FAILED = "login_failed", "Failed login"
    # Too many failed logins for one username from one address: further attempts are refused (django-axes).
    LOCKOUT = "lockout", "Locked out"
    # The daily verification of every snapshot hash, chain, evidence file and report (manage.py verify_evidence).
    VERIFY = "verify", "Evidence verified"
