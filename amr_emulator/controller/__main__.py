"""`python -m amr_emulator.controller --spec '<json>'`: a detached controller.

Prints one JSON line on stdout once the cache is ready (`{"ok": true, ...summary}`) or could not start
(`{"ok": false, "error": "..."}`), then detaches stdout and serves until `down` or SIGTERM. Its log goes
to stderr (the launcher points it at `<cache dir>/controller.log`).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys

from amr_emulator.config import CacheSpec, SpecError
from amr_emulator.controller.cache import Controller, StartError


def _report(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)   # the launcher stops reading after this line
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m amr_emulator.controller")
    parser.add_argument("--spec", required=True, help="the CacheSpec as JSON")
    parser.add_argument("--ready-timeout", type=float, default=60.0)
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="stop the cache when this process is gone (the Python API's process)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        spec = CacheSpec.from_dict(json.loads(args.spec))
    except (SpecError, TypeError, ValueError) as e:
        _report({"ok": False, "error": str(e)})
        return 2
    controller = Controller(spec, ready_timeout=args.ready_timeout, parent_pid=args.parent_pid)
    reported = False

    def ready(summary: dict) -> None:
        nonlocal reported
        reported = True
        _report({"ok": True, **summary, "keys": controller.keys()})

    try:
        asyncio.run(controller.run(ready))
    except StartError as e:
        if not reported:
            _report({"ok": False, "error": str(e)})
        return 1
    except Exception as e:  # a bug: reported, logged, and everything started is stopped by run()
        logging.exception("controller failed")
        if not reported:
            _report({"ok": False, "error": f"{type(e).__name__}: {e}"})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
