"""Manual evidence: files, links and notes that attest CIS recommendations or framework requirements."""
