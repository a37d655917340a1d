"""The web console fixtures, for the mailbox pages."""

from tests.web.conftest import web_app

__all__ = ["web_app"]
