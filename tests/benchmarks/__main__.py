"""Run the benchmarks named on the command line, or all of them; exit 1 if a goal fails.

Each benchmark is a module here with ``run() -> bool``: it prints its own table and goals
and answers whether every goal passed.
"""

import importlib
import sys

BENCHMARKS = ("media", "feed", "dms", "imports")


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    failed = [
        name
        for name in names or BENCHMARKS
        if not importlib.import_module(f"tests.benchmarks.{name}").run()
    ]
    if failed:
        print(f"\ngoals missed in: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
