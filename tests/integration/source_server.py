"""A local stand-in for JCDecaux and GBFS servers, on 127.0.0.1:0.

Serves recorded payloads from tests/fixtures and the faults a real source
has: 403 (bad key), 429 with Retry-After, 500, a stall, a truncated body,
malformed JSON and an oversize body; GBFS systems whose station_status
fails (404, 429 with a huge Retry-After, 500, a redirect loop) and whose
gbfs.json points a feed at another server (`other`, set by the test: an
internal address the SSRF guard must refuse), directly, through a
redirect, or with a file:// URL. Counts requests per path and keeps the
query strings (to check the API key is sent, never logged).
"""
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs


def load(path):
    with open(path, "rb") as f:
        return f.read()


class SourceServer:
    def __init__(self, fixtures):
        self.fx = fixtures
        self.hits = {}
        self.queries = []
        self.overrides = {}  # path -> bytes served instead of the fixture
        self.other = None  # base URL of another server (SSRF target)
        self.lock = threading.Lock()
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, path):
        with self.lock:
            return self.hits.get(path, 0)

    def gbfs_discovery(self, ver):
        feeds = ["system_information", "station_information",
                 "station_status", "vehicle_types"]
        listed = [{"name": n, "url": "%s/gbfs%s/%s.json" % (self.base, ver, n)}
                  for n in feeds]
        if ver == "30":
            doc = {"last_updated": "2023-07-17T13:34:13+02:00", "ttl": 0,
                   "version": "3.0", "data": {"feeds": listed}}
        else:
            doc = {"last_updated": 1640887163, "ttl": 0, "version": "2.3",
                   "data": {"en": {"feeds": listed}}}
        return json.dumps(doc).encode()

    def gbfs_faulty(self, name):
        """gbfs.json of /<name>/: spec-v2.3 feeds, station_status varies."""
        base = "%s/%s" % (self.base, name)
        status = base + "/station_status.json"
        if name == "ssrf":
            status = self.other + "/gbfs23/station_status.json"
        elif name == "ssrffile":
            status = "file:///etc/passwd"
        feeds = [{"name": n, "url": "%s/%s.json" % (base, n)}
                 for n in ("station_information", "vehicle_types")]
        feeds.append({"name": "station_status", "url": status})
        return json.dumps({"last_updated": 1640887163, "ttl": 0,
                           "version": "2.3",
                           "data": {"en": {"feeds": feeds}}}).encode()

    def route_faulty(self, path):
        """GBFS systems with a failing or hostile station_status."""
        fx = self.fx
        name, _, rest = path[1:].partition("/")
        if name not in ("st404", "st429", "st500", "stloop", "ssrf",
                        "ssrfredir", "ssrffile"):
            return None
        if rest == "gbfs.json":
            return 200, {}, self.gbfs_faulty(name)
        if rest in ("station_information.json", "vehicle_types.json"):
            return 200, {}, load("%s/gbfs/spec-v2.3/%s" % (fx, rest))
        if name == "st429":
            return 429, {"Retry-After": "99999999999"}, b"slow down"
        if name == "st500":
            return 500, {}, b"oops"
        if name == "stloop":
            return 302, {"Location": path}, b""
        if name == "ssrfredir":
            return 302, {"Location": self.other + "/gbfs23/" + rest}, b"moved"
        return 404, {}, b"not found"

    def route(self, path):
        """(status, headers, body) for a path; None body means a fault."""
        fx = self.fx
        if path in self.overrides:
            return 200, {}, self.overrides[path]
        if path == "/ok/vls/v1/stations":
            return 200, {}, load(fx + "/jcdecaux/v1_stations_dublin.json")
        if path == "/ok/vls/v3/stations":
            one = json.loads(load(fx + "/jcdecaux/v3_station_doc_example.json"))
            return 200, {}, json.dumps([one]).encode()
        for ver, d in (("23", "spec-v2.3"), ("30", "spec-v3.0")):
            if path == "/gbfs%s/gbfs.json" % ver:
                return 200, {}, self.gbfs_discovery(ver)
            pre = "/gbfs%s/" % ver
            if path.startswith(pre):
                return 200, {}, load("%s/gbfs/%s/%s" % (fx, d, path[len(pre):]))
        faulty = self.route_faulty(path)
        if faulty is not None:
            return faulty
        if path == "/e403/vls/v1/stations":
            return 403, {}, b'{"error": "Unauthorized"}'
        if path == "/e429/vls/v1/stations":
            return 429, {"Retry-After": "1"}, b"slow down"
        if path == "/e500/vls/v1/stations":
            return 500, {}, b"oops"
        if path == "/bad/vls/v1/stations":
            return 200, {}, b'[{"number": 1, "name": "tor'
        if path == "/big/vls/v1/stations":
            return 200, {}, b"[" + b" " * (300 * 1024) + b"]"
        if path in ("/stall/vls/v1/stations", "/trunc/vls/v1/stations"):
            return 200, {}, None
        return 404, {}, b"not found"

    def _handler(self):
        srv = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                u = urlparse(self.path)
                with srv.lock:
                    srv.hits[u.path] = srv.hits.get(u.path, 0) + 1
                    srv.queries.append((u.path, parse_qs(u.query)))
                status, headers, body = srv.route(u.path)
                if body is None:
                    return self.fault(u.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def fault(self, path):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "5000")
                self.end_headers()
                if path.startswith("/trunc"):
                    self.wfile.write(b'[{"number": 1')
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.flush()
                time.sleep(3)  # the stall: longer than ingest's timeout
                self.close_connection = True

        return H
