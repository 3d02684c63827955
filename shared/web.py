"""Flask app factory pieces shared by every service.

One error shape everywhere::

    {"error": {"status": 422, "code": "validation_failed",
               "message": "...", "fields": {"name": ["..."]}},
     "request_id": "..."}

No stack trace ever reaches a client; no request value can become a query
operator; ``/healthz`` says the process is up, ``/readyz`` that the database
and the broker are reachable.
"""
from __future__ import annotations

import logging
import re
import threading
import uuid
from typing import Callable

from flask import Flask, current_app, g, jsonify, request
from flask_smorest import Api
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from . import auth, logs
from .config import Settings
from .db import ping
from .errors import AppError

log = logging.getLogger(__name__)

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
         422: "validation_failed", 429: "too_many_requests", 500: "internal_error", 503: "unavailable"}


class ErrorDetail(Schema):
    status = fields.Integer(required=True, metadata={"description": "the HTTP status"})
    code = fields.String(required=True, metadata={"description": "machine-readable: " + ", ".join(
        sorted(set(CODES.values()) | {"already_registered", "conflict", "move_in_progress"}))})
    message = fields.String(required=True, metadata={"description": "what went wrong, for people"})
    fields_ = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), data_key="fields",
                          metadata={"description": "each failing field (dotted for nested ones) and why"})


class ErrorSchema(Schema):
    """The one error shape of every gonghui service."""

    error = fields.Nested(ErrorDetail, required=True)
    request_id = fields.String(allow_none=True, required=True)


class GonghuiApi(Api):
    ERROR_SCHEMA = ErrorSchema  # what flask-smorest documents for 422 and "default"


# Documented on every operation (besides 422 and the default): what any of them may answer.
DOCUMENTED_ERRORS = {422: "invalid fields, or a domain rule refused the change",
                     400: "malformed request (JSON not parseable or nested too deeply)",
                     401: "missing or invalid bearer token, or its organisation is closed",
                     403: "the caller's role may not do this",
                     404: "not found, or outside the caller's scope",
                     409: "conflict with the current state (changed meanwhile, already registered ...)",
                     413: "request body too large", 429: "rationed: try again later",
                     503: "a dependency (the identity provider's keys) is unavailable"}


def document_errors(api: Api) -> None:
    """Every operation states the real error shape for every error status it can answer."""
    for status, description in DOCUMENTED_ERRORS.items():
        api.spec.components.response(f"Error{status}", {
            "description": description, "content": {"application/json": {"schema": "Error"}}})
    for operations in api.spec._paths.values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                for status in DOCUMENTED_ERRORS:
                    operation["responses"].setdefault(str(status), {"$ref": f"#/components/responses/Error{status}"})


class ApiError(HTTPException):
    """Raise from a view for a domain refusal: ``ApiError(409, "...", fields={...})``."""

    def __init__(self, status: int, message: str, fields: dict | None = None, code: str | None = None):
        super().__init__(description=message)
        self.code = status
        self.fields = fields
        self.error_code = code


def error_response(status: int, message: str, fields: dict | None = None, code: str | None = None):
    body = {"error": {"status": status, "code": code or CODES.get(status, "error"), "message": message},
            "request_id": getattr(g, "request_id", None)}
    if fields:
        body["error"]["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


def _handle_http(exc: HTTPException):
    fields = getattr(exc, "fields", None)
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    problems = []
    if messages:  # webargs/marshmallow: {"json": {...}} or {"query": {...}}
        fields = {}
        for location_messages in messages.values():
            if isinstance(location_messages, dict):
                fields.update(flatten_messages(location_messages))
            else:  # about the body or query as a whole, e.g. invalid JSON
                problems.extend(str(m) for m in location_messages)
        fields = fields or None
    if isinstance(exc, ApiError):
        message = exc.description
    elif problems:
        message = "; ".join(problems)
    else:
        message = _default_message(exc.code or 500, fields)
    response = _challenged(error_response(exc.code or 500, message, fields, getattr(exc, "error_code", None)))
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # RFC 9110
    return response


def _handle_app_error(exc: AppError):
    return _challenged(error_response(exc.status, exc.message, exc.fields, exc.code))


def _challenged(response):
    """A 401 says how to authenticate."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="gonghui"'
    return response


def flatten_messages(messages: dict, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages ({"items": {"0": {"wage_fen": [...]}}}) as one field path each
    ("items.0.wage_fen"), so that ``fields`` is always a map of field to reasons."""
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten_messages(value, path))
        else:
            flat[path] = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    return flat


