"""Does an API answer match the OpenAPI document? Status, content type and body.

:class:`Conformance` reads an OpenAPI 3.1 document (by default the deployed API's,
:func:`outreach.api.openapi.deployed_document`) and checks one answer of
``(method, concrete path)``:

* the operation is found by matching the path against the document's templates
  (``/v1/campaigns/{campaign_id}/start``); a literal segment wins over a templated
  one (``/v1/contacts/import`` is ``importContacts``, not ``getContact``);
* the status is one the operation documents, itself (``404``) or by its class
  (``4XX``), or its ``default``;
* the content type (its media type, parameters such as ``charset`` ignored) is one
  the response documents, and there is no body where it documents none (a 204);
* a JSON body validates against the documented schema (JSON Schema 2020-12,
  ``$ref`` to ``#/components/...`` resolved in the whole document, ``format``
  checked: ``date-time``, ``email`` and the others :mod:`jsonschema` knows).

An answer to a request the document has no operation for (an unknown path, or a
method the path does not take: the 404 and 405 of the router) must be a problem
(``application/problem+json``, with the document's ``Problem`` schema when it has
one); a success there is an undocumented route.

Compiled validators are cached per (operation, status, media type). Checking an
answer costs a dictionary lookup, a JSON parse and one schema validation: tens of
microseconds for a small body, about a millisecond for a page of 100 contacts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# jsonschema (and referencing, rfc3339-validator for date-time) come with schemathesis.
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "Conformance",
    "NonConformance",
    "deployed_conformance",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
DOCUMENT_URI = "urn:outreach:openapi"
"""The URI the document is registered under, so that its ``#/components/...``
references resolve from any schema inside it."""
EXCERPT_LENGTH = 300
"""Characters of a body quoted in a message."""

_FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER
# Without its optional dependency (rfc3339-validator) jsonschema accepts any date-time:
# refuse to run rather than check nothing.
_missing = {"date-time", "email"} - set(_FORMAT_CHECKER.checkers)
if _missing:  # pragma: no cover - an environment without jsonschema's format extras
    raise ImportError(f"jsonschema cannot check the formats {sorted(_missing)}")


class NonConformance(AssertionError):
    """An answer the document does not describe; the message says which and why."""


@dataclass(frozen=True)
class Operation:
    """One operation of the document: ``method`` (lowercase) on ``template``."""

    method: str
    template: str
    spec: Mapping[str, Any]

    @property
    def label(self) -> str:
        """``GET /v1/contacts/{contact_id}``."""
        return f"{self.method.upper()} {self.template}"


@dataclass(frozen=True)
class PathItem:
    """A path of the document: its template, split on "/", and its operations by method."""

    template: str
    segments: tuple[str | None, ...]  # None: a templated segment, matching any one segment
    operations: Mapping[str, Operation]


class Conformance:
    """The answers ``document`` (an OpenAPI 3.1 document, as parsed JSON) describes."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        # Here, not at import: importing this module builds nothing of outreach.
        from outreach.api.openapi import METHODS

        self.document = document
        routes: list[PathItem] = []
        for template, item in document.get("paths", {}).items():
            segments = tuple(
                None if part.startswith("{") and part.endswith("}") else part
                for part in template.split("/")
            )
            operations = {
                method: Operation(method, template, item[method])
                for method in METHODS
                if method in item
            }
            routes.append(PathItem(template, segments, operations))
        # Literal segments first, from the left: /v1/contacts/import before
        # /v1/contacts/{contact_id}. Grouped by segment count for the lookup.
        routes.sort(key=lambda route: tuple(part is None for part in route.segments))
        self._routes: dict[int, list[PathItem]] = {}
        for route in routes:
            self._routes.setdefault(len(route.segments), []).append(route)
        resource = DRAFT202012.create_resource(dict(document))
        self._registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource).crawl()
        self._validators: dict[tuple[str, str, str, str], Draft202012Validator] = {}
        schemas = document.get("components", {}).get("schemas", {})
        self._problem_pointer = "/components/schemas/Problem" if "Problem" in schemas else None

    # --- Finding the operation ------------------------------------------------------------

    def route_for(self, path: str) -> PathItem | None:
        """The document's path item for the concrete ``path`` (no query string), or
        ``None``: the first template matching it, literal segments preferred."""
        parts = path.split("/")
        for route in self._routes.get(len(parts), ()):
            if all(
                (part != "" if expected is None else part == expected)
                for expected, part in zip(route.segments, parts, strict=True)
            ):
                return route
        return None

    def operation_for(self, method: str, path: str) -> Operation | None:
        """The operation serving ``method path``, or ``None`` if the document has none."""
        route = self.route_for(path)
        return None if route is None else route.operations.get(method.lower())

    # --- Checking an answer ---------------------------------------------------------------

    def check(
        self, method: str, path: str, status: int, content_type: str | None, body: str
    ) -> None:
        """Raise :class:`NonConformance` unless the document describes this answer.

        ``content_type`` is the ``Content-Type`` header (``None`` or ``""`` if absent),
        ``body`` the decoded body text (``""`` if none).
        """
        reason = self.nonconformance(method, path, status, content_type, body)
        if reason is not None:
            raise NonConformance(reason)

    def nonconformance(
        self, method: str, path: str, status: int, content_type: str | None, body: str
    ) -> str | None:
        """What differs between this answer and the document, in one message naming the
        request, the status, the operation and a body excerpt; ``None`` if nothing."""
        difference = self.difference(method, path, status, content_type, body)
        if difference is None:
            return None
        where, what = difference
        excerpt = body if len(body) <= EXCERPT_LENGTH else body[:EXCERPT_LENGTH] + "..."
        return (
            f"{method.upper()} {path} -> {status} ({where}): {what}; "
            f"content-type {content_type or '(none)'!r}; body {excerpt!r}"
        )

    def difference(
        self, method: str, path: str, status: int, content_type: str | None, body: str
    ) -> tuple[str, str] | None:
        """``(where, what)``: the operation (``POST /v1/contacts``, or ``no operation in
        the document``) and what of the answer it does not describe; ``None`` if the
        answer conforms."""
        operation = self.operation_for(method, path)
        if operation is None:
            what = self._undocumented_request(method, path, status, content_type, body)
            where = "no operation in the document"
        else:
            what = self._against(operation, status, content_type, body)
            where = operation.label
        return None if what is None else (where, what)

    def _against(
        self, operation: Operation, status: int, content_type: str | None, body: str
    ) -> str | None:
        responses: Mapping[str, Any] = operation.spec.get("responses", {})
        key = next(
            (k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses),
            None,
        )
        if key is None:
            return f"status {status} is not documented (documented: {', '.join(responses)})"
        content: Mapping[str, Any] = responses[key].get("content") or {}
        media = _media_type(content_type)
        if not content:
            if body:
                return f"a body, where the {key} response documents none"
            return None
        if media not in content:
            return (
                f"content type {media or '(none)'!r} is not documented for {key} "
                f"(documented: {', '.join(content)})"
            )
        if "schema" not in content[media] or not _is_json(media):
            return None
        tokens = (operation.template, operation.method, "responses", key, "content", media)
        pointer = "/paths/" + "/".join(_escape(token) for token in tokens) + "/schema"
        return self._validate((operation.method, operation.template, key, media), pointer, body)

    def _undocumented_request(
        self, method: str, path: str, status: int, content_type: str | None, body: str
    ) -> str | None:
        """An answer to a request the document has no operation for: a problem, or it
        is an undocumented route."""
        route = self.route_for(path)
        if status < 400:
            methods = ", ".join(op.label for op in (route.operations if route else {}).values())
            return f"a {status} for an undocumented request (the path's operations: " + (
                f"{methods})" if methods else "none)"
            )
        media = _media_type(content_type)
        if media != PROBLEM_MEDIA_TYPE:
            return f"content type {media or '(none)'!r}, not {PROBLEM_MEDIA_TYPE!r}"
        if self._problem_pointer is None:
            return None
        return self._validate(("", "", "problem", media), self._problem_pointer, body)

    def _validate(self, key: tuple[str, str, str, str], pointer: str, body: str) -> str | None:
        try:
            instance = json.loads(body)
        except ValueError as error:
            return f"the body is not JSON ({error})"
        validator = self._validators.get(key)
        if validator is None:
            validator = Draft202012Validator(
                {"$ref": f"{DOCUMENT_URI}#{pointer}"},
                registry=self._registry,
                format_checker=_FORMAT_CHECKER,
            )
            self._validators[key] = validator
        if validator.is_valid(instance):
            return None
        first = best_match(validator.iter_errors(instance))
        return f"the body breaks the schema at {first.json_path}: {first.message[:500]}"


def _media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _escape(token: str) -> str:
    """A JSON Pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


@lru_cache(maxsize=1)
def deployed_conformance() -> Conformance:
    """A :class:`Conformance` of the deployed API's document, built once per process
    (about a second: building the document imports every domain's routes)."""
    from outreach.api.openapi import deployed_document  # built on first use

    return Conformance(deployed_document())
