"""The tools a user would pick instead of CostCutter, each pointed at the local moto server.

A peer is what the benchmark needs to run it: the CostCutter types it can clean (our keys,
so its leftovers are counted the same way), whether it is installed (and, if not, why),
and the command that runs it on a scenario. Nothing here reaches AWS: every endpoint is
the local server, and the credentials are the sandbox's dummies.
"""

import dataclasses
import http.client
import http.server
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "costcutter-bench"
PYTHON_312 = Path("/root/.pyenv/versions/3.12.1/bin/python")
TIMING = Path(__file__).resolve().parent / "timing"
EVENT_LOG_TIMES = "event-log-times.jsonl"  # in the run's folder: a JSON line per process of its totals

# aws-nuke's resource type for each CostCutter type it has, on the services whose
# endpoints it can be pointed at (a custom endpoint serves the types named after it).
NUKE_TYPES = {
    "ec2.instances": "EC2Instance", "ec2.volumes": "EC2Volume", "ec2.snapshots": "EC2Snapshot",
    "ec2.amis": "EC2Image", "ec2.elastic_ips": "EC2Address", "ec2.key_pairs": "EC2KeyPair",
    "ec2.security_groups": "EC2SecurityGroup", "ec2.launch_templates": "EC2LaunchTemplate",
    "ec2.nat_gateways": "EC2NATGateway", "ec2.internet_gateways": "EC2InternetGateway",
    "ec2.subnets": "EC2Subnet", "ec2.vpcs": "EC2VPC", "ec2.network_interfaces": "EC2NetworkInterface",
    "s3.buckets": "S3Bucket", "sqs.queues": "SQSQueue", "sns.topics": "SNSTopic",
    "dynamodb.tables": "DynamoDBTable",
}
NUKE_EXTRA = ("S3Object",)  # aws-nuke empties a bucket as one resource per object
NUKE_SERVICES = ("ec2", "s3", "sqs", "sns", "dynamodb")
NUKE_DEFAULT_REGION = "us-east-1"  # aws-nuke's default session; a custom one without STS/IAM is never asked who we are

# costcutter 0.1.4 cleans these (and Elastic Beanstalk, which moto cannot terminate).
ORIGINAL_TYPES = ("ec2.instances", "ec2.volumes", "ec2.snapshots", "ec2.elastic_ips", "ec2.key_pairs",
                  "ec2.security_groups", "s3.buckets")


@dataclasses.dataclass
class Peer:
    name: str
    types: tuple[str, ...]
    missing: str | None     # why it cannot run here, or None
    command: callable       # (workdir, endpoint, regions, type keys) -> (argv, env, cwd)


def sandbox_env(endpoint: str, **extra) -> dict:
    from costcutter import sandbox
    return {**os.environ, **sandbox.SANDBOX_ENVIRONMENT, "AWS_ENDPOINT_URL": endpoint, **extra}


# aws-nuke

def nuke_config(endpoint: str, regions: list[str], keys: tuple[str, ...]) -> str:
    custom = sorted(set(regions) | {NUKE_DEFAULT_REGION})
    lines = [f"regions: [{', '.join(regions)}]", 'account-blocklist: ["999999999999"]',
             "accounts:", f'  "account-id-of-custom-region-{NUKE_DEFAULT_REGION}": {{}}',
             "resource-types:", f"  targets: [{', '.join(nuke_targets(keys))}]",
             "endpoints:"]
    for region in custom:
        lines += [f"- region: {region}", "  services:"]
        lines += [f"  - {{service: {service}, url: '{endpoint}'}}" for service in NUKE_SERVICES]
    return "\n".join(lines) + "\n"


def nuke_targets(keys: tuple[str, ...]) -> list[str]:
    return [NUKE_TYPES[key] for key in keys if key in NUKE_TYPES] + (list(NUKE_EXTRA) if "s3.buckets" in keys else [])


def nuke_command(workdir: Path, endpoint: str, regions: list[str], keys: tuple[str, ...], proxy: str):
    config = workdir / "nuke.yaml"
    config.write_text(nuke_config(endpoint, regions, keys))
    argv = ["aws-nuke", "-c", str(config), "--access-key-id", "testing", "--secret-access-key", "testing",
            "--no-dry-run", "--force", "--force-sleep", "3", "--quiet"]
    # Go skips the proxy for 127.0.0.1 itself, so only S3's virtual-host requests go through it.
    return argv, sandbox_env(endpoint, HTTP_PROXY=proxy, http_proxy=proxy), workdir


