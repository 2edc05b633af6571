"""Root conftest: plugins shared by the whole suite, and settings every test process needs."""

pytest_plugins = ["tests.podman"]


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    # The test client and the session-wide live server speak plain HTTP; the live server builds its middleware once,
    # so the HTTPS redirect must be off before any test starts it.
    settings.SECURE_SSL_REDIRECT = False
    # The fixture users need no real password hashing; PBKDF2 would cost a third of a second per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
