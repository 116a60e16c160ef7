#!/usr/bin/env python3
"""Local stand-ins for the HTTP peers groundcrew talks to, for the demo and boot check.

One server, routed by path, recording every request:
  /bot<token>/<method>      Telegram Bot API (sendMessage, setWebhook, getWebhookInfo, deleteWebhook, getMe)
  /slack/...                Slack incoming webhook (answers "ok")
  /chat/...                 Google Chat webhook
  /v2/enqueue               PagerDuty Events API v2 (202)
  /hook/...                 generic JSON webhook
  /cfn/...                  CloudFormation custom-resource ResponseURL (PUT)
  /2015-03-31/functions/... Lambda API for power-tuner (functions named groundcrew-dev-* appear
                            on first use; Invoke with LogType=Tail returns a model REPORT line)
  /lambda-code/...          the emulated functions' code packages (GetFunction Code.Location)
  /codepipeline...          CodePipeline PutJobSuccessResult / PutJobFailureResult (moto lacks them;
                            point AWS_ENDPOINT_URL_CODEPIPELINE here)
  /service/GraniteServiceVersion20100801/operation/<Op>
                            CloudWatch in the Rust SDK's rpc-v2-cbor protocol, translated to moto
                            (moto lacks it; point AWS_ENDPOINT_URL_CLOUDWATCH here; cloudwatch_cbor.py)
  /__requests               GET: every request recorded so far (JSON); DELETE: forget them

Tokens in Telegram paths are recorded as "[token]" so that the log never shows one.
"""
import argparse
import base64
import http.server
import json
import re
import threading
import time
import urllib.parse

LOCK = threading.Lock()
REQUESTS = []
WEBHOOKS = {}  # bot token -> webhook settings
MESSAGE_IDS = iter(range(1, 10**9))


def telegram(token, method, body):
    if method == "getMe":
        return 200, {"ok": True, "result": {"id": 1, "is_bot": True, "username": "groundcrew_demo_bot"}}
    if method == "sendMessage":
        if not body.get("chat_id") or not body.get("text"):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
        return 200, {"ok": True, "result": {"message_id": next(MESSAGE_IDS), "chat": {"id": body["chat_id"]}, "date": int(time.time())}}
    if method == "sendPhoto":
        # A multipart upload (alarm-fanout's alarm pictures); the photo is kept in the
        # request log (`raw`, base64) for the demo to save.
        return 200, {"ok": True, "result": {"message_id": next(MESSAGE_IDS), "photo": [], "date": int(time.time())}}
    if method == "setWebhook":
        url = body.get("url", "")
        if url:
            WEBHOOKS[token] = {
                "url": url,
                "has_custom_certificate": False,
                "pending_update_count": 0,
                "max_connections": body.get("max_connections", 40),
                "allowed_updates": body.get("allowed_updates"),
            }
        else:
            WEBHOOKS.pop(token, None)
        return 200, {"ok": True, "result": True, "description": "Webhook was set" if url else "Webhook was deleted"}
    if method == "deleteWebhook":
        WEBHOOKS.pop(token, None)
        return 200, {"ok": True, "result": True, "description": "Webhook was deleted"}
    if method == "getWebhookInfo":
        info = WEBHOOKS.get(token, {"url": "", "has_custom_certificate": False, "pending_update_count": 0})
        info = {k: v for k, v in info.items() if v is not None}
        return 200, {"ok": True, "result": info}
    return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}


# --- Lambda API emulation (power-tuner) -------------------------------------------------
# Model: duration(mem) = 20 + 80 * knee / min(mem, knee) ms (knee 1024 MB; x86_64 15 % slower);
# the first invocation of a version is a cold start (Init Duration 45 ms). Functions whose
# name contains "flaky" always fail at 1536 MB and throttle every 9th invocation.
# GetFunctionConfiguration honours Qualifier (a version or an alias); PublishVersion keeps
# the Description and ListVersionsByFunction returns it; LoggingConfig is kept, returned and
# changed by UpdateFunctionConfiguration: with LogFormat JSON the log tail holds a
# platform.report record, none at SystemLogLevel WARN (Lambda's log-level filtering drops
# that INFO record). Functions whose name contains "jsonwarn" start with JSON logs at WARN.
# CodeSha256 is base64(SHA-256) of the package: the served one, a ZipFile upload, or for an
# S3 package the kept copy of the original (tuner-state/code/...) or a digest of its key.
LAMBDA = {}  # name -> function state
LAMBDA_INVOKES = iter(range(1, 10**12))
EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18


