#!/usr/bin/env python3
"""Local stand-ins for the HTTP peers groundcrew talks to, for the demo and boot check.

One server, routed by path, recording every request:
  /bot<token>/<method>      Telegram Bot API (sendMessage, setWebhook, getWebhookInfo, deleteWebhook, getMe)
  /slack/...                Slack incoming webhook (answers "ok")
  /chat/...                 Google Chat webhook
  /v2/enqueue               PagerDuty Events API v2 (202)
  /hook/...                 generic JSON webhook
  /cfn/...                  CloudFormation custom-resource ResponseURL (PUT)
  /__requests               GET: every request recorded so far (JSON); DELETE: forget them

Tokens in Telegram paths are recorded as "[token]" so that the log never shows one.
"""
import argparse
import http.server
import json
import re
import threading
import time

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


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, code, payload, content_type="application/json"):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
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
        with LOCK:
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
