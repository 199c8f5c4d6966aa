"""The bench's one table, and whether the issue's targets were met."""

from __future__ import annotations

import math
import os

NEARLY_DOUBLE = 1.8  # the "two workers nearly double one worker's speed"


def _num(value, digits=0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _cpu(r) -> str:
    def share(value):
        return f"{value * 100:.0f}%" if value is not None else "–"

    return f"{share(r.sandbox_cpu)} / {share(r.worker_cpu)} / {share(r.machine_cpu)}"


def table(results) -> str:
    head = (
        "run",
        "orders",
        "seconds",
        "orders/s",
        "pages/s",
        "rows written/s",
        "peak worker RSS",
        "CPU: sandbox / ours / machine",
    )
    rows = [
        (
            r.name,
            _num(r.orders),
            _num(r.seconds, 1),
            _num(r.orders_per_s),
            _num(r.pages_per_s, 1),
            _num(r.rows_per_s),
            f"{r.rss_mb:.0f} MB" if r.rss_mb else "–",
            _cpu(r),
        )
        for r in results
    ]
    notes = [
        "CPU, in % of one core over the run: the sandbox process, our side (the worker "
        "processes, or this process for the ceilings), and the whole machine (everything, "
        "PostgreSQL included).",
        *(f"- {r.name}: {n}" for r in results for n in r.notes),
    ]
    return "\n".join([markdown(head, rows), "", *notes])


def percentile(values, p: float) -> float | None:
    """Nearest rank: the value `p` % of them are at or under."""
    if not values:
        return None
    ranked = sorted(values)
    return ranked[max(0, math.ceil(p / 100 * len(ranked)) - 1)]


def markdown(head, rows) -> str:
    """A Markdown table, columns aligned: the first to the left, figures to the right."""
    widths = [max(len(str(x)) for x in column) for column in zip(head, *rows, strict=True)]

    def line(cells):
        first = f"{cells[0]:<{widths[0]}}"
        rest = [f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "| " + " | ".join([first, *rest]) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), rule, *(line(row) for row in rows)])


def verdicts(one, two, fetch, write, naive, scaling) -> str:
    lower = min(fetch.orders_per_s, write.orders_per_s)
    checks = [
        (
            "end to end (1 worker) ≥ 0.6 × the lower ceiling",
            one.orders_per_s / lower,
            0.6,
        ),
        (
            "end to end (1 worker) ≥ 20 × the naive importer",
            one.orders_per_s / naive.orders_per_s,
            20,
        ),
        (
            "end to end (2 workers) ≥ 20 × the naive importer",
            two.orders_per_s / naive.orders_per_s,
            20,
        ),
    ]
    lines = [
        f"{'✔' if ratio >= target else '✖'} {text}: {ratio:.2f}×" for text, ratio, target in checks
    ]
    rss = max(r.rss_mb or 0 for r in (one, two))
    lines.append(f"{'✔' if rss < 300 else '✖'} peak worker RSS under 300 MB: {rss:.0f} MB")
    verdict = scaling_verdict(scaling)
    if verdict:
        lines.append(verdict)
    return "\n".join(lines)


def scaling_verdict(scaling) -> str:
    if len(scaling) != 2:
        return ""
    ratio = scaling[1].orders_per_s / scaling[0].orders_per_s
    line = f"{'✔' if ratio >= NEARLY_DOUBLE else '✖'} with sandbox latency, 2 workers vs 1: "
    line += f"{ratio:.2f}×"
    busy, cores = scaling[0].machine_cpu, os.cpu_count() or 1
    if busy:
        # A second worker can only use what the first left of the machine's cores.
        line += (
            f" (this machine allows at most {min(2.0, cores / busy):.2f}×: one worker "
            f"already keeps {busy:.2f} of its {cores} cores busy)"
        )
    return line
