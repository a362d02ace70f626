"""Benchmarks: `make bench` runs them all (`python -m tests.benchmarks [name ...]`).

They import the functions the way Lambda does, with functions/ on sys.path.
"""

import sys
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
if str(FUNCTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS_DIR))
