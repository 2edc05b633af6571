"""Root conftest: plugins shared by the whole suite."""

pytest_plugins = ["tests.podman"]