class PathStyleProxy:
    """An HTTP proxy in front of moto that turns S3's virtual-host requests
    (bucket.127.0.0.1:PORT/key) into path-style ones (127.0.0.1:PORT/bucket/key): aws-nuke's
    SDK addresses buckets by host name, which no resolver here knows."""

    def __init__(self, endpoint: str):
        target = urllib.parse.urlsplit(endpoint)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                url = urllib.parse.urlsplit(self.path)
                bucket = url.hostname.removesuffix(target.hostname).rstrip(".") if url.hostname else ""
                path = (f"/{bucket}{url.path}" if bucket else url.path) + (f"?{url.query}" if url.query else "")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "proxy-connection")}
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
                connection.request(self.command, path, body=body, headers={**headers, "Host": target.netloc})
                answer = connection.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                connection.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


# costcutter 0.1.4

def original_venv() -> tuple[Path | None, str | None]:
    """The costcutter 0.1.4 command, installed in a venv under the cache on first use."""
    venv = CACHE / "costcutter-0.1.4"
    command = venv / "bin" / "costcutter"
    if command.exists():
        return command, None
    if not PYTHON_312.exists():
        return None, f"costcutter 0.1.4 needs Python 3.12 or newer; {PYTHON_312} is missing"
    try:
        subprocess.run([str(PYTHON_312), "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "costcutter==0.1.4"], check=True,
                       capture_output=True)
    except subprocess.CalledProcessError as error:
        return None, f"could not install costcutter 0.1.4: {error.stderr.decode(errors='replace')[-300:]}"
    return command, None


def original_command(executable: Path, workdir: Path, endpoint: str, regions: list[str]):
    """costcutter 0.1.4 on EC2 and S3: it has no finer scope, so the scenario it is given holds only its types."""
    (workdir / "costcutter.yaml").write_text(
        "dry_run: false\nlogging:\n  enabled: false\nreporting:\n  csv:\n    enabled: false\n"
        f"aws:\n  credential_file_path: ''\n  region: [{', '.join(regions)}]\n  services: [ec2, s3]\n")
    environment = sandbox_env(endpoint, HOME=str(workdir))
    environment.pop("PYTHONPATH", None)  # a checkout of ours on it would be imported as its costcutter package
    return [str(executable), "--no-dry-run"], environment, workdir


def peers(endpoint: str) -> list[Peer]:
    found = []
    nuke = shutil.which("aws-nuke")
    proxy = PathStyleProxy(endpoint).url if nuke else None
    found.append(Peer("aws-nuke 2.16", tuple(NUKE_TYPES), None if nuke else
                      "aws-nuke is not installed (apt-get install aws-nuke)",
                      lambda workdir, ep, regions, keys: nuke_command(workdir, ep, regions, keys, proxy)))
    executable, why = original_venv()
    found.append(Peer("costcutter 0.1.4", ORIGINAL_TYPES, why,
                      lambda workdir, ep, regions, keys: original_command(executable, workdir, ep, regions)))
    return found


def costcutter_command(root: Path, workdir: Path, endpoint: str, regions: list[str], keys: tuple[str, ...]):
    """This worktree's CostCutter (root on its path), on the given types only, its event
    log timed in every process (timing/sitecustomize.py writes EVENT_LOG_TIMES) and each
    request tagged with the type that sent it (timing/sitecustomize.py, BENCH_TAG_TYPES)."""
    argv = [sys.executable, "-m", "costcutter", "run", "--no-dry-run", "--yes", "--db", str(workdir / "bench.db"),
            "--region", ",".join(regions), *[a for key in keys for a in ("--service", key)]]
    path = os.pathsep.join(filter(None, [str(TIMING), str(root), os.environ.get("PYTHONPATH")]))
    return argv, sandbox_env(endpoint, XDG_STATE_HOME=str(workdir), PYTHONPATH=path,
                             BENCH_EVENT_LOG_TIMES=str(workdir / EVENT_LOG_TIMES), BENCH_TAG_TYPES="1"), workdir
