"""CloudWatch Smithy RPC v2 CBOR -> moto translator, used by standin.py.

The Rust aws-sdk-cloudwatch speaks only `rpc-v2-cbor`
(`POST /service/GraniteServiceVersion20100801/operation/<Operation>`), which moto does
not route. This decodes the CBOR request with botocore's own codec, calls moto with boto3
(query protocol), and encodes the answer (or the error) back as CBOR. Point the function
at it with `AWS_ENDPOINT_URL_CLOUDWATCH=http://127.0.0.1:4580`.
"""
import os

import boto3
import botocore.session
from botocore.exceptions import ClientError
from botocore.parsers import RpcV2CBORParser
from botocore.serialize import RpcV2CBORSerializer

PREFIX = "/service/GraniteServiceVersion20100801/operation/"
_MODEL = botocore.session.get_session().get_service_model("cloudwatch")
_CLIENTS = {}


def _client(region):
    if region not in _CLIENTS:
        _CLIENTS[region] = boto3.client(
            "cloudwatch",
            endpoint_url=os.environ.get("LOCAL_AWS_URL", "http://127.0.0.1:4566"),
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
    return _CLIENTS[region]


def _encode(value, shape):
    body = bytearray()
    if shape is not None:
        RpcV2CBORSerializer()._serialize_data_item(body, value, shape)
    return bytes(body)


def _error(status, code, message):
    body = bytearray()
    # A plain map {"__type": code, "message": message}.
    from botocore.model import StructureShape  # noqa: local import keeps start-up light
    shape = StructureShape("Error", {"type": "structure", "members": {"__type": {"shape": "S"}, "message": {"shape": "S"}}},
                           _StringResolver())
    RpcV2CBORSerializer()._serialize_data_item(body, {"__type": code, "message": message}, shape)
    return status, bytes(body)


class _StringResolver:
    def get_shape_by_name(self, name, member_traits=None):
        from botocore.model import Shape
        return Shape(name, {"type": "string"})

    def resolve_shape_ref(self, ref):
        return self.get_shape_by_name(ref["shape"])


def _png(width, height, pixels):
    """A truecolour PNG from rows of (r, g, b) tuples (zlib and struct only)."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def metric_widget_image(widget_json):
    """moto does not render GetMetricWidgetImage. This stand-in checks the widget as
    CloudWatch would (JSON with a `metrics` array of 1-100 entries) and draws a small
    picture: a made-up series (blue) and each horizontal annotation (red), on a
    grid. It is a stand-in picture, not the metric's data."""
    import json
    import math
    widget = json.loads(widget_json)
    metrics = widget.get("metrics")
    if not isinstance(metrics, list) or not 1 <= len(metrics) <= 100:
        raise ValueError("The field MetricWidget must have a metrics array of 1 to 100 entries")
    width = max(100, min(int(widget.get("width", 600)), 2000)) // 2
    height = max(60, min(int(widget.get("height", 300)), 2000)) // 2
    lines = [a.get("value") for a in (widget.get("annotations") or {}).get("horizontal", [])
             if isinstance(a, dict) and isinstance(a.get("value"), (int, float))]
    top = max(lines + [1.0]) * 1.5
    pixels = [[(255, 255, 255)] * width for _ in range(height)]
    for y in range(0, height, 20):
        pixels[y] = [(235, 235, 235)] * width
    def row(value):
        return min(height - 1, max(0, height - 1 - int(value / top * (height - 1))))
    for v in lines:
        pixels[row(v)] = [(214, 39, 40)] * width
    for x in range(width):
        value = top * (0.45 + 0.3 * math.sin(x / 17.0) + 0.15 * math.sin(x / 5.0))
        for dy in (0, 1):
            pixels[min(height - 1, row(value) + dy)][x] = (31, 119, 180)
    return _png(width, height, pixels)


def handle(path, raw, headers):
    """Returns (status, body bytes, content type)."""
    name = path[len(PREFIX):]
    if name == "GetMetricWidgetImage":
        op = _MODEL.operation_model(name)
        params = RpcV2CBORParser().parse({"body": raw, "headers": {}, "status_code": 200}, op.input_shape)
        try:
            image = metric_widget_image(params.get("MetricWidget", ""))
        except (ValueError, TypeError) as e:
            status, body = _error(400, "InvalidParameterInput", str(e))
            return status, body, "application/cbor"
        return 200, _encode({"MetricWidgetImage": image}, op.output_shape), "application/cbor"
    try:
        op = _MODEL.operation_model(name)
    except Exception:
        status, body = _error(400, "UnknownOperationException", f"unknown operation {name}")
        return status, body, "application/cbor"
    params = {}
    if raw and op.input_shape is not None:
        params = RpcV2CBORParser().parse({"body": raw, "headers": {}, "status_code": 200}, op.input_shape)
        params.pop("ResponseMetadata", None)
    auth = headers.get("Authorization", "")
    region = "us-east-1"
    if "Credential=" in auth:
        parts = auth.split("Credential=", 1)[1].split("/")
        if len(parts) > 2:
            region = parts[2]
    method = botocore.xform_name(name)
    try:
        result = getattr(_client(region), method)(**params)
    except ClientError as e:
        err = e.response.get("Error", {})
        status, body = _error(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400),
                              err.get("Code", "InternalFailure"), err.get("Message", ""))
        return status, body, "application/cbor"
    result.pop("ResponseMetadata", None)
    return 200, _encode(result, op.output_shape), "application/cbor"
