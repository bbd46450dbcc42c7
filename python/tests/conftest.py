"""Shared fixtures: the repository's `../shared` data, one engine and the bundled model.

Under CI=true a missing adapter fails the tests (as the Rust tests do) instead of skipping."""

import os
from pathlib import Path

import pytest

import effnet

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
PHOTOS = sorted((SHARED / "images").glob("*.JPEG"))


@pytest.fixture(scope="session")
def engine():
    try:
        return effnet.Engine()
    except effnet.NoAdapterError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no GPU adapter (install mesa-vulkan-drivers for lavapipe)")


@pytest.fixture(scope="session")
def lite0(engine):
    return engine.load()


@pytest.fixture(scope="session")
def photos():
    assert len(PHOTOS) == 16, f"expected the 16 shared photos in {SHARED / 'images'}"
    return [str(p) for p in PHOTOS]
