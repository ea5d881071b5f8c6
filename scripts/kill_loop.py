"""The crash-safety proof of issue 6, by hand: a real sweep killed with SIGKILL many times.

    python scripts/kill_loop.py                 # 12 kills over three regions and the account
    python scripts/kill_loop.py --kills 20 --keep

It starts the fault-injecting moto server on 127.0.0.1 (dummy credentials; nothing reaches
AWS), seeds it, runs `costcutter run --no-dry-run --yes`, kills the whole process tree at
moments spread over the run (between the steps of a teardown, with a deletion in flight,
while it starts, ...), resumes it with `costcutter run --resume ID --yes` after each kill,
and judges the end from the server's record and the log (costcutter/killloop.py says
what is checked). It prints each kill and a summary, and exits 1 on any violation.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from costcutter import killloop, sandbox
from costcutter.faults import FaultInjector


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=12, help="how many times to kill the run (default 12)")
    parser.add_argument("--region", action="append", dest="regions", metavar="REGION",
                        help=f"a region to seed and sweep (repeatable; default {', '.join(killloop.REGIONS)})")
    parser.add_argument("--small", action="store_true", help="seed as little as the CI test does")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added to each teardown call (default 0.2)")
    parser.add_argument("--patience", type=float, default=4,
                        help="seconds to wait for a moment before killing anyway (default 4)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (event log, each attempt's output)")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    workdir = Path(tempfile.mkdtemp(prefix="costcutter-kill-loop-"))
    injector = FaultInjector()
    server, endpoint = sandbox.start_server(wrap_app=injector.around)
    print(f"Fault-injecting moto server at {endpoint}; work folder {workdir}.", flush=True)
    try:
        loop = killloop.KillLoop(injector, workdir, killloop.schedule(args.kills),
                                 regions=args.regions or killloop.REGIONS,
                                 size=killloop.SMALL if args.small else killloop.FULL, latency=args.latency,
                                 patience=args.patience, say=lambda line: print(line, flush=True))
        verdict = loop.run()
    finally:
        server.stop()
    print(verdict.totals())
    print(injector.summary())
    if args.keep or verdict.violations:
        print(f"Kept {workdir}: events.db, costcutter.log, attempt-N.txt")
    else:
        shutil.rmtree(workdir)
    return 1 if verdict.violations else 0


if __name__ == "__main__":
    sys.exit(main())
