"""Run every benchmark module in this package (``python -m bench [name ...]``)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    package = Path(__file__).resolve().parent
    names = sorted(
        info.name for info in pkgutil.iter_modules([str(package)]) if not info.name.startswith("_")
    )
    wanted = argv or names
    status = 0
    for name in wanted:
        if name not in names:
            print(f"bench: no benchmark module {name!r} (have: {', '.join(names)})", file=sys.stderr)
            return 2
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "main", None)
        if run is None:
            continue
        print(f"== bench.{name} ==", flush=True)
        status = max(status, int(run() or 0))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
