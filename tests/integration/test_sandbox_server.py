import json
import socket
import subprocess
import sys

import pytest

from sandbox.app import SandboxConfig
from sandbox.server import PortInUseError, bind


@pytest.fixture
def busy_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_port_in_use_is_a_clear_error(busy_port):
    with pytest.raises(PortInUseError, match=f"port {busy_port} .* already in use"):
        bind(SandboxConfig(), port=busy_port)


def test_cli_reports_a_port_in_use_and_exits_2(busy_port):
    result = subprocess.run(
        [sys.executable, "-m", "local.cli", "sandbox", "serve", "--port", str(busy_port)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"port {busy_port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_prints_the_endpoints_and_demo_credentials():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "local.cli", "sandbox", "serve", "--port", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        info = json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert info["spapi_endpoint"] == f"http://127.0.0.1:{port}"
    assert info["lwa_endpoint"].endswith("/auth/o2/token")
    assert {a["region"] for a in info["accounts"]} == {"NA", "EU", "FE"}
    assert all(a["refresh_token"].startswith("Atzr|") for a in info["accounts"])
