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
import time

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


def _status_kb(pid, field):
    """A /proc/PID/status field in KiB (VmHWM, VmRSS); 0 once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cpu_s(pid):
    """User + system CPU seconds of pid so far (/proc/PID/stat); 0 when
    gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _descendants(pid):
    """pid and every live descendant (from /proc/*/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, tid)) as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass
    return out


def measure(args, stdout=None, stderr=None, env=None, timeout=1800):
    """Runs args to the end, sampling its process tree every 20 ms.
    Returns a dict: rc, wall_s (spawn to exit), cpu_s (user + system CPU
    of the process and the children it waited for), hwm_kb (the root's VmHWM,
    its exact peak RSS), tree_kb (the largest sum of VmRSS over the root
    and all its descendants at one sample: the peak of a process tree such
    as pyspark's python driver + JVM, to within the sampling interval) and
    tree_hwm_kb (the sum of each process's own VmHWM: an upper bound) and
    tree_cpu_s (the sum of each process's CPU seconds at its last sample:
    a JVM its parent never waited for is counted too)."""
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdout=stdout, stderr=stderr, env=env,
                         stdin=subprocess.DEVNULL)
    hwm = tree = 0
    hwms, cpus = {}, {}
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            wall = time.monotonic() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
            return {"rc": p.returncode, "wall_s": wall, "hwm_kb": hwm,
                    "cpu_s": ru.ru_utime + ru.ru_stime,
                    "tree_kb": tree, "tree_hwm_kb": sum(hwms.values()),
                    "tree_cpu_s": sum(cpus.values())}
        if time.monotonic() - t0 > timeout:
            p.kill()
        procs = _descendants(p.pid)
        tree = max(tree, sum(_status_kb(q, "VmRSS") for q in procs))
        for q in procs:
            hwms[q] = max(hwms.get(q, 0), _status_kb(q, "VmHWM"))
            cpus[q] = max(cpus.get(q, 0.0), _cpu_s(q))
        hwm = max(hwm, hwms.get(p.pid, 0))
        time.sleep(0.02)


def median_range(values, fmt="%.0f"):
    """'M (range lo-hi)' with fmt for each number."""
    return (fmt + " (range " + fmt + "-" + fmt + ")") % (
        statistics.median(values), min(values), max(values))
