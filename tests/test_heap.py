"""common/heap.py: server processes keep the collector off their startup heap, and ingest pauses it while it holds
a parsed snapshot."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.heap import collection_paused

ROOT = Path(__file__).resolve().parent.parent


def test_the_wsgi_application_freezes_its_startup_heap_with_the_views_loaded():
    code = (
        "import gc, sys; import plimsoll.wsgi; "
        "print(gc.get_freeze_count(), 'inventory.api' in sys.modules, 'compliance.dashboard.views' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "plimsoll.settings"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    frozen, api_loaded, pages_loaded = out.stdout.split()
    assert int(frozen) > 50_000
    assert api_loaded == "True" and pages_loaded == "True"


def test_collection_is_paused_inside_and_back_after_even_on_error():
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # only the outermost pause turns it back on
    assert gc.isenabled()
    with pytest.raises(ValueError), collection_paused():
        raise ValueError
    assert gc.isenabled()


def test_a_caller_that_turned_collection_off_keeps_it_off():
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
