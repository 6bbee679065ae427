"""Every /api/v1 route mapped to what it needs (permission, resource) and how its answer is
filtered. A route missing here is refused (403) for everyone, and a test fails.

Each rule gets the call (principal, path parameters, body) and either raises
:class:`Forbidden` or returns a :class:`Plan`: whether the call writes (audited),
a filter for its JSON answer, a stream to filter, or an answer of its own.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.datastructures import QueryParams

from twinkit.access.evaluator import READ, WRITE, Decisions, redact_document, redact_event
from twinkit.access.guard import Forbidden, Guard
from twinkit.access.policy import Permission, split_path
from twinkit.access.principal import Principal

API = "/api/v1"
EXECUTE = Permission.EXECUTE

JsonFilter = Callable[[Any], Awaitable[Any]]


@dataclass(slots=True)
class Call:
    method: str
    template: str
    params: dict[str, str]
    query: QueryParams
    principal: Principal
    guard: Guard
    body: bytes | None = None
    content_type: str = ""

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (the route will answer 400)."""
        if not self.body:
            return None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None


@dataclass(slots=True)
class Plan:
    write: bool = False
    resource: str = ""
    twin: str | None = None
    filter: JsonFilter | None = None
    stream: str | None = None  # "sse" or "ws": filter each event
    answer: Callable[[], Awaitable[Any]] | None = None  # answer without calling the app


Rule = Callable[[Call], Awaitable[Plan]]


@dataclass(slots=True)
class Route:
    method: str
    template: str
    rule: Rule
    needs_body: bool = False
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{path\\\}", "(?P<path>.+)", re.escape(self.template))
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        self.pattern = re.compile(regex + "$")


ROUTES: list[Route] = []


def route(method: str, template: str, *, body: bool = False) -> Callable[[Rule], Rule]:
    def register(rule: Rule) -> Rule:
        ROUTES.append(Route(method, template, rule, body))
        return rule

    return register


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for candidate in ROUTES:
        if candidate.method != method and not (method == "HEAD" and candidate.method == "GET"):
            continue
        found = candidate.pattern.match(path)
        if found is not None:
            return candidate, found.groupdict()
    return None


# -- helpers ---------------------------------------------------------------------------------


async def visible_twin(call: Call, twin: str | None = None) -> Decisions:
    """The decisions on the call's twin; 403 unless some part of it is readable."""
    twin = twin or call.params["twin_id"]
    decisions = await call.guard.twin(call.principal, twin)
    call.guard.require(decisions.can_any(READ, "twin"), READ, "twin:/")
    return decisions


def gate(call: Call, permission: Permission, kind: str) -> None:
    """403 unless some policy grants ``permission`` on ``kind`` to the principal somewhere."""
    held = call.guard.holds_anywhere(call.principal, permission, kind)
    call.guard.require(held, permission, f"{kind}:/")


def twin_doc_filter(decisions: Decisions, call: Call) -> JsonFilter | None:
    """Redacts a twin document answer; None (no filtering at all) for full readers."""
    if not call.guard.authorize or decisions.can_all(READ, "twin"):
        return None

    async def redact(body: Any) -> Any:
        if not isinstance(body, dict):
            return body
        kept = redact_document(body, decisions)
        if kept is None:  # a writer that may not read: only what it wrote to
            return {k: body[k] for k in ("id", "revision", "etag") if k in body}
        return kept

    return redact


