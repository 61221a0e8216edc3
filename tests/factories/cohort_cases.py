"""Attempt rows with the impact each account should get, worked out by hand (docs/cohort.md)."""

from __future__ import annotations

from tests.factories.files import attempt

ROWS = [
    # recovers: failures 12:10 and 12:20, watches at 12:35 -> 25 minutes, not strict
    attempt("recovers", "2026-03-22T12:10:00Z"),
    attempt("recovers", "2026-03-22T12:20:00Z"),
    attempt("recovers", "2026-03-22T12:35:00Z", outcome="success"),
    attempt("recovers", "2026-03-22T12:50:00Z", outcome="success"),
    # never: one failure at 13:00:30, nothing after -> 179.5 minutes, rounded up to 180
    attempt("never", "2026-03-22T13:00:30Z"),
    # watched_before: a success before the first failure does not count
    attempt("watched_before", "2026-03-22T12:05:00Z", outcome="success"),
    attempt("watched_before", "2026-03-22T12:30:00Z"),
    # last_moment: 0.5 s before the end -> 1 minute, the least impact there is
    attempt("last_moment", "2026-03-22T15:59:59.500000Z"),
    # after_end: its success at the window's end (excluded) does not end the impact
    attempt("after_end", "2026-03-22T12:00:00Z"),
    attempt("after_end", "2026-03-22T16:00:00Z", outcome="success"),
    # elsewhere: fails in scope, then watches in a region outside it: it could watch again
    attempt("elsewhere", "2026-03-22T13:00:00Z", region="us-east"),
    attempt("elsewhere", "2026-03-22T13:07:00+00:00", outcome="success", region="eu-west"),
    # same_instant: a success logged at the very instant of the failure is not after it
    attempt("same_instant", "2026-03-22T14:00:00Z"),
    attempt("same_instant", "2026-03-22T14:00:00Z", outcome="success"),
    # twice: the same failure logged twice is one failed attempt
    attempt("twice", "2026-03-22T15:00:00Z"),
    attempt("twice", "2026-03-22T15:00:00Z"),
    # out_of_scope: fails only in a region outside the scope
    attempt("out_of_scope", "2026-03-22T13:00:00Z", region="eu-west"),
    # offsets: +05:30 and -08:00 converted before the window applies
    attempt("ist", "2026-03-22T19:30:00+05:30"),  # 14:00Z
    attempt("ist", "2026-03-22T06:30:00-08:00", outcome="success"),  # 14:30Z -> 30 minutes
    # nulls: no account or no timestamp: skipped
    attempt("", "2026-03-22T13:00:00Z"),
    attempt("no_ts", ""),
]

IMPACT = {
    "after_end": 240,
    "elsewhere": 7,
    "ist": 30,
    "last_moment": 1,
    "never": 180,
    "recovers": 25,
    "same_instant": 120,
    "twice": 60,
    "watched_before": 210,
}
