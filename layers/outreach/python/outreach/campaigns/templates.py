"""The campaign template language: ``Hi {first_name|there}, ...``.

A placeholder is ``{FIELD}`` or ``{FIELD|fallback}`` where FIELD is one of
:data:`CONTACT_FIELDS` or ``attributes.KEY`` (KEY: 1 to 64 of ``A-Z a-z 0-9 _ -``).
The fallback is literal text up to the closing brace: it may be empty and may
hold spaces and punctuation, but not ``{``, ``}`` or ``|``. No whitespace is
allowed around FIELD. There is no escape for literal braces, because a rendered
message never contains a brace: any other brace is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from outreach.errors import ValidationFailed
from outreach.validation import clip

CONTACT_FIELDS: tuple[str, ...] = ("first_name", "last_name", "company", "email", "phone")
ATTRIBUTE_PREFIX = "attributes."
_ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
_NO_BRACES = str.maketrans("", "", "{}")


class TemplateError(ValueError):
    """A template body breaks the placeholder syntax.

    ``position`` is the 0-based offset into the body of the offending character
    (the ``{`` of a bad placeholder, a stray ``}``, a nested ``{``, a second ``|``).
    """

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One placeholder: ``body[start:end]`` is its text, braces included."""

    field: str
    """``first_name`` ... or ``attributes.KEY``."""
    fallback: str | None
    """Text used when the value is empty; ``None`` when written without ``|``."""
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed, valid template body. Build it with :func:`parse_template`."""

    body: str
    placeholders: tuple[Placeholder, ...]

    def render(self, values: Mapping[str, str | None], attributes: Mapping[str, str]) -> str:
        """Fill every placeholder from ``values`` (by field) and ``attributes`` (by KEY).

        Braces are removed from substituted values so that the message never
        holds one. A value that is missing, ``None``, or blank (after that
        removal) uses the fallback, and no fallback means an empty string.
        """
        parts: list[str] = []
        cursor = 0
        for placeholder in self.placeholders:
            parts.append(self.body[cursor : placeholder.start])
            if placeholder.field.startswith(ATTRIBUTE_PREFIX):
                raw = attributes.get(placeholder.field.removeprefix(ATTRIBUTE_PREFIX))
            else:
                raw = values.get(placeholder.field)
            value = "" if raw is None else str(raw).translate(_NO_BRACES)
            if not value.strip():
                value = placeholder.fallback or ""
            parts.append(value)
            cursor = placeholder.end
        parts.append(self.body[cursor:])
        return "".join(parts)


def parse_template(body: str) -> Template:
    """Parse ``body``; raise :class:`TemplateError` at the first syntax error."""
    placeholders: list[Placeholder] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "}":
            raise TemplateError(
                f"stray '}}' at position {index}: a brace is only allowed around a placeholder",
                index,
            )
        if char == "{":
            close = _closing_brace(body, index)
            placeholders.append(_parse_placeholder(body, index, close))
            index = close + 1
        else:
            index += 1
    return Template(body=body, placeholders=tuple(placeholders))


def check_placeholders(bodies: Sequence[tuple[str, str]]) -> None:
    """Check the placeholders of each ``(variant_name, body)``; raise ``ValidationFailed``
    listing every bad one at ``["body", "variants", <index>, "body"]``."""
    errors: list[dict[str, Any]] = []
    for index, (name, body) in enumerate(bodies):
        try:
            parse_template(body)
        except TemplateError as exc:
            errors.append(
                {"loc": ["body", "variants", index, "body"], "msg": f"variant '{name}': {exc}"}
            )
    if errors:
        raise ValidationFailed("; ".join(error["msg"] for error in errors), errors=errors)


def render_for_contact(template: Template, contact: Mapping[str, Any]) -> str:
    """Render for a contact dict (``first_name`` ... ``phone``, and ``attributes``)."""
    values = {field: contact.get(field) for field in CONTACT_FIELDS}
    attributes = contact.get("attributes") or {}
    return template.render(values, attributes)


def _closing_brace(body: str, start: int) -> int:
    for index in range(start + 1, len(body)):
        if body[index] == "}":
            return index
        if body[index] == "{":
            raise TemplateError(
                f"nested '{{' at position {index} inside the placeholder opened at position "
                f"{start}: placeholders cannot be nested",
                index,
            )
    raise TemplateError(
        f"unclosed '{{' at position {start}: a placeholder must end with '}}'", start
    )


def _parse_placeholder(body: str, start: int, close: int) -> Placeholder:
    # Quoted in messages at most 100 characters long: a body holds up to 1,600.
    text = clip(body[start : close + 1])
    field, pipe, fallback = body[start + 1 : close].partition("|")
    if not field:
        raise TemplateError(f"placeholder {text} at position {start} has no field name", start)
    if not _is_field(field):
        if _is_field(field.strip()):
            raise TemplateError(
                f"whitespace is not allowed inside a placeholder: {text} at position {start}; "
                f"write {clip('{' + field.strip() + pipe + fallback + '}')}",
                start,
            )
        reason = ""
        if field.startswith(ATTRIBUTE_PREFIX):
            reason = ": an attribute key is 1 to 64 letters, digits, '_' or '-'"
        raise TemplateError(f"unknown placeholder {text} at position {start}{reason}", start)
    if "|" in fallback:
        position = start + 1 + len(field) + 1 + fallback.index("|")
        raise TemplateError(
            f"second '|' at position {position} in placeholder {text}: "
            "a fallback cannot contain '|'",
            position,
        )
    return Placeholder(field=field, fallback=fallback if pipe else None, start=start, end=close + 1)


def _is_field(name: str) -> bool:
    if name.startswith(ATTRIBUTE_PREFIX):
        return _ATTRIBUTE_KEY.fullmatch(name.removeprefix(ATTRIBUTE_PREFIX)) is not None
    return name in CONTACT_FIELDS
