"""Segment-compatible ingest: `POST /v1/{identify,track,page,screen,group,alias,batch}`.

Segment's (and RudderStack's) SDKs send here unchanged once their host points at Tandem: the
source's write key is the HTTP Basic user with an empty password (or `writeKey` in the JSON body),
the body is JSON, optionally gzip-compressed. The answer comes only after the Delta commit:

- 200 `{"success": true, "accepted": n, "duplicates": n}`: every message is stored (a message
  sent twice is stored once).

- 400 when the body is unusable (not JSON, ...) or some messages are invalid: the valid ones are
  stored, the invalid ones quarantined, and the body names each by index and field:
  `{"error", "detail", "field", "accepted", "rejected_count", "rejected": [{"index", "field",
  "reason"}]}`.
- 401 bad or missing write key; 413 body over 500 KB (also after decompression); 415 a body that
  is neither JSON nor text, or compressed other than with gzip; 503 the commit failed (retry).

Error bodies also carry Segment's own `code` and `message` keys, which its SDKs log. Answers to
valid requests carry a `Server-Timing` header (`parse`, `commit`: waiting for the group commit,
`total`: from the start of the handler; in ms), which the benchmark reports.

The body is read raw (no pydantic model: it would cost more than the rest of the request) and
handed to `customers.spec.parse_body`; the lake's group-commit writer, started and stopped with
the app (this router's lifespan), turns concurrent requests into one Delta commit. The OpenAPI
document still describes the body (`openapi_extra`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Final

import msgspec
from fastapi import APIRouter, FastAPI, Request, Security
from fastapi.responses import Response
from fastapi.security import HTTPBasic
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from tandem.customers.sources import SourceInfo, Sources
from tandem.customers.spec import MAX_BATCH_BYTES, MESSAGE_TYPES, PayloadTooLarge, parse_body
from tandem.errors import InvalidInput, Problem, TandemError
from tandem.lake import GroupCommitWriter, WriteResult

ENDPOINTS: Final = (*MESSAGE_TYPES, "batch")
MAX_COMPRESSED_BYTES: Final = MAX_BATCH_BYTES
"""A gzip body is refused above this many bytes before it is even decompressed."""
MAX_REJECTIONS_SHOWN: Final = 100
"""An answer lists at most this many rejected messages (`rejected_count` has them all)."""
JSON_TYPES: Final = ("application/json", "text/plain", "application/x-www-form-urlencoded", "")
"""Content types taken as JSON: Segment's server SDKs send application/json; analytics.js sends
text/plain (a "simple" request a browser sends without a CORS preflight); `curl -d` sends
application/x-www-form-urlencoded unless told otherwise; some clients send none."""


class Unauthorized(TandemError):
    status_code = 401
    error = "unauthorized"


class UnsupportedMediaType(TandemError):
    status_code = 415
    error = "unsupported_media_type"


class NotReady(TandemError):
    status_code = 503
    error = "not_ready"


class CommitFailed(TandemError):
    status_code = 503
    error = "commit_failed"


# -- the request body -----------------------------------------------------------------------------
def _media_type(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media in JSON_TYPES or media.endswith("+json"):
        return media
    raise UnsupportedMediaType(
        f"Content-Type `{content_type}` is not accepted",
        field="Content-Type",
        detail="send the JSON body as application/json (or text/plain)",
    )


def _encoding(request: Request) -> str:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return "identity"
    if encoding in ("gzip", "x-gzip"):
        return "gzip"
    raise UnsupportedMediaType(
        f"Content-Encoding `{encoding}` is not supported",
        field="Content-Encoding",
        detail="send the body uncompressed or gzip-compressed",
    )


def _too_large(what: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"{what} is larger than {MAX_BATCH_BYTES // 1024} KB",
        field="body",
        detail="split it into smaller batches (at most 500 KB, 32 KB per message)",
    )


async def read_body(request: Request) -> bytes:
    """The request body, decompressed, at most MAX_BATCH_BYTES (413 beyond, read no further)."""
    _media_type(request)
    encoding = _encoding(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > MAX_BATCH_BYTES:
        raise _too_large("the request body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BATCH_BYTES:
            raise _too_large("the request body")
        chunks.append(chunk)
    raw = b"".join(chunks)
    return gunzip(raw) if encoding == "gzip" else raw


def gunzip(data: bytes, limit: int = MAX_BATCH_BYTES) -> bytes:
    """Decompress gzip member(s), stopping as soon as the output passes `limit` (a gzip bomb
    costs at most `limit` bytes of memory)."""
    out = bytearray()
    while True:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise _bad_body(f"the body is not valid gzip ({exc})") from None
        if len(out) > limit or inflater.unconsumed_tail:
            raise _too_large("the decompressed request body")
        if not inflater.eof:
            raise _bad_body("the gzip body is truncated")
        data = inflater.unused_data
        if not data.strip(b"\0"):
            return bytes(out)
        if len(out) >= limit:
            raise _too_large("the decompressed request body")


def _bad_body(message: str) -> InvalidInput:
    return InvalidInput(message, [Problem(message, field="body")])


# -- the write key --------------------------------------------------------------------------------
def write_key_from_header(authorization: str | None) -> str | None:
    """The user of an HTTP Basic `Authorization` header (the password is ignored, as Segment
    does), or None when there is no such header."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized(
            f"Authorization scheme `{scheme}` is not supported",
            field="Authorization",
            detail="send the source's write key as the HTTP Basic user, with an empty password",
        )
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized(
            "the Authorization header is not valid HTTP Basic (base64 of `writeKey:`)",
            field="Authorization",
        ) from None
    return decoded.partition(":")[0]


