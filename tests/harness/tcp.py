"""A threaded TCP server on a free local port, for tests that speak SMTP by hand."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def serving(
    handler: type[socketserver.BaseRequestHandler], **state: object
) -> Iterator[tuple[str, socketserver.ThreadingTCPServer]]:
    """Serve `handler` until the block ends; yields the smtp:// URL and the server, on which
    `state` is set first (handlers keep what they see there, tests read it)."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    for name, value in state.items():
        setattr(server, name, value)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"smtp://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()
