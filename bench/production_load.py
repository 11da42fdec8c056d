"""Figures for docs/production-load.md: what a full scan and export cost, unpaced and paced, with
and without the local server throttling. Starts its own quick stack (no apps), seeds it as
tests/integration/test_gentle.py does (2,000 small documents in 200 partitions), and for each run
prints the RU spent, the time, the rate, the requests, the 429s the explorer waited out and the
priorities the server recorded. ~30 s.

    .venv/bin/python bench/production_load.py
    .venv/bin/python bench/production_load.py --smoke   # every RU/s x 2 (the throttled and the paced runs still wait): ~15 s
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.smoke import smoke_args  # noqa: E402
from explorer.core.ru_budget import DEFAULT_PRODUCTION_RU_PER_SECOND, RuBudget  # noqa: E402
from explorer.localstack import server_control  # noqa: E402
from explorer.localstack.manager import LocalStack  # noqa: E402
from tests.integration.test_gentle import CONTAINER, DATABASE, scan_and_export, seed_many  # noqa: E402

RUNS = (  # (label, the server's RU/s for the container or None, the lister's budget or None)
    ("no throttling, unpaced", None, None),
    ("server at 150 RU/s, unpaced", 150, None),
    (f"server at 400 RU/s, budget {DEFAULT_PRODUCTION_RU_PER_SECOND:g} RU/s (the default)", 400,
     DEFAULT_PRODUCTION_RU_PER_SECOND),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate-factor", type=float, default=1.0,
                        help="multiplies the server's RU/s and the budget of every run (said after each label)")
    factor = smoke_args(parser, rate_factor=2.0).rate_factor
    with LocalStack(app_ids=("chat-api",)) as stack:
        seed_many(stack)
        for label, limit, rate in RUNS:
            if factor != 1:
                limit, rate = limit and limit * factor, rate and rate * factor
                label += f" x {factor:g}: server {limit or 'unthrottled'}, budget {rate or 'none'}"
            server_control.unthrottle(stack)
            server_control.clear(stack)
            if limit:
                server_control.throttle(stack, limit, DATABASE, CONTAINER)
            run = asyncio.run(scan_and_export(stack, RuBudget(rate) if rate else None))
            figures = {"partitions": run.partitions, "documents": run.documents, "RU": round(run.ru_spent, 1),
                       "seconds": round(run.seconds, 2), "RU/s": round(run.ru_spent / run.seconds, 1),
                       "429s waited": len(run.waits), "seconds waited": round(sum(run.waits), 2)}
            ours = [r for r in server_control.requests(stack) if r.from_explorer]
            figures.update(requests=len(ours), priorities=sorted({str(r.priority) for r in ours}))
            print(f"{label}: {figures}", flush=True)


if __name__ == "__main__":
    main()
