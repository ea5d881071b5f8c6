"""A local moto server that misbehaves on purpose, to watch CostCutter cope by hand.

    python scripts/fault_server.py --throttle 0.33 --errors 0.02 --resets-after 'ec2:Delete*=0.05' --populate us-east-1

Each fault flag takes a value for every call, or PATTERN=VALUE for the calls a pattern
covers ("ec2:Delete*", "s3:*", "Describe*"), and may be repeated; the first pattern that
matches a call wins. A throttle value is a probability, or BURST/PER_SECOND for a token
bucket per region and pattern. It prints the endpoint and what to export, and at Ctrl-C
what it did. Credentials are the sandbox's dummies; nothing reaches AWS.
"""

import argparse
import threading

from costcutter import sandbox
from costcutter.aws import Rate
from costcutter.faults import FaultInjector, Faults

PROBABILITY_FLAGS = {"errors": "a 500 or 503 before moto acts", "errors_after": "a 500 or 503 after moto acts",
                     "resets": "a dropped connection before moto acts", "resets_after": "a dropped connection after"}


def probability(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(f"{text} is not a probability between 0 and 1")
    return value


def rate_or_probability(text: str) -> float | Rate:
    if "/" in text:
        burst, per_second = text.split("/")
        return Rate(float(burst), float(per_second))
    return probability(text)


def patterned(parse):
    """An argparse type: VALUE (for "*") or PATTERN=VALUE, parsed into (pattern, value)."""
    def parse_pair(text):
        pattern, _, value = text.rpartition("=")
        return pattern or "*", parse(value)
    parse_pair.__name__ = parse.__name__  # what argparse names in its error message
    return parse_pair


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=patterned(float), action="append", default=[], metavar="[PATTERN=]SECONDS")
    parser.add_argument("--throttle", type=patterned(rate_or_probability), action="append", default=[],
                        metavar="[PATTERN=]P|BURST/PER_SECOND")
    for name, what in PROBABILITY_FLAGS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=patterned(probability), action="append", default=[],
                            metavar="[PATTERN=]P", help=f"probability of {what}")
    parser.add_argument("--seed", type=int, default=0, help="random seed: the same seed, the same faults")
    parser.add_argument("--populate", action="append", default=[], metavar="REGION",
                        help="seed the region with resources that cost money before the faults start")
    return parser.parse_args()


def main():
    args = arguments()
    faults = Faults(latency=dict(args.latency), throttle=dict(args.throttle),
                    **{name: dict(getattr(args, name)) for name in PROBABILITY_FLAGS}, seed=args.seed)
    injector = FaultInjector()
    server, endpoint = sandbox.start_server(wrap_app=injector.around)
    try:
        for region in args.populate:
            sandbox.seed(region)
        injector.configure(faults)
        injector.clear()
        print(f"Fault-injecting moto server at {endpoint}. In another shell:\n"
              f"  export AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing\n"
              f"Ctrl-C to stop.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        print(f"\n{injector.summary()}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
