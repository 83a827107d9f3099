"""velotest: helpers for integration tests (stdlib only).

Starts velopipe services as processes on free 127.0.0.1 ports, waits on
their ready files, reads their metrics, consumes Kafka topics through
velo-kdump, and stops exactly the processes it started, by PID.
"""
import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = os.environ.get("VELO_BIN_DIR", "build-test/bin")
SRC = os.environ.get("VELO_SRC_DIR", ".")
RUN = os.environ.get("VELO_RUN_DIR", tempfile.mkdtemp(prefix="velo-run-"))
FIXTURES = os.path.join(SRC, "tests", "fixtures")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def kafka_addr():
    path = os.path.join(RUN, "kafka.addr")
    if not os.path.exists(path):
        print("SKIP: no Kafka broker (tests/harness/kafka.sh not started)")
        sys.exit(77)
    with open(path) as f:
        return f.read().strip()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def unique(name):
    return "%s_%d_%d" % (name, os.getpid(), int(time.time() * 1000) % 100000)


_started = []  # every Service of this process, for _stop_leftovers


@atexit.register
def _stop_leftovers():
    """A test that fails (sys.exit) skips its own stops: end whatever it
    started that still runs, by PID, so nothing outlives the test."""
    for svc in _started:
        if svc.proc.poll() is None:
            svc.proc.send_signal(signal.SIGTERM)
    deadline = time.time() + 10
    for svc in _started:
        try:
            svc.proc.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            svc.proc.kill()


class Service:
    """One velopipe binary run as a child process."""

    def __init__(self, name, args, env=None, ready_timeout=20,
                 admin_last=False):
        """admin_last: the ready file names the admin address last
        (velo-gateway: its public address comes first)."""
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="velo-%s-" % name, dir=RUN)
        self.ready = os.path.join(self.dir, "ready")
        self.log_path = os.path.join(self.dir, "log")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, name)] + args + ["--ready-file", self.ready],
            stdout=self.log, stderr=subprocess.STDOUT, env=full_env,
            stdin=subprocess.DEVNULL)
        _started.append(self)
        deadline = time.time() + ready_timeout
        while not (os.path.exists(self.ready) and os.path.getsize(self.ready)):
            if self.proc.poll() is not None:
                fail("%s exited with %d before ready:\n%s"
                     % (name, self.proc.returncode, self.tail()))
            if time.time() > deadline:
                self.proc.kill()
                fail("%s not ready after %ds:\n%s"
                     % (name, ready_timeout, self.tail()))
            time.sleep(0.05)
        with open(self.ready) as f:
            self.addrs = [l.strip() for l in f if l.strip()]
        self.admin = self.addrs[-1] if admin_last else self.addrs[0]

    def tail(self, n=30):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode("utf8", "replace")

    def log_text(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf8", "replace")

    def events(self, name=None):
        out = []
        for line in self.log_text().splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if name is None or ev.get("event") == name:
                out.append(ev)
        return out

    def http(self, path, timeout=5):
        url = "http://%s%s" % (self.admin, path)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self):
        status, text = self.http("/metrics")
        check(status == 200, "%s /metrics: %d" % (self.name, status))
        out = {}
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            key, _, val = line.rpartition(" ")
            out[key] = float(val)
        return out

    def metric(self, name, **labels):
        total = 0.0
        for key, val in self.metrics().items():
            base, _, rest = key.partition("{")
            if base != name:
                continue
            if all('%s="%s"' % (k, v) in rest for k, v in labels.items()):
                total += val
        return total

    def stop(self, timeout=15):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        self.log.close()
        return self.proc.returncode


def wait_for(what, cond, timeout=30, every=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(every)
    fail("timed out after %ds waiting for %s" % (timeout, what))


def kdump(brokers, topic, idle_ms=2000, maximum=None, raw=False,
          read_committed=False):
    args = [os.path.join(BIN, "velo-kdump"), "--brokers", brokers,
            "--topic", topic, "--idle-ms", str(idle_ms)]
    if read_committed:
        args += ["--read-committed"]
    if maximum:
        args += ["--max", str(maximum)]
    if raw:
        args += ["--raw"]
    out = subprocess.run(args, capture_output=True, timeout=120)
    check(out.returncode == 0, "velo-kdump failed: %s" % out.stderr.decode())
    return [json.loads(l) for l in out.stdout.decode().splitlines() if l.strip()]
