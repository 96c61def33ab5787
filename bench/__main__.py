"""Run the benchmarks: ``python -m bench [name ...] [-- extra args]`` (``make bench``).

Each ``bench/bench_<name>.py`` has a ``main(argv)``; with no names all of them run in turn.
Results are printed, and also written as JSON under ``bench/results/`` when a module returns them.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def available() -> list[str]:
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name.startswith("bench_")
    )


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    names = argv or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available()}", file=sys.stderr)
        return 2
    results_dir = HERE / "results"
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        module = importlib.import_module(f"bench.bench_{name}")
        started = time.perf_counter()
        result = module.main(extra)
        print(f"=== {name} done in {time.perf_counter() - started:.1f} s ===", flush=True)
        if isinstance(result, dict):
            results_dir.mkdir(exist_ok=True)
            out = results_dir / f"{name}.json"
            out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
