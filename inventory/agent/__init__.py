"""The Plimsoll agent: collects a snapshot (format v1) of one Docker host and pushes it to the server.

Standard library plus the `docker` SDK only; nothing here imports Django or the rest of `inventory`.
"""

__version__ = "0.1.0"
