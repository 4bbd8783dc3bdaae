"""Builds the match index file in a process of its own: `python -m weaponsdb.matching.builder
PATH`, the database's address on standard input (not in the arguments, which every user of
the machine may list).

A service process that built the index in a thread of its own would hold Python's global
lock against the threads answering requests for most of the build (seconds per request at
100k markings); built here, it only waits, then maps the file and applies the changes logged
since (saved.py, catalogue_index.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from weaponsdb.db import make_engine

# Below the service's priority: the answers come first, the build takes what is left.
NICENESS = 5


def main() -> None:
    from weaponsdb.matching import saved
    from weaponsdb.matching.catalogue_index import current_generation, load_targets

    path = Path(sys.argv[1])
    url = sys.stdin.read().strip()
    os.nice(NICENESS)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            saved.build(session, path, load_targets, current_generation(session))
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
