"""Who the cohort keeps by failures: at least `min_failures` distinct failed attempts.

`campaign create --min-failures N` (1 by default; docs/cohort.md) sets the threshold a campaign's
cohort used, and an appeal on that campaign is judged under the same one: fewer failures did
not make the cohort either. `enough_failures` is the rule; the appeal path
(services/appeal_processing.py) asks it for one account. The cohort engines apply it in bulk,
in their own language: `telemetry/cohort.py` (`_COHORT_SQL`'s `kept`, DuckDB, and
`cohort_result`'s `below_min_failures` count, its negation) and `telemetry/spark.py`
(`_cohort_frame`'s `kept`). `tests/integration/test_cohort_semantics.py` holds DuckDB's forms
equal to `enough_failures`, and `tests/integration/test_spark_cohort.py` holds Spark equal to
DuckDB.
"""

from __future__ import annotations

from makegood.domain.errors import InvalidInput

# Why an account with failures, but fewer than the threshold, is not kept: the name of the
# cohort's statistic (`CohortStats.below_min_failures`) and an appeal's finding.
BELOW_MIN_FAILURES = "below_min_failures"


def check_min_failures(min_failures: int) -> None:
    """InvalidInput unless the threshold is at least 1 (a cohort of accounts with no failure
    would be every account)."""
    if min_failures < 1:
        raise InvalidInput("--min-failures must be at least 1")


def enough_failures(failed_attempts: int, min_failures: int) -> bool:
    """Whether `failed_attempts` distinct failures meet the threshold `min_failures`."""
    return failed_attempts >= min_failures
