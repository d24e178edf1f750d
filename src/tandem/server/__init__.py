"""The HTTP face of Tandem: FastAPI app, ingest endpoints, REST API, pages."""

from tandem.server.app import create_app

__all__ = ["create_app"]
