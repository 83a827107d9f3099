"""benchlib: what the bench/ scripts share (stdlib only).

Starts a real Kafka broker (tests/harness/kafka.sh) and velopipe services
from the release build (build/bin), runs the measuring tools, reads their
--json lines, and prints medians and ranges of repeated runs.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("VELO_BIN_DIR", os.path.join(ROOT, "build", "bin"))
os.environ.setdefault("VELO_SRC_DIR", ROOT)
BIN = os.environ["VELO_BIN_DIR"]
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench", "ingest"))
import velotest  # noqa: E402


class Kafka:
    """A real broker for the duration of a `with` block."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="velo-bench-")
        velotest.RUN = self.dir
        subprocess.run([os.path.join(ROOT, "tests/harness/kafka.sh"), "start",
                        self.dir], check=True, stdout=subprocess.DEVNULL)
        self.addr = open(os.path.join(self.dir, "kafka.addr")).read().strip()
        return self

    def __exit__(self, *exc):
        subprocess.run([os.path.join(ROOT, "tests/harness/kafka.sh"), "stop",
                        self.dir], stdout=subprocess.DEVNULL)


class Consul:
    """A real Consul agent (tests/harness/consul.sh) in run_dir for the
    duration of a `with` block; addr is None when the binary is not built
    (scripts/setup)."""

    def __init__(self, run_dir):
        self.dir = run_dir
        self.addr = None

    def __enter__(self):
        subprocess.run([os.path.join(ROOT, "tests/harness/consul.sh"),
                        "start", self.dir], check=True,
                       stdout=subprocess.DEVNULL)
        path = os.path.join(self.dir, "consul.addr")
        if os.path.exists(path):
            self.addr = open(path).read().strip()
        return self

    def __exit__(self, *exc):
        subprocess.run([os.path.join(ROOT, "tests/harness/consul.sh"), "stop",
                        self.dir], stdout=subprocess.DEVNULL)


def tool(name, *args):
    """Runs a bench tool with --json; returns its JSON lines."""
    out = subprocess.run([os.path.join(BIN, name), "--json"] + list(args),
                         capture_output=True, timeout=600)
    if out.returncode != 0:
        sys.exit("%s failed (%d): %s" % (name, out.returncode,
                                        out.stderr.decode()[-2000:]))
    return [json.loads(l) for l in out.stdout.decode().splitlines()
            if l.startswith("{")]


def summary(values):
    """'median (range lo-hi)'."""
    return "%.0f (range %.0f-%.0f)" % (statistics.median(values),
                                       min(values), max(values))


def wait_ready(svc, timeout=60):
    velotest.wait_for("%s ready" % svc.name,
                      lambda: svc.http("/readyz")[0] == 200, timeout)