class _KeyInBody(msgspec.Struct):
    writeKey: str | None = None


def write_key_from_body(body: bytes) -> str | None:
    """`writeKey` in a JSON object body, as analytics.js and the Python SDK also send it."""
    try:
        value = msgspec.json.decode(body, type=_KeyInBody)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return value.writeKey


async def _authenticate(sources: Sources, write_key: str | None) -> SourceInfo:
    if not write_key:
        raise Unauthorized(
            "a write key is required",
            field="Authorization",
            detail="send the source's write key as the HTTP Basic user (empty password); "
            "`tandem sources list` shows the sources, `tandem sources rotate-key` a new key",
        )
    found = sources.cached(write_key)
    if found is None or isinstance(found, SourceInfo):
        info = found
    else:
        info = await _lookup(sources, write_key)
    if info is None:
        raise Unauthorized(
            "the write key is not valid",
            field="Authorization",
            detail="it belongs to no source, or the source's key was rotated",
        )
    return info


_lookups: dict[tuple[int, str], asyncio.Task[SourceInfo | None]] = {}
"""Database lookups in flight: when the cache entry of a busy key expires, the requests that
arrive meanwhile share one lookup instead of each asking the database."""


async def _lookup(sources: Sources, write_key: str) -> SourceInfo | None:
    """Ask the database (in a worker thread, not blocking the event loop), once per key. The
    lookup is a task of its own, so a client that hangs up does not cancel it for the others."""
    slot = (id(sources), write_key)
    task = _lookups.get(slot)
    if task is None:
        task = asyncio.ensure_future(run_in_threadpool(sources.authenticate_uncached, write_key))
        _lookups[slot] = task
        task.add_done_callback(lambda done: _lookup_done(slot, done))
    return await asyncio.shield(task)


def _lookup_done(slot: tuple[int, str], task: asyncio.Task[SourceInfo | None]) -> None:
    _lookups.pop(slot, None)
    if not task.cancelled():
        task.exception()  # retrieved here, so an unawaited failure is not logged as lost


# -- answers --------------------------------------------------------------------------------------
CORS_HEADERS: Final = {"Access-Control-Allow-Origin": "*"}
"""Browsers may post from any site (analytics.js runs in the company's own pages); the write key,
not the origin, authenticates, and no cookie is ever read here."""
PREFLIGHT_HEADERS: Final = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Content-Encoding",
    "Access-Control-Max-Age": "86400",
}


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(
        msgspec.json.encode(body),
        status_code=status,
        media_type="application/json",
        headers=CORS_HEADERS,
    )


