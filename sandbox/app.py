"""The sandbox's Flask application: one blueprint per SP-API resource, plus LWA and inspection."""

from __future__ import annotations

import uuid

from flask import Flask, Response

from sandbox.api import catalog, inspection, listings, lwa, notifications, reports
from sandbox.state import Sandbox, SandboxConfig

__all__ = ["Sandbox", "SandboxConfig", "create_app"]


def create_app(sandbox: Sandbox) -> Flask:
    app = Flask("spapi-sandbox")
    app.extensions["sandbox"] = sandbox
    for module in (lwa, reports, notifications, catalog, listings, inspection):
        app.register_blueprint(module.blueprint)

    @app.after_request
    def request_id(response: Response) -> Response:
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return response

    return app
