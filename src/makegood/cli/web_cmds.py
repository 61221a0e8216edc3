"""`makegood serve`: the claim pages over HTTP."""

from __future__ import annotations

import click

from makegood.cli.context import container
from makegood.cli.output import handles_errors, refuse_old_schema, say


def register(cli: click.Group) -> None:
    """Add this module's commands to the root group."""

    @cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
    @click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
    @click.option(
        "--workers",
        default=1,
        show_default=True,
        type=click.IntRange(1, 64),
        help="Processes sharing the port (about one per CPU core in production).",
    )
    @handles_errors
    def serve(host: str, port: int, workers: int) -> None:
        """Serve the claim pages (GET /claim/TOKEN shows an offer, POST applies it)."""
        import uvicorn

        from makegood.observability.metrics_dir import shared_metrics_dir
        from makegood.observability.structured_logs import logging_config
        from makegood.rate_limits import require_storage

        box = container()
        settings = box.settings
        settings.refuse_public_secret_on(host)
        refuse_old_schema(box)  # rather than a 500 on every page that reads a table
        require_storage(box.rate_limit_storage, settings.rate_limit_storage)
        # Claim links carry their token in the path: the log config masks it, and addresses,
        # in every line and traceback, as text or (MAKEGOOD_LOG_FORMAT=json) one JSON object.
        log_config = logging_config(settings)
        say(f"claim pages on http://{host}:{port}/claim/<token>; press Ctrl-C to stop")
        # Several workers write their metrics to one directory, so /metrics adds them up
        # whichever worker answers; set before the app (and prometheus_client) is imported.
        with shared_metrics_dir(workers):
            from makegood.web.app import create_app

            # One process serves the app built here; several each build their own (and their
            # own database pool) from the environment.
            uvicorn.run(
                create_app(container())
                if workers == 1
                else "makegood.web.app:app_from_environment",
                factory=workers > 1,
                workers=workers,
                host=host,
                port=port,
                log_config=log_config,
                server_header=False,
            )