def _default_message(status: int, fields: dict | None) -> str:
    if status == 422 and fields:
        return "invalid fields: " + ", ".join(sorted(fields))
    return {400: "bad request", 401: "authentication required", 404: "not found",
            405: "method not allowed", 413: "request too large"}.get(status, "request failed")


def _handle_unexpected(exc: Exception):
    log.exception("unhandled error")
    return error_response(500, "internal error")


MAX_JSON_DEPTH = 32  # no request body of this API nests deeper; a deeper one is refused before any walk


class TooDeep(ValueError):
    pass


def inspect_body(value, max_depth: int = MAX_JSON_DEPTH) -> tuple[list[str], list[str]]:
    """In one walk without recursion: the paths of any keys that could be read as a MongoDB operator
    ($...), and of any strings holding a NUL character; raises ``TooDeep`` beyond ``max_depth`` levels."""
    operators, nul, stack = [], [], [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > max_depth:
            raise TooDeep(f"the JSON body nests deeper than {max_depth} levels")
        if isinstance(node, dict):
            for key, child in node.items():
                here = f"{path}.{key}" if path else str(key)
                if str(key).startswith("$") or "\x00" in str(key):
                    operators.append(here)
                stack.append((child, here, depth + 1))
        elif isinstance(node, list):
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(node))
        elif isinstance(node, str) and "\x00" in node:
            nul.append(path or "(body)")
    return sorted(operators), sorted(nul)


def find_operator_keys(value, max_depth: int = MAX_JSON_DEPTH) -> list[str]:
    return inspect_body(value, max_depth)[0]


# No text field takes a NUL character (nor can every store hold one); the OpenAPI documents say so.
NO_NUL_PATTERN = r"^[^\u0000]*$"


def _refuse_nul(paths) -> object:
    return error_response(422, "text may not hold NUL characters",
                          {p: ["NUL characters are not accepted."] for p in paths}) if paths else None


def _guard_operators():
    if request.is_json and request.content_length:
        try:
            body = request.get_json(silent=True)
            bad, nul = inspect_body(body) if body is not None else ([], [])
        except (RecursionError, TooDeep):  # the parser itself recurses: 50,000 '[' must not become a 500
            return error_response(400, f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
        if bad:
            return error_response(422, "field names may not start with '$'",
                                  {p: ["Operator-like keys are not accepted."] for p in bad})
        if nul:
            return _refuse_nul(nul)
    bad = [k for k in request.args if k.startswith("$") or "[" in k]
    if bad:
        return error_response(422, "query parameter names may not start with '$' or hold brackets",
                              {k: ["Not accepted."] for k in bad})
    # (a form is left to its view: reading it here would parse an upload before its own size limit is set)
    return _refuse_nul(sorted({k for k, v in request.args.items(multi=True) if "\x00" in k or "\x00" in v}))


def forbid_nul(api: Api) -> None:
    """Every text property and parameter without a pattern of its own says it takes no NUL (the
    patterns of their own admit none)."""
    def fix(schema: dict) -> None:
        if not isinstance(schema, dict):
            return
        types = schema.get("type")
        if (types == "string" or (isinstance(types, list) and "string" in types)) and "format" not in schema:
            schema.setdefault("pattern", NO_NUL_PATTERN)
        for key in ("properties", "patternProperties"):
            for child in (schema.get(key) or {}).values():
                fix(child)
        for key in ("items", "additionalProperties"):
            fix(schema.get(key))
        for key in ("oneOf", "anyOf", "allOf"):
            for child in schema.get(key) or []:
                fix(child)
    for schema in api.spec.components.schemas.values():
        fix(schema)
    for operations in api.spec._paths.values():
        for operation in operations.values():
            if isinstance(operation, dict):
                for parameter in operation.get("parameters", []):
                    if isinstance(parameter, dict):
                        fix(parameter.get("schema"))


def current_caller(settings: Settings) -> auth.Caller:
    cached = getattr(g, "caller", None)
    if cached is not None:
        return cached
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "missing bearer token")
    verifier = current_app.extensions.get("gonghui.verifier") or auth.Verifier.from_settings(settings)
    try:
        g.caller = verifier.decode(token.strip())
    except auth.Unauthenticated as exc:
        raise ApiError(401, f"invalid token: {exc}") from exc
    except auth.KeysUnavailable as exc:
        log.warning("cannot verify a token: %s", exc)
        raise ApiError(503, "tokens cannot be verified right now "
                            "(the identity provider's keys are unavailable)") from exc
    return g.caller


