"""In-app administration for admins: agents, users and roles, time-limited auditor accounts, the site policy."""