def _lambda_error(status, kind, message):
    return status, {"message": message, "Type": "User"}, {"x-amzn-ErrorType": kind}


def _sha(data):
    import hashlib
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


DEPLOYED_SHA = _sha(EMPTY_ZIP)


def _lambda_fn(name):
    if name not in LAMBDA and name.startswith("groundcrew-dev-"):
        logging = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
        if "jsonwarn" in name:
            logging = {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN",
                       "LogGroup": f"/aws/lambda/{name}"}
        cfg = {"memory": 1024, "arch": "arm64", "env": {"MODE": "demo"}, "logging": logging,
               "sha": DEPLOYED_SHA, "description": ""}
        LAMBDA[name] = {"latest": cfg, "versions": {}, "aliases": {}, "changed": True, "warm": set(), "pending": 0}
    return LAMBDA.get(name)


def _lambda_config(name, cfg, version, status="Successful"):
    return {
        "FunctionName": name,
        "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "Runtime": "provided.al2023", "Handler": "bootstrap", "PackageType": "Zip",
        "MemorySize": cfg["memory"], "Architectures": [cfg["arch"]],
        "Environment": {"Variables": dict(cfg["env"])}, "Version": version,
        "State": "Active", "LastUpdateStatus": status,
        "LoggingConfig": dict(cfg["logging"]), "CodeSha256": cfg["sha"],
        "Description": cfg.get("description", ""),
    }


def _copy(cfg):
    return dict(cfg, env=dict(cfg["env"]), logging=dict(cfg["logging"]))


def _version_of(fn, qualifier):
    """The version number a qualifier names (a number or an alias), or None."""
    v = int(qualifier) if qualifier.isdigit() else fn["aliases"].get(qualifier)
    return v if v in fn["versions"] else None


def _lambda_duration(name, cfg):
    ms = 20.0 + 80.0 * 1024 / min(cfg["memory"], 1024)
    return ms * (1.15 if cfg["arch"] == "x86_64" else 1.0)


