"""Estate pages: hosts, their snapshots and diffs, containers and images, each CIS recommendation across the estate."""
