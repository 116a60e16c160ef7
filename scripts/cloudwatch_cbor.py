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


def handle(path, raw, headers):
    """Returns (status, body bytes, content type)."""
    name = path[len(PREFIX):]
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
