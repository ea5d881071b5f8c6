"""How much the parallel shape buys: the same real sweep of a seeded sandbox, once with
one process and one thread, once with the defaults, as a ratio measured in one run.

    python scripts/bench_sweep.py [--regions 4] [--key-pairs 40] [--latency 0.03]

The sandbox is a moto server on 127.0.0.1 that answers every request after --latency
seconds, standing in for the round trip to AWS that dominates a real sweep.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from costcutter import sandbox
from costcutter.faults import FaultInjector, Faults

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1", "sa-east-1"]


def sweep_seconds(endpoint, regions, key_pairs, processes, threads) -> float:
    sandbox.reset_server(endpoint)
    for region in regions:
        sandbox.seed(region, {"ec2.key_pairs": key_pairs, "ec2.snapshots": key_pairs // 2,
                              "ec2.security_groups": key_pairs // 4}, default_count=0)
    with tempfile.TemporaryDirectory() as folder:
        environment = {**os.environ, "COSTCUTTER_MAX_PROCESSES": str(processes),
                       "COSTCUTTER_THREADS_PER_RESOURCE_TYPE": str(threads), "XDG_STATE_HOME": folder}
        command = [sys.executable, "-m", "costcutter", "run", "--no-dry-run", "--yes", "--service", "ec2",
                   "--db", str(Path(folder) / "bench.db"), *[a for r in regions for a in ("--region", r)]]
        started = time.perf_counter()
        subprocess.run(command, env=environment, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=4, choices=range(1, len(REGIONS) + 1))
    parser.add_argument("--key-pairs", type=int, default=40, help="key pairs per region (plus snapshots, groups)")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds added to every request")
    args = parser.parse_args()
    regions = REGIONS[:args.regions]
    slowed = FaultInjector(Faults(latency={"*": args.latency}))
    with sandbox.running_server(wrap_app=slowed.around) as endpoint:
        serial = sweep_seconds(endpoint, regions, args.key_pairs, processes=1, threads=1)
        parallel = sweep_seconds(endpoint, regions, args.key_pairs, processes=4, threads=8)
    print(f"{len(regions)} regions, {args.key_pairs} key pairs each (+ snapshots, groups), {args.latency}s per request")
    print(f"1 process, 1 thread:    {serial:6.1f}s")
    print(f"4 processes, 8 threads: {parallel:6.1f}s")
    print(f"ratio: {serial / parallel:.1f}x")


if __name__ == "__main__":
    main()
