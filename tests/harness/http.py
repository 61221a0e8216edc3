"""The web app under uvicorn on a free local port, with what it logged."""

from __future__ import annotations

import io
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from makegood.observability.redaction import MaskClaimTokens, uvicorn_log_config


@contextmanager
def served(app: FastAPI) -> Iterator[tuple[str, io.StringIO]]:
    """Run `app` under uvicorn on a free port; yields its base URL and what it logged."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # the kernel picks a free port; uvicorn listens on this socket
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=uvicorn_log_config(), access_log=True, lifespan="off")
    # Send the configured handlers (with their token-masking filter) into a buffer we can read.
    log = io.StringIO()
    for name in ("uvicorn", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            assert isinstance(handler, logging.StreamHandler)
            assert any(isinstance(f, MaskClaimTokens) for f in handler.filters)
            handler.setStream(log)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        waited = threading.Event()
        while not server.started:  # poll the server's own flag; bail out if it died
            assert thread.is_alive(), "uvicorn stopped before it started"
            waited.wait(0.01)
        yield f"http://127.0.0.1:{port}", log
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
