"""Errors of the deployment code. Every class name ends in `Error` (STYLE.md §6)."""

from __future__ import annotations


class DeploymentError(Exception):
    """A stack could not be deployed, or a template cannot be read."""


class TemplateError(DeploymentError):
    """A template that does not parse."""


class StackFailedError(DeploymentError):
    """A stack ended in a failed state; the message names the resources that failed and why."""
