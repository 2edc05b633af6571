"""Host pages: the host list and a host's results as posture judges them."""
