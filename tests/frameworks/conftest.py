"""Fixtures for the frameworks tests: the shipped catalogs loaded, a logged-in user, and editable catalog copies."""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User
from django.test import Client

from frameworks.loader import CATALOG_DIR, LoadReport, load_catalogs


@pytest.fixture
def catalogs(db: None) -> LoadReport:
    """Every shipped catalog and crosswalk, loaded."""
    return load_catalogs()


@pytest.fixture
def alice_client(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A writable copy of frameworks/catalog/ for tests that break or bump a file."""
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target, ignore=shutil.ignore_patterns("tools"))
    return target


@pytest.fixture
def edit_yaml() -> Callable[[Path, Callable[[dict], None]], None]:
    """Rewrite a YAML file after changing its parsed content in place."""

    def edit(path: Path, change: Callable[[dict], None]) -> None:
        data = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        change(data)
        path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True))

    return edit
