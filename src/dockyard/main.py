"""The ``dockyard`` console entry point: the HTTP-only CLI plus the server commands."""

from __future__ import annotations

from dockyard import serve
from dockyard.cli.app import app


def main() -> None:
    serve.register(app)
    app()


if __name__ == "__main__":
    main()
