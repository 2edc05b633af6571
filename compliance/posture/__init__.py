"""Posture: the status of each framework requirement over the hosts in scope, now or as of a past moment."""