def error_response(exc: TandemError) -> Response:
    body = exc.to_dict()
    body.update(success=False, code=exc.error, message=exc.message)
    headers = {"WWW-Authenticate": 'Basic realm="tandem"'} if exc.status_code == 401 else None
    response = _json(body, exc.status_code)
    if headers:
        response.headers.update(headers)
    return response


def _stored(valid: int) -> str:
    if valid == 0:
        return "no valid message to store"
    return "the valid one was stored" if valid == 1 else f"the {valid} valid ones were stored"


def result_response(
    parsed_total: int, rejections: list[Any], result: WriteResult | None
) -> Response:
    accepted = result.accepted if result else 0
    duplicates = result.duplicates if result else 0
    if not rejections:
        return _json({"success": True, "accepted": accepted, "duplicates": duplicates}, 200)
    first = rejections[0]
    count = len(rejections)
    where = first.field or (f"message {first.index}" if first.index is not None else "body")
    body = {
        "success": False,
        "error": "invalid_messages",
        "code": "invalid_messages",
        "detail": f"{count} of {parsed_total} messages {'is' if count == 1 else 'are'} invalid "
        f"and quarantined ({where}: {first.reason}); {_stored(accepted + duplicates)}",
        "field": first.field,
        "accepted": accepted,
        "duplicates": duplicates,
        "rejected_count": count,
        "rejected": [
            {"index": r.index, "field": r.field, "reason": r.reason}
            for r in rejections[:MAX_REJECTIONS_SHOWN]
        ],
    }
    body["message"] = body["detail"]
    return _json(body, 400)


# -- the endpoints --------------------------------------------------------------------------------
@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the lake's group-commit writer with the app; flush and stop it on shutdown."""
    writer = app.state.workspace.lake.writer()
    app.state.ingest_writer = writer
    try:
        yield
    finally:
        app.state.ingest_writer = None
        await run_in_threadpool(writer.close)


class _WriteKeyScheme(HTTPBasic):
    """Declares the write key (HTTP Basic user) in the OpenAPI document; the endpoint itself
    reads the header (also accepting `writeKey` in the body, which HTTPBasic would not)."""

    async def __call__(self, request: HTTPConnection) -> None:
        return None


router = APIRouter(
    prefix="/v1",
    tags=["ingest"],
    lifespan=lifespan,
    dependencies=[
        Security(
            _WriteKeyScheme(
                scheme_name="writeKey",
                description="The source's write key as the HTTP Basic user, empty password.",
                auto_error=False,
            )
        )
    ],
)


async def ingest(request: Request, endpoint: str) -> Response:
    """Authenticate, read, validate, commit, answer: the whole of one /v1 request."""
    try:
        return await _ingest(request, endpoint)
    except TandemError as exc:
        return error_response(exc)


async def _ingest(request: Request, endpoint: str) -> Response:
    started = time.perf_counter()
    received_at = datetime.now(UTC)
    workspace = request.app.state.workspace
    header_key = write_key_from_header(request.headers.get("authorization"))
    source = await _authenticate(workspace.sources, header_key) if header_key else None
    body = await read_body(request)
    if source is None:
        source = await _authenticate(workspace.sources, write_key_from_body(body))
    writer: GroupCommitWriter | None = getattr(request.app.state, "ingest_writer", None)
    if writer is None:
        raise NotReady("the server is starting or stopping; retry in a moment")
    parse_started = time.perf_counter()
    try:
        parsed = parse_body(body, endpoint=endpoint, source=source.name, received_at=received_at)
    except (ValueError, OverflowError, RecursionError) as exc:  # a value no check foresaw
        raise _bad_body(f"the body could not be validated ({type(exc).__name__}: {exc})") from None
    commit_started = time.perf_counter()
    result = None
    if parsed.total:
        try:
            result = await asyncio.wrap_future(writer.submit(parsed))
        except Exception as exc:  # the lake failed: nothing acknowledged, the client retries
            raise CommitFailed(
                f"the messages could not be stored ({type(exc).__name__}: {exc})",
                detail="nothing was acknowledged; retry the request",
            ) from exc
    response = result_response(parsed.total, parsed.rejections, result)
    done = time.perf_counter()
    response.headers["Server-Timing"] = (
        f"parse;dur={(commit_started - parse_started) * 1000:.1f}, "
        f"commit;dur={(done - commit_started) * 1000:.1f}, "
        f"total;dur={(done - started) * 1000:.1f}"
    )
    return response


