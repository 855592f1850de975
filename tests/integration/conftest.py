"""Fixtures the integration tests share (the session's offline stack is tests/conftest.py's)."""

import pytest

from sandbox.faults import Faults


@pytest.fixture
def box(stack):
    """The stack's sandbox: whatever faults a test switches on, they are off again after it."""
    yield stack.sandbox.sandbox
    stack.sandbox.sandbox.set_faults(Faults())
