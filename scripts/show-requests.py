#!/usr/bin/env python3
"""Prints what the HTTP stand-ins received, one request a line (bodies shortened)."""
import json
import sys
import urllib.request

requests = json.load(urllib.request.urlopen(sys.argv[1]))
if not requests:
    print("  (nothing)")
for r in requests:
    body = r["body"] if isinstance(r["body"], str) else json.dumps(r["body"], ensure_ascii=False)
    if len(body) > 220:
        body = body[:217] + "..."
    print(f"  {r['method']:<6} {r['path']:<40} {body}")