# -- OpenAPI --------------------------------------------------------------------------------------
_OBJECT: Final = {"type": "object", "additionalProperties": True}
_TIME: Final = {"type": "string", "format": "date-time"}
MESSAGE_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "description": "A Segment message (https://segment.com/docs/connections/spec/). "
    "`userId` or `anonymousId` is required; at most 32 KB.",
    "properties": {
        "type": {"type": "string", "enum": list(MESSAGE_TYPES)},
        "messageId": {"type": "string", "description": "Assigned when missing; dedupe key."},
        "userId": {"type": "string"},
        "anonymousId": {"type": "string"},
        "event": {"type": "string", "description": "track: the event name (required)."},
        "name": {"type": "string", "description": "page/screen: the page or screen name."},
        "groupId": {"type": "string", "description": "group: required."},
        "previousId": {"type": "string", "description": "alias: required."},
        "traits": _OBJECT,
        "properties": _OBJECT,
        "context": _OBJECT,
        "integrations": _OBJECT,
        "timestamp": _TIME,
        "originalTimestamp": _TIME,
        "sentAt": _TIME,
        "writeKey": {"type": "string", "description": "Alternative to HTTP Basic auth."},
    },
    "additionalProperties": True,
}
BATCH_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["batch"],
    "properties": {
        "batch": {"type": "array", "items": MESSAGE_SCHEMA},
        "sentAt": _TIME,
        "context": _OBJECT,
        "writeKey": {"type": "string"},
    },
}
_ERROR_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "detail": {"type": "string"},
        "field": {"type": ["string", "null"]},
        "accepted": {"type": "integer"},
        "rejected_count": {"type": "integer"},
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": ["integer", "null"]},
                    "field": {"type": ["string", "null"]},
                    "reason": {"type": "string"},
                },
            },
        },
    },
}


def _openapi(endpoint: str) -> dict[str, Any]:
    schema = BATCH_SCHEMA if endpoint == "batch" else MESSAGE_SCHEMA
    error = {"content": {"application/json": {"schema": _ERROR_SCHEMA}}}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
            "description": "JSON, optionally with `Content-Encoding: gzip`; at most 500 KB.",
        },
        "responses": {
            "200": {
                "description": "Stored (a Delta commit happened before this answer).",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "success": {"type": "boolean"},
                                "accepted": {"type": "integer"},
                                "duplicates": {"type": "integer"},
                            },
                        }
                    }
                },
            },
            "400": {"description": "Invalid body or messages (valid ones stored).", **error},
            "401": {"description": "Missing or invalid write key.", **error},
            "413": {"description": "Body over 500 KB (also after decompression).", **error},
            "415": {"description": "Not JSON, or compressed other than with gzip.", **error},
            "503": {
                "description": "Not stored (commit failed or server stopping): retry.",
                **error,
            },
        },
    }


def _route(endpoint: str) -> None:
    async def handler(request: Request) -> Response:
        return await ingest(request, endpoint)

    summary = "Send a batch of messages" if endpoint == "batch" else f"Send one {endpoint} message"
    router.add_api_route(
        f"/{endpoint}",
        handler,
        methods=["POST"],
        name=f"ingest_{endpoint}",
        summary=summary,
        description=f"Segment-compatible `{endpoint}`: HTTP Basic with the source's write key as "
        "user and an empty password.",
        response_class=Response,
        openapi_extra=_openapi(endpoint),
    )


async def preflight() -> Response:
    """CORS preflight of a browser about to POST JSON with a write key."""
    return Response(status_code=204, headers=PREFLIGHT_HEADERS)


for _endpoint in ENDPOINTS:
    _route(_endpoint)
    router.add_api_route(
        f"/{_endpoint}",
        preflight,
        methods=["OPTIONS"],
        name=f"ingest_{_endpoint}_preflight",
        include_in_schema=False,
        response_class=Response,
    )