def lambda_api(method, path, query, body, host):
    """(status, payload, headers) for the Lambda REST API paths."""
    from urllib.parse import unquote
    parts = path[len("/2015-03-31/functions/"):].split("/")
    name = unquote(parts[0]).split(":function:")[-1].split(":")[0]
    sub = parts[1] if len(parts) > 1 else ""
    alias = unquote(parts[2]) if len(parts) > 2 else None
    qualifier = query.get("Qualifier")
    body = body if isinstance(body, dict) else {}
    fn = _lambda_fn(name)
    if fn is None:
        return _lambda_error(404, "ResourceNotFoundException", f"Function not found: {name}")
    latest = fn["latest"]
    if method == "GET" and sub == "configuration" and qualifier not in (None, "", "$LATEST"):
        v = _version_of(fn, qualifier)
        if v is None:
            return _lambda_error(404, "ResourceNotFoundException", f"Function not found: {name}:{qualifier}")
        return 200, _lambda_config(name, fn["versions"][v], str(v)), {}
    if method == "GET" and sub == "configuration":
        status = "Successful"
        if fn["pending"]:
            fn["pending"] -= 1
            status = "InProgress"
        return 200, _lambda_config(name, latest, "$LATEST", status), {}
    if method == "GET" and sub == "":
        return 200, {"Configuration": _lambda_config(name, latest, "$LATEST"),
                     "Code": {"RepositoryType": "S3", "Location": f"http://{host}/lambda-code/{name}.zip"}}, {}
    if method in ("PUT",) and sub in ("configuration", "code"):
        if fn["pending"]:
            return _lambda_error(409, "ResourceConflictException", "An update is in progress for resource")
        new = _copy(latest)
        if "LoggingConfig" in body:
            wanted = dict(new["logging"], **(body["LoggingConfig"] or {}))
            if wanted.get("LogFormat") != "JSON":
                # The levels exist only with the JSON format.
                wanted.pop("ApplicationLogLevel", None)
                wanted.pop("SystemLogLevel", None)
            new["logging"] = wanted
        if sub == "code":
            if body.get("ZipFile"):
                new["sha"] = _sha(base64.b64decode(body["ZipFile"]))
            elif str(body.get("S3Key", "")).startswith("tuner-state/code/"):
                new["sha"] = DEPLOYED_SHA  # the tuner's copy of the served package
            elif body.get("S3Key") or body.get("ImageUri"):
                new["sha"] = _sha(str(body.get("S3Key") or body.get("ImageUri")).encode())
        if "MemorySize" in body:
            new["memory"] = int(body["MemorySize"])
        if "Environment" in body:
            new["env"] = dict((body["Environment"] or {}).get("Variables") or {})
        if body.get("Architectures"):
            new["arch"] = body["Architectures"][0]
        if new != latest:
            fn["latest"], fn["changed"] = new, True
        fn["pending"] = 1
        return 200, _lambda_config(name, fn["latest"], "$LATEST", "InProgress"), {}
    if sub == "versions" and method == "GET":
        versions = [_lambda_config(name, latest, "$LATEST")]
        versions += [_lambda_config(name, c, str(v)) for v, c in sorted(fn["versions"].items())]
        return 200, {"Versions": versions}, {}
    if sub == "versions" and method == "POST":
        if fn["pending"]:
            return _lambda_error(409, "ResourceConflictException", "An update is in progress for resource")
        last = max(fn["versions"], default=0)
        if fn["changed"] or not last:
            last = max([last] + list(fn.get("ever", [0]))) + 1
            fn.setdefault("ever", []).append(last)
            fn["versions"][last] = dict(_copy(latest), description=body.get("Description", ""))
            fn["changed"] = False
        return 201, _lambda_config(name, fn["versions"][last], str(last)), {}
    if sub == "aliases":
        if method == "POST":
            a, v = body.get("Name", ""), str(body.get("FunctionVersion", ""))
            if a in fn["aliases"]:
                return _lambda_error(409, "ResourceConflictException", f"Alias already exists: {a}")
            if not v.isdigit() or int(v) not in fn["versions"]:
                return _lambda_error(404, "ResourceNotFoundException", f"Version not found: {v}")
            fn["aliases"][a] = int(v)
            return 201, {"Name": a, "FunctionVersion": v}, {}
        if alias not in fn["aliases"]:
            return _lambda_error(404, "ResourceNotFoundException", f"Alias not found: {alias}")
        if method == "DELETE":
            del fn["aliases"][alias]
            return 204, b"", {}
        if method == "PUT":
            v = str(body.get("FunctionVersion", fn["aliases"][alias]))
            if not v.isdigit() or int(v) not in fn["versions"]:
                return _lambda_error(404, "ResourceNotFoundException", f"Version not found: {v}")
            fn["aliases"][alias] = int(v)
        return 200, {"Name": alias, "FunctionVersion": str(fn["aliases"][alias])}, {}
    if method == "DELETE" and sub == "":
        if not qualifier or not qualifier.isdigit():
            return _lambda_error(400, "InvalidParameterValueException", "the stand-in only deletes versions")
        v = int(qualifier)
        if v in fn["aliases"].values():
            return _lambda_error(409, "ResourceConflictException", "An alias points at this version")
        if fn["versions"].pop(v, None) is None:
            return _lambda_error(404, "ResourceNotFoundException", f"Version not found: {v}")
        return 204, b"", {}
    if method == "POST" and sub == "invocations":
        n = next(LAMBDA_INVOKES)
        flaky = "flaky" in name
        if flaky and n % 9 == 0:
            return _lambda_error(429, "TooManyRequestsException", "Rate Exceeded.")
        if qualifier in (None, "", "$LATEST"):
            label, cfg = "$LATEST", latest
        else:
            v = _version_of(fn, qualifier)
            if v is None:
                return _lambda_error(404, "ResourceNotFoundException", f"Function not found: {name}:{qualifier}")
            label, cfg = str(v), fn["versions"][v]
        cold = label not in fn["warm"]
        fn["warm"].add(label)
        duration = _lambda_duration(name, cfg)
        init = 45.0 if cold else None
        billed = int(-(-(duration + (init or 0)) // 1))
        report = (f"REPORT RequestId: r{n}\tDuration: {duration:.2f} ms\tBilled Duration: {billed} ms\t"
                  f"Memory Size: {cfg['memory']} MB\tMax Memory Used: 38 MB\t"
                  + (f"Init Duration: {init:.2f} ms\t" if init else ""))
        log = f"START RequestId: r{n} Version: {label}\nEND RequestId: r{n}\n{report}\n"
        if cfg["logging"].get("LogFormat") == "JSON":
            metrics = {"durationMs": round(duration, 2), "billedDurationMs": billed,
                       "memorySizeMB": cfg["memory"], "maxMemoryUsedMB": 38}
            if init:
                metrics["initDurationMs"] = init
            lines = [json.dumps({"type": "platform.start", "record": {"requestId": f"r{n}", "version": label}})]
            if cfg["logging"].get("SystemLogLevel") != "WARN":
                lines.append(json.dumps({"type": "platform.report", "record": {"requestId": f"r{n}", "metrics": metrics}}))
            else:
                lines = [json.dumps({"level": "WARN", "message": "system logs at WARN: no platform.report"})]
            log = "\n".join(lines) + "\n"
        headers = {"X-Amz-Log-Result": base64.b64encode(log.encode()).decode(), "X-Amz-Executed-Version": label}
        if flaky and cfg["memory"] == 1536 and label != "$LATEST":
            headers["X-Amz-Function-Error"] = "Unhandled"
            return 200, {"errorType": "Runtime.OutOfMemory", "errorMessage": "out of memory"}, headers
        return 200, {"statusCode": 200, "body": "ok"}, headers
    return _lambda_error(400, "InvalidRequestContentException", f"{method} {sub} is not emulated")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, code, payload, content_type="application/json", headers=None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self._raw = raw
        text = raw.decode("utf-8", "replace")
        try:
            return text, json.loads(text) if text else {}
        except ValueError:
            return text, {}

    def _handle(self):
        text, body = self._body()
        path = self.path.split("?", 1)[0]
        shown = re.sub(r"^/bot[^/]+/", "/bot[token]/", path)
        if path == "/__requests":
            if self.command == "DELETE":
                with LOCK:
                    REQUESTS.clear()
                return self._send(200, {})
            with LOCK:
                return self._send(200, list(REQUESTS))
        if path.startswith("/service/GraniteServiceVersion20100801/operation/"):
            import cloudwatch_cbor  # noqa: imported on first use (boto3 start-up)
            with LOCK:
                REQUESTS.append({"method": self.command, "path": shown, "body": "[cbor]"})
            code, payload, content_type = cloudwatch_cbor.handle(path, self._raw, self.headers)
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("smithy-protocol", "rpc-v2-cbor")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if path.startswith("/2015-03-31/functions/") or path.startswith("/lambda-code/"):
            if path.startswith("/lambda-code/"):
                return self._send(200, EMPTY_ZIP, "application/zip")
            query = dict(urllib.parse.parse_qsl(self.path.split("?", 1)[1])) if "?" in self.path else {}
            with LOCK:
                if not path.endswith("/invocations"):
                    REQUESTS.append({"method": self.command, "path": urllib.parse.unquote(path), "body": body if body else text})
                code, payload, headers = lambda_api(self.command, path, query, body, self.headers.get("Host", "127.0.0.1:4580"))
            return self._send(code, payload, headers=headers)
        with LOCK:
            if self.headers.get("Content-Type", "").startswith("multipart/form-data"):
                import base64
                REQUESTS.append({"method": self.command, "path": shown, "body": f"[multipart, {len(self._raw)} bytes]",
                                 "raw": base64.b64encode(self._raw).decode()})
            else:
                REQUESTS.append({"method": self.command, "path": shown, "body": body if body else text})
        m = re.match(r"^/bot([^/]+)/(\w+)$", path)
        if m:
            code, payload = telegram(m.group(1), m.group(2), body if isinstance(body, dict) else {})
            return self._send(code, payload)
        if path.startswith("/slack/"):
            return self._send(200, b"ok", "text/plain")
        if path.startswith("/chat/"):
            return self._send(200, {"name": "spaces/demo/messages/1", "thread": {"name": "spaces/demo/threads/1"}})
        if path == "/v2/enqueue":
            return self._send(202, {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key") if isinstance(body, dict) else None})
        if path.startswith("/codepipeline"):
            target = self.headers.get("X-Amz-Target", "")
            if target.endswith(".PutJobSuccessResult") or target.endswith(".PutJobFailureResult"):
                return self._send(200, {}, "application/x-amz-json-1.1")
            return self._send(400, {"__type": "ValidationException", "message": "stand-in supports PutJobSuccessResult and PutJobFailureResult"}, "application/x-amz-json-1.1")
        if path.startswith("/hook/") or path.startswith("/cfn/"):
            return self._send(200, {})
        return self._send(404, {"error": "no stand-in at this path"})

    do_GET = do_POST = do_PUT = do_DELETE = _handle


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=4580)
    args = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
