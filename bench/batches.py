"""`resume serve`, with the autosave writer's transactions counted (a bench-only diagnostic).

    .venv-test/bin/python bench/batches.py [--connections 128] [--duration 15]

Wraps `Autosave._commit` in this process only (nothing in src/ changes) to count write
transactions, the saves and step views each carried, and the wall time each took, then
drives the server with loadgen.py like run.py does. Answers "is the writer batching?".
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import run


def serve(argv: list[str], stats_path: Path) -> int:
    """Run `resume serve` in this process with the writer's commits counted."""
    from resume import autosave
    from resume.cli import main as resume_main

    stats: dict[str, Any] = {"transactions": 0, "saves": 0, "views": 0, "seconds": 0.0}
    sizes: collections.Counter[int] = collections.Counter()
    original = autosave.Autosave._commit

    async def counted(self: Any, saves: list[Any], views: list[Any]) -> Any:
        started = time.perf_counter()
        try:
            return await original(self, saves, views)
        finally:
            stats["transactions"] += 1
            stats["saves"] += len(saves)
            stats["views"] += len(views)
            stats["seconds"] += time.perf_counter() - started
            sizes[len(saves)] += 1

    autosave.Autosave._commit = counted  # type: ignore[method-assign]

    def dump() -> None:
        for _ in range(100_000):  # bounded: about 14 hours at 0.5 s
            time.sleep(0.5)
            stats["by_saves"] = dict(sorted(sizes.items()))
            # Written aside, then renamed: main() may read the file at any moment.
            stats_path.with_suffix(".tmp").write_text(json.dumps(stats))
            stats_path.with_suffix(".tmp").replace(stats_path)

    threading.Thread(target=dump, daemon=True).start()
    return int(resume_main(argv) or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=128)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=15.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="resume-batches-"))
    try:
        port = run.free_port()
        env = run.server_env(port, folder)
        subprocess.run([run.python(), "-m", "resume", "demo"], env=env, cwd=folder, check=True)
        stats_path = folder / "batches.json"
        argv = [run.python(), str(Path(__file__)), "--serve", str(stats_path), "serve"]
        argv += ["--no-worker", "--host", "127.0.0.1", "--port", str(port)]
        server = run.Server("ours", argv, port, folder, "/healthz")
        try:
            result = run.load("resume", server, args.connections, args)
            time.sleep(1.0)
            stats = json.loads(stats_path.read_text())
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    tx = stats["transactions"] or 1
    with_saves = sum(n for size, n in stats["by_saves"].items() if size != "0")
    print(
        f"{args.connections} connections: {result['steps_per_s']:.0f} steps/s; over the whole run "
        f"{stats['transactions']} write transactions for {stats['saves']} saves and "
        f"{stats['views']} step views: {stats['saves'] / tx:.1f} saves and "
        f"{stats['views'] / tx:.1f} views per transaction, {with_saves} transactions carried "
        f"saves ({stats['saves'] / max(1, with_saves):.1f} each), "
        f"{stats['seconds'] / tx * 1000:.2f} ms wall per transaction"
    )
    print("transactions by number of saves:", stats["by_saves"])
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        sys.exit(serve(sys.argv[3:], Path(sys.argv[2])))
    sys.exit(main())
