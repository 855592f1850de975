"""Run the sandbox on a loopback port, in a background thread (tests, the offline runtime) or in the foreground."""

from __future__ import annotations

import errno
import json
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.app import Sandbox, SandboxConfig, create_app


class PortInUseError(RuntimeError):
    """The requested port is taken; the message names it and how to pick another."""


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Amazon's endpoints do

    def log_request(self, *args: Any, **kwargs: Any) -> None:  # request URLs carry signatures: never log them
        return


@dataclass
class RunningSandbox:
    sandbox: Sandbox
    server: BaseWSGIServer
    thread: threading.Thread | None

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def info(self) -> dict[str, Any]:
        """What any SP-API client needs to be pointed at this sandbox."""
        world = self.sandbox.world
        return {
            "spapi_endpoint": self.base_url,
            "lwa_endpoint": f"{self.base_url}/auth/o2/token",
            "client_id": world.client_id,
            "client_secret": world.client_secret,
            "accounts": [
                {
                    "account_id": a.account_id,
                    "kind": a.kind,
                    "selling_partner_id": a.selling_partner_id,
                    "region": a.region,
                    "marketplace_ids": list(a.marketplace_ids),
                    "refresh_token": a.refresh_token,
                }
                for a in world.accounts
            ],
        }

    def stop(self) -> None:
        self.sandbox.stop_ticker()
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


def bind(config: SandboxConfig, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    ensure_port_free(host, port)
    sandbox = Sandbox(config)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server(host, port, create_app(sandbox), threaded=True, request_handler=_QuietHandler)
    sandbox.start_ticker()
    return RunningSandbox(sandbox, server, None)


def ensure_port_free(host: str, port: int) -> None:
    """Fail with a clear message before werkzeug would print to stderr and exit the whole process."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                raise
            raise PortInUseError(
                f"port {port} on {host} is already in use: stop whatever holds it or pick another with --port"
            ) from err


def start_in_thread(config: SandboxConfig, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    running = bind(config, host, port)
    running.thread = threading.Thread(target=running.server.serve_forever, name="spapi-sandbox", daemon=True)
    running.thread.start()
    return running


def serve_forever(config: SandboxConfig, host: str, port: int) -> None:
    running = bind(config, host, port)
    print(json.dumps(running.info()), flush=True)
    try:
        running.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        running.sandbox.stop_ticker()
        running.server.server_close()
