"""Running the app on waitress, a production WSGI server: bound where asked (127.0.0.1 by
default), stopped cleanly by Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

import waitress
from flask import Flask

DEFAULT_THREADS = 8
CONNECTION_LIMIT = 1000


def serve_app(
    app: Flask,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    threads: int = DEFAULT_THREADS,
    on_ready: Callable[[str], None] = print,
) -> None:
    """Serve until Ctrl-C or SIGTERM; ``on_ready(url)`` is called once the port is bound
    (``port`` 0 picks a free one)."""
    server: Any = waitress.create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="labeler",
        # One keep-alive connection per open page: waitress's default of 100 is too few for
        # a team; beyond the limit it stops accepting connections.
        connection_limit=CONNECTION_LIMIT,
        clear_untrusted_proxy_headers=True,
    )
    bound_port = getattr(server, "effective_port", port)
    shown_host = f"[{host}]" if ":" in host else host
    on_ready(f"http://{shown_host}:{bound_port}/")

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