class BrokerProbe:
    """Lazily created, per process (so after gunicorn forks), metadata probe."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client = None
        self._lock = threading.Lock()

    def check(self) -> None:
        from kafka import KafkaConsumer

        with self._lock:
            if self._client is None:
                self._client = KafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap.split(","),
                                             request_timeout_ms=5000, bootstrap_timeout_ms=3000,
                                             client_id=f"gonghui-{self.settings.service}-probe")
            try:
                self._client.topics()
            except Exception:
                self._client.close()  # start afresh next time rather than retry forever in the background
                self._client = None
                raise


def create_base_app(settings: Settings, title: str, readiness: list[Callable[[], None]] | None = None) -> tuple[Flask, Api]:
    logs.configure(settings.service, settings.log_level)
    app = Flask(settings.service)
    app.config.update(
        API_TITLE=f"gonghui {title}",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.extensions["gonghui.settings"] = settings
    # Token checks; the identity provider's JWKS is fetched on the first token that needs it, not here.
    app.extensions["gonghui.verifier"] = auth.Verifier.from_settings(settings)
    api = GonghuiApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "security": [{"bearer": []}]})

    @app.before_request
    def _request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        guarded = _guard_operators()
        if (guarded is None and request.url_rule is not None and request.path.startswith("/api/v1/")
                and not request.path.endswith("/openapi.json")):
            current_caller(settings)  # authentication first: no validation answers to anonymous callers
        return guarded

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        return response

    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(AppError, _handle_app_error)
    app.register_error_handler(Exception, _handle_unexpected)

    probe = BrokerProbe(settings)
    checks = [("database", lambda: ping(settings)), ("broker", probe.check)]
    checks += [(fn.__name__, fn) for fn in readiness or []]

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "service": settings.service}

    @app.get("/readyz")
    def readyz():
        results, ready = {}, True
        for name, check in checks:
            try:
                check()
                results[name] = "ok"
            except Exception as exc:
                ready = False
                results[name] = f"unavailable: {type(exc).__name__}"
        return jsonify({"status": "ready" if ready else "not_ready", "checks": results}), 200 if ready else 503

    return app, api


def create_service_app(service: str, documents: list, blueprints=(), settings: Settings | None = None,
                       readiness: list[Callable[[], None]] | None = None,
                       documented_as: dict[str, dict] | None = None) -> Flask:
    """The common shape of every service's ``create_app``: settings from the
    environment, the base app, its own database with indexes, its Blueprints.
    ``documented_as`` replaces generated schema components (by name) with a JSON Schema that states
    what marshmallow cannot, such as one field's allowed values depending on another's."""
    from . import db

    settings = settings or Settings.from_env(service)
    settings.require_secrets()
    app, api = create_base_app(settings, service, readiness)
    db.connect(settings)
    db.ensure_indexes(documents)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    for name, schema in (documented_as or {}).items():
        if name not in api.spec.components.schemas:
            raise KeyError(f"no schema component {name} to document")
        api.spec.components.schemas[name] = schema
    document_errors(api)
    forbid_nul(api)
    return app
