"""The dashboard: one HTML shell at ``/`` and its assets under ``/ui/static/`` (HTML, CSS and ES modules
shipped in this package, nothing from a CDN, no build step). The pages read the public ``/v1`` API from the
browser with the key the user enters, so the shell and its assets need no key and carry no data."""

from app.ui.routes import install_ui

__all__ = ["install_ui"]
