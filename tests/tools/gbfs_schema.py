#!/usr/bin/env python3
"""Validates velopipe's GBFS output against MobilityData's official schemas.

Usage: gbfs_schema.py GBFS_OUT_TEST_BINARY SCHEMA_DIR

Runs the gbfs_out unit test with VELO_GBFS_OUT_DIR set to a temp dir, so it
writes every feed of its sample systems (a JCDecaux-like one without e-bike
data, one with the e-bike split and a station with an invalid-UTF-8 name, a
2.3-only one without the fields 3.0 requires) as <version>/<system>/<feed>.json plus 3.0/manifest.json. Then
validates each file with the draft-07 schema of its feed and version, with
format checks for date-time, uri and email. Offline: a schema with a $ref
outside itself fails the run instead of fetching anything. Before that, a
deliberately broken document must be rejected, so the check itself can fail.
Exit 0 when everything is valid, 1 on any violation.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
from datetime import datetime

import jsonschema

# RFC 3339 date-time, as GBFS 3.0 uses it.
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

# What the unit test must have written: (version, system, feeds).
EXPECTED = [
    ("2.3", "jcdecaux", ["gbfs", "system_information", "station_information",
                         "station_status"]),
    ("3.0", "jcdecaux", ["gbfs", "system_information", "station_information",
                         "station_status"]),
    ("2.3", "lyon", ["gbfs", "system_information", "station_information",
                     "station_status", "vehicle_types"]),
    ("3.0", "lyon", ["gbfs", "system_information", "station_information",
                     "station_status", "vehicle_types"]),
    ("2.3", "bare", ["gbfs", "system_information", "station_information",
                     "station_status"]),
    ("3.0", "bare", []),  # no contact email or opening hours: no 3.0
]


def format_checker():
    fc = jsonschema.FormatChecker()

    @fc.checks("date-time")
    def _date_time(v):
        if not isinstance(v, str):
            return True
        if not RFC3339.match(v):
            return False
        datetime.fromisoformat(v.replace("Z", "+00:00"))
        return True

    @fc.checks("uri")
    def _uri(v):
        if not isinstance(v, str):
            return True
        u = urllib.parse.urlsplit(v)
        return bool(u.scheme) and bool(u.netloc) and " " not in v

    @fc.checks("email")
    def _email(v):
        return not isinstance(v, str) or re.match(r"^[^@\s]+@[^@\s]+$", v)

    return fc


def remote_refs(node):
    """Every $ref that does not point inside the same document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and not v.startswith("#"):
                yield v
            else:
                yield from remote_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from remote_refs(v)


def validator(schema_dir, version, feed, fc, cache):
    key = (version, feed)
    if key not in cache:
        path = os.path.join(schema_dir, "v" + version, feed + ".json")
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        refs = list(remote_refs(schema))
        if refs:
            raise SystemExit(f"{path}: needs remote schemas {refs}; "
                             "bundle them (offline run)")
        jsonschema.Draft7Validator.check_schema(schema)
        cache[key] = jsonschema.Draft7Validator(schema, format_checker=fc)
    return cache[key]


def errors_of(v, doc):
    return sorted(v.iter_errors(doc), key=lambda e: list(e.path))


def self_test(schema_dir, fc, cache):
    """A broken station_status must fail, or the check proves nothing."""
    bad = {"last_updated": "2025-11-25T12:00:00Z", "ttl": -1,
           "version": "2.3",
           "data": {"stations": [{"station_id": "1",
                                  "num_bikes_available": -1}]}}
    if not errors_of(validator(schema_dir, "2.3", "station_status", fc,
                               cache), bad):
        raise SystemExit("self-test: a broken document passed validation")
    bad3 = {"last_updated": "yesterday", "ttl": 0, "version": "3.0",
            "data": {"feeds": [{"name": "system_information",
                                "url": "not a uri"}]}}
    if len(errors_of(validator(schema_dir, "3.0", "gbfs", fc, cache),
                     bad3)) < 2:
        raise SystemExit("self-test: format checks are not applied")


def check_shared_copy(schema_dir):
    """Our copy must match the shared one when that exists beside us."""
    src = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    shared = os.path.join(os.path.dirname(src), "shared", "gbfs-json-schema")
    if not os.path.isdir(shared):
        return
    for version in ("2.3", "3.0"):
        d = os.path.join(schema_dir, "v" + version)
        for name in os.listdir(d):
            other = os.path.join(shared, "v" + version, name)
            with open(os.path.join(d, name), "rb") as a, open(other, "rb") as b:
                if a.read() != b.read():
                    raise SystemExit(f"v{version}/{name} differs from {other}")


def main():
    binary, schema_dir = sys.argv[1], sys.argv[2]
    fc = format_checker()
    cache = {}
    check_shared_copy(schema_dir)
    self_test(schema_dir, fc, cache)
    failed = 0
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, VELO_GBFS_OUT_DIR=out)
        subprocess.run([binary], env=env, check=True)
        for version, system, feeds in EXPECTED:
            d = os.path.join(out, version, system)
            got = sorted(n[:-5] for n in os.listdir(d)) if os.path.isdir(d) else []
            if got != sorted(feeds):
                print(f"{version}/{system}: feeds {got}, expected {feeds}")
                failed += 1
        files = [os.path.join(version, system, f + ".json")
                 for version, system, feeds in EXPECTED for f in feeds]
        files.append(os.path.join("3.0", "manifest.json"))
        for rel in files:
            version = rel.split(os.sep)[0]
            feed = os.path.basename(rel)[:-5]
            with open(os.path.join(out, rel), encoding="utf-8") as f:
                doc = json.load(f)
            errs = errors_of(validator(schema_dir, version, feed, fc, cache),
                             doc)
            for e in errs:
                print(f"{rel}: {'/'.join(map(str, e.path))}: {e.message}")
            failed += len(errs)
            print(f"{rel}: {'ok' if not errs else 'INVALID'}")
    if failed:
        print(f"{failed} schema violation(s)")
        return 1
    print(f"all {len(files)} feeds valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