def leaf_paths(value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every path a merge patch (or a section) touches."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaf_paths(item, (*prefix, str(key)))
    else:
        yield prefix


def patch_paths(patch: Any, json_patch: bool) -> list[tuple[str, ...]]:
    if not json_patch:
        return list(leaf_paths(patch)) if isinstance(patch, dict) else [()]
    paths: list[tuple[str, ...]] = []
    for op in patch if isinstance(patch, list) else []:
        if isinstance(op, dict):
            for key in ("path", "from"):
                if isinstance(op.get(key), str) and (key == "path" or op.get("op") == "move"):
                    paths.append(split_path(op[key]))
    return paths or [()]


def require_write(
    call: Call, decisions: Decisions, section: str, paths: list[tuple[str, ...]]
) -> None:
    for path in paths:
        full = (section, *path)
        call.guard.require(decisions.can_all(WRITE, "twin", full), WRITE, "twin:/" + "/".join(full))


# -- twins -----------------------------------------------------------------------------------


@route("GET", f"{API}/twins/{{twin_id}}")
async def read_twin(call: Call) -> Plan:
    decisions = await visible_twin(call)
    return Plan(filter=twin_doc_filter(decisions, call), twin=call.params["twin_id"])


@route("GET", f"{API}/twins")
async def list_twins(call: Call) -> Plan:
    gate(call, READ, "twin")
    guard, principal = call.guard, call.principal

    async def redact(body: Any) -> Any:
        items = []
        for doc in body.get("items", []):
            decisions = guard.evaluator.decisions(principal, twin=doc["id"], model=doc["model"])
            kept = redact_document(doc, decisions) if guard.authorize else doc
            if kept is not None:
                items.append(kept)
        return {**body, "items": items}

    return Plan(filter=redact)


@route("PUT", f"{API}/twins/{{twin_id}}", body=True)
async def put_twin(call: Call) -> Plan:
    twin = call.params["twin_id"]
    body = call.json()
    new_model = body.get("model") if isinstance(body, dict) else None
    old = await call.guard.twin(call.principal, twin)
    call.guard.require(old.can_all(WRITE, "twin"), WRITE, "twin:/")
    if isinstance(new_model, str):  # replacing may change the model: both contexts must allow
        new = await call.guard.twin(call.principal, twin, model=new_model)
        call.guard.require(new.can_all(WRITE, "twin"), WRITE, "twin:/")
    return Plan(write=True, resource="twin:/", twin=twin, filter=twin_doc_filter(old, call))


@route("DELETE", f"{API}/twins/{{twin_id}}")
async def delete_twin(call: Call) -> Plan:
    twin = call.params["twin_id"]
    decisions = await call.guard.twin(call.principal, twin)
    call.guard.require(decisions.can_all(WRITE, "twin"), WRITE, "twin:/")
    return Plan(write=True, resource="twin:/", twin=twin)


async def _patch(call: Call, section: str) -> Plan:
    twin = call.params["twin_id"]
    decisions = await call.guard.twin(call.principal, twin)
    patch = call.json()
    if patch is not None:
        json_patch = "json-patch" in call.content_type
        require_write(call, decisions, section, patch_paths(patch, json_patch))
    else:
        require_write(call, decisions, section, [()])
    return Plan(
        write=True, resource=f"twin:/{section}", twin=twin, filter=twin_doc_filter(decisions, call)
    )


@route("PATCH", f"{API}/twins/{{twin_id}}/reported", body=True)
async def patch_reported(call: Call) -> Plan:
    return await _patch(call, "reported")


@route("PATCH", f"{API}/twins/{{twin_id}}/desired", body=True)
async def patch_desired(call: Call) -> Plan:
    return await _patch(call, "desired")


# -- telemetry -------------------------------------------------------------------------------


def _values(message: Any) -> dict[str, Any]:
    if not isinstance(message, dict):
        return {}
    values = message.get("values")
    if isinstance(values, dict):
        return values
    return {k: v for k, v in message.items() if k != "at"}


@route("POST", f"{API}/twins/{{twin_id}}/telemetry", body=True)
async def post_telemetry(call: Call) -> Plan:
    twin = call.params["twin_id"]
    decisions = await call.guard.twin(call.principal, twin)
    paths: list[tuple[str, ...]] = [(str(k),) for k in _values(call.json())] or [()]
    require_write(call, decisions, "telemetry", paths)
    return Plan(write=True, resource="twin:/telemetry", twin=twin)


@route("POST", f"{API}/telemetry", body=True)
async def post_batch(call: Call) -> Plan:
    gate(call, WRITE, "twin")
    batch = call.json()
    for index, item in enumerate(batch if isinstance(batch, list) else []):
        twin = item.get("twin") if isinstance(item, dict) else None
        if not isinstance(twin, str):
            continue  # the route reports the bad item
        decisions = await call.guard.twin(call.principal, twin)
        for key in _values(item) or {"": None}:
            if (
                not decisions.can_all(WRITE, "twin", ("telemetry", str(key)))
                and call.guard.authorize
            ):
                raise Forbidden(
                    f"WRITE on twin:/telemetry/{key} of {twin!r} is not granted to you",
                    f"/{index}/values/{key}",
                )
    return Plan(write=True, resource="twin:/telemetry")


# -- relationships ---------------------------------------------------------------------------


@route("PUT", f"{API}/twins/{{twin_id}}/relationships/{{rel_id}}", body=True)
async def put_relationship(call: Call) -> Plan:
    """WRITE on the source's ``twin:/relationships/<id>``, and the target must be visible:
    an edge into a twin the caller cannot see would reveal that it exists."""
    plan = await _relationship(call, WRITE)
    body = call.json()
    target = body.get("target") if isinstance(body, dict) else None
    if isinstance(target, str):
        decisions = await call.guard.twin(call.principal, target)
        call.guard.require(decisions.can_any(READ, "twin"), READ, f"twin:/ of {target!r}")
    return plan


@route("DELETE", f"{API}/twins/{{twin_id}}/relationships/{{rel_id}}")
async def delete_relationship(call: Call) -> Plan:
    return await _relationship(call, WRITE)


@route("GET", f"{API}/twins/{{twin_id}}/relationships/{{rel_id}}")
async def read_relationship(call: Call) -> Plan:
    return await _relationship(call, READ)


async def _relationship(call: Call, permission: Permission) -> Plan:
    twin, rel = call.params["twin_id"], call.params["rel_id"]
    decisions = await call.guard.twin(call.principal, twin)
    path = ("relationships", rel)
    call.guard.require(
        decisions.can_all(permission, "twin", path), permission, "twin:/" + "/".join(path)
    )
    return Plan(write=permission == WRITE, resource=f"twin:/relationships/{rel}", twin=twin)


@route("GET", f"{API}/twins/{{twin_id}}/relationships")
async def list_relationships(call: Call) -> Plan:
    decisions = await visible_twin(call)

    async def keep(body: Any) -> Any:
        items = [
            r
            for r in body.get("items", [])
            if not call.guard.authorize or decisions.can(READ, "twin", ("relationships", r["id"]))
        ]
        return {**body, "items": items}

    return Plan(filter=keep)


@route("GET", f"{API}/twins/{{twin_id}}/incoming")
async def list_incoming(call: Call) -> Plan:
    await visible_twin(call)

    async def keep(body: Any) -> Any:
        items = []
        for rel in body.get("items", []):
            source = await call.guard.twin(call.principal, rel["source"])
            if not call.guard.authorize or source.can(READ, "twin", ("relationships", rel["id"])):
                items.append(rel)
        return {**body, "items": items}

    return Plan(filter=keep)


# -- history and journal ---------------------------------------------------------------------


@route("GET", f"{API}/twins/{{twin_id}}/history")
async def list_series(call: Call) -> Plan:
    decisions = await call.guard.twin(call.principal, call.params["twin_id"])
    call.guard.require(decisions.can_any(READ, "history"), READ, "history:/")

    async def keep(body: Any) -> Any:
        paths = [
            p
            for p in body.get("paths", [])
            if not call.guard.authorize or decisions.can(READ, "history", split_path(p))
        ]
        return {**body, "paths": paths}

    return Plan(filter=keep)


@route("GET", f"{API}/twins/{{twin_id}}/history/{{path}}")
async def read_series(call: Call) -> Plan:
    decisions = await call.guard.twin(call.principal, call.params["twin_id"])
    path = split_path(call.params["path"])
    call.guard.require(decisions.can(READ, "history", path), READ, "history:/" + "/".join(path))
    return Plan(twin=call.params["twin_id"])


@route("GET", f"{API}/twins/{{twin_id}}/events")
async def read_journal(call: Call) -> Plan:
    decisions = await visible_twin(call)

    async def keep(body: Any) -> Any:
        if not call.guard.authorize:
            return body
        events = (redact_event(e, decisions) for e in body.get("items", []))
        return {**body, "items": [e for e in events if e is not None]}

    return Plan(filter=keep)


# -- commands --------------------------------------------------------------------------------


@route("POST", f"{API}/twins/{{twin_id}}/commands/{{name}}", body=True)
async def send_command(call: Call) -> Plan:
    twin, name = call.params["twin_id"], call.params["name"]
    decisions = await call.guard.twin(call.principal, twin)
    call.guard.require(decisions.can(EXECUTE, "command", (name,)), EXECUTE, f"command:/{name}")
    return Plan(write=True, resource=f"command:/{name}", twin=twin)


# -- models ----------------------------------------------------------------------------------


def readable_models(call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The model entries (each with an ``id``) the caller may READ (``model:/``)."""
    guard, principal = call.guard, call.principal
    if not guard.authorize:
        return items
    return [m for m in items if guard.model(principal, m.get("id")).can(READ, "model")]


@route("GET", f"{API}/models")
async def list_models(call: Call) -> Plan:
    gate(call, READ, "model")

    async def keep(body: Any) -> Any:
        return {**body, "items": readable_models(call, body.get("items", []))}

    return Plan(filter=keep)


@route("GET", f"{API}/models/{{dtmi}}")
async def read_model(call: Call) -> Plan:
    dtmi = call.params["dtmi"]
    allowed = call.guard.model(call.principal, dtmi).can(READ, "model")
    call.guard.require(allowed, READ, "model:/")
    return Plan()


@route("DELETE", f"{API}/models/{{dtmi}}")
async def delete_model(call: Call) -> Plan:
    dtmi = call.params["dtmi"]
    call.guard.require(call.guard.model(call.principal, dtmi).can(WRITE, "model"), WRITE, "model:/")
    return Plan(write=True, resource=f"model:/{dtmi}")


@route("POST", f"{API}/models", body=True)
async def add_models(call: Call) -> Plan:
    gate(call, WRITE, "model")
    body = call.json()
    docs = body if isinstance(body, list) else [body]
    for doc in docs:
        dtmi = doc.get("@id") if isinstance(doc, dict) else None
        if isinstance(dtmi, str):
            allowed = call.guard.model(call.principal, dtmi).can(WRITE, "model")
            call.guard.require(allowed, WRITE, f"model:/ of {dtmi}")
    return Plan(write=True, resource="model:/")


# -- ops -------------------------------------------------------------------------------------


@route("GET", "/metrics")
async def metrics(call: Call) -> Plan:
    call.guard.require(
        call.guard.everywhere(call.principal).can(READ, "metrics"), READ, "metrics:/"
    )
    return Plan()


@route("GET", f"{API}/audit")
async def audit(call: Call) -> Plan:
    gate(call, READ, "audit")
    return Plan()
