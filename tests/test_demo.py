"""`costcutter demo`, as a newcomer runs it: in a process of its own, with its own moto
server on 127.0.0.1 and a temporary folder it must remove."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from costcutter import registry
from costcutter.tables import plural

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(output, the folder it was given as TMPDIR) of one demo."""
    temporary = tmp_path_factory.mktemp("demo-tmp")
    environment = {**os.environ, "TMPDIR": str(temporary), "PYTHONPATH": str(ROOT)}
    environment.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run([sys.executable, "-m", "costcutter", "demo"], env=environment, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, temporary


def test_the_demo_removes_its_temporary_folder(demo):
    output, temporary = demo
    assert list(temporary.iterdir()) == []
    assert "now removed" in output


def test_the_demo_shows_what_is_left_as_a_table(demo):
    output, _ = demo
    table = output.split("== 3. What is left in the sandbox\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert table[0].split() == ["region", "resources", "left"]
    rows = {line.split()[0]: line.split()[1] for line in table[2:]}
    assert rows == {"us-east-1": "0", "eu-west-1": "0", "ap-southeast-2": "0", "global": "0"}


def test_the_demo_explains_its_counts(demo):
    output, _ = demo
    assert "an instance comes with its root volume and network interface, an AMI with its snapshot" in output
    listed, deleted = map(int, re.search(r"The dry run listed (\d+) resources; the real run deleted (\d+):",
                                         output).groups())
    gone = re.search(r"(\d+) resources? the dry run listed went with something deleted before", output)
    assert int(gone.group(1)) == listed - deleted
    assert re.search(r"^ec2\.volumes +\d+ +\d+ +root volumes go with their instances$", output, re.MULTILINE)


def test_the_demo_speaks_in_plurals(demo):
    output, _ = demo
    assert f"of {len(registry.resource_types())} resource types in 3 regions" in output
    assert not re.search(r"\b1 [a-z ]*?(types|regions|resources|parts|instances)\b", output), output


@pytest.mark.parametrize("count, noun, said", [(1, "instance", "1 instance"), (2, "instance", "2 instances"),
                                               (0, "region", "0 regions"), (3, "policy", "3 policies"),
                                               (2, "key", "2 keys"), (2, "address", "2 addresses")])
def test_plural(count, noun, said):
    assert plural(count, noun) == said
