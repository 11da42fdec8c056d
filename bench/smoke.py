"""The `--smoke` option every bench script has: the same code path at tiny sizes and one round, in
seconds, so that tests/integration/test_bench_smoke.py can run each script as a person reruns it and a
rename breaks the suite instead of the bench. A smoke run's figures mean nothing; its exit code does
(non-zero on any failure, as a full run).

What it must never do: change what a full run measures (it only replaces the sizes a script was given
when --smoke is on), or be imported by the product.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def smoke_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None, **tiny) -> argparse.Namespace:
    """Add --smoke to `parser`, parse `argv`, and with --smoke set each option named in `tiny` to its
    tiny value (the option's dest: `scroll_keys=300`)."""
    sizes = ", ".join(f"--{name.replace('_', '-')} {value}" for name, value in tiny.items())
    parser.add_argument("--smoke", action="store_true",
                        help=f"seconds, not a measurement: the same code path with {sizes or 'its smallest sizes'}")
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in tiny.items():
            if not hasattr(args, name):
                raise AttributeError(f"--smoke sets {name!r}, which the parser does not have")
            setattr(args, name, value)
    return args
