"""`makegood detect`: where and when the attempt logs show an outage (docs/detection.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from makegood.cli.context import container
from makegood.cli.output import handles_errors, print_json, say
from makegood.cli.source_options import attempt_source_options
from makegood.telemetry.detect import (
    Detection,
    DetectionRule,
    Segment,
    Window,
    parse_bucket,
    parse_by,
)
from makegood.telemetry.engines import ENGINES, detect_function, engine_options
from makegood.telemetry.source import AttemptSource

FC = Callable[..., object]


def detection_options(func: FC) -> FC:
    """--bucket, --by, --min-attempts, --engine, --master: shared with incident create."""
    for option in reversed(
        (
            click.option(
                "--bucket",
                default="1m",
                show_default=True,
                help="Bucket length: 30s, 1m, 5m, 1h (it must divide a day).",
            ),
            click.option(
                "--by",
                "by_text",
                default=None,
                metavar="COL1,COL2",
                help="Segment by region, device and/or error_code (default: one segment).",
            ),
            click.option(
                "--min-attempts",
                default=DetectionRule.min_attempts,
                show_default=True,
                type=click.IntRange(min=1),
                help="A bucket with fewer attempts in a segment is never flagged.",
            ),
            click.option(
                "--engine",
                type=click.Choice(ENGINES),
                default="duckdb",
                show_default=True,
                help="What scans the logs; both give identical results.",
            ),
            click.option("--master", default=None, help="Spark master URL for --engine spark."),
        )
    ):
        func = option(func)
    return func


def run_detection(
    source: AttemptSource,
    bucket: str,
    by_text: str | None,
    min_attempts: int,
    engine: str,
    master: str | None,
) -> Detection:
    """Detection with the command-line options, on the chosen engine, configured by the
    command's container (its settings)."""
    rule = DetectionRule(bucket_seconds=parse_bucket(bucket), min_attempts=min_attempts)
    config = container().engine_config
    detect = detect_function(engine)
    result: Detection = detect(
        source,
        rule,
        parse_by(by_text),
        bucket.strip(),
        say=say,
        **config.duckdb_limits(),
        **engine_options(engine, master, config),
    )
    return result


def segment_text(by: tuple[str, ...], segments: tuple[Segment, ...], limit: int = 6) -> str:
    """`eu-west/tv, us-east/web` (at most `limit`, then how many more); `all` without --by."""
    if not by:
        return "all"
    names = ["/".join(v if v is not None else "(none)" for v in s) for s in segments]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _table(detection: Detection) -> list[str]:
    header = (
        f"{'#':>3}  {'start':<25}  {'end':<25}  {'peak':>6}  {'base':>6}  "
        f"{'attempts':>10}  {'failed':>10}  {'accounts':>9}  segments"
    )
    lines = [header]
    for w in detection.windows:
        lines.append(
            f"{w.index:>3}  {w.start.isoformat():<25}  {w.end.isoformat():<25}  "
            f"{w.peak_failure_ratio:>6.1%}  {w.baseline_failure_ratio:>6.1%}  "
            f"{w.attempts:>10,}  {w.failed_attempts:>10,}  {w.accounts_touched or 0:>9,}  "
            f"{segment_text(detection.by, w.segments)}"
        )
    return lines


@click.command("detect")
@handles_errors
@attempt_source_options()
@detection_options
@click.option("--json", "as_json", is_flag=True, help="One JSON document on standard output.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw the failure ratio per segment with the windows shaded: FILE.png or FILE.svg.",
)
def detect(
    source: AttemptSource,
    bucket: str,
    by_text: str | None,
    min_attempts: int,
    engine: str,
    master: str | None,
    as_json: bool,
    plot: Path | None,
) -> None:
    """Propose outage windows: per bucket and segment, failure ratios well above the baseline.

    The baseline is the same time of day on the other days in the data, or the segment's quiet
    level when the data holds one day. Declare window N with `makegood incident create
    --from-detection N --events PATH` (same options). Rule and fields: docs/detection.md.
    """
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise click.BadParameter("the picture must end in .png or .svg", param_hint="--plot")
    detection = run_detection(source, bucket, by_text, min_attempts, engine, master)
    if plot is not None:
        from makegood.telemetry.plot import plot_detection

        say(f"wrote {plot_detection(detection, plot)}")
    if as_json:
        print_json(detection.as_dict())
        return
    if not detection.windows:
        say("no outage window proposed: no bucket's failure ratio stands out from its baseline")
        return
    for line in _table(detection):
        click.echo(line)


def window_of(detection: Detection, index: int) -> Window:
    """Window `index` (1-based) of a detection, or a clear error naming how many there are."""
    if not 1 <= index <= len(detection.windows):
        from makegood.domain.errors import NotFound

        raise NotFound(
            f"--from-detection {index}: detection proposed {len(detection.windows)} window(s); "
            f"run `makegood detect` with the same options to see them"
        )
    return detection.windows[index - 1]
