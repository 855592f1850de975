"""Login with Amazon: POST /auth/o2/token."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sandbox.api.common import sandbox
from sandbox.lwa import LwaError

blueprint = Blueprint("lwa", __name__)


@blueprint.post("/auth/o2/token")
def token() -> Response:
    try:
        body = sandbox().lwa.exchange(request.form.to_dict())
    except LwaError as err:
        response = jsonify({"error": err.error, "error_description": err.description})
        response.status_code = err.status
        return response
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response
