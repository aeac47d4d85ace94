"""The campaign template language: ``Hi {first_name|there}, ...``.

A placeholder is ``{FIELD}`` or ``{FIELD|fallback}`` where FIELD is one of
:data:`CONTACT_FIELDS` or ``attributes.KEY``. KEY is an attribute's name as a
spreadsheet header may write it: 1 to 64 letters (accented ones and other scripts
included), digits, spaces, ``_``, ``-`` and ``.``; it names the attribute stored under
its :func:`~outreach.contacts.domain.attribute_key`, so ``{attributes.Contact owner}``,
``{attributes.contact_owner}`` and ``{attributes.Contact-Owner}`` are one placeholder
(issue 17, point 4), and a KEY whose key is empty (``{attributes.---}``) is an error.
The fallback is literal text up to the closing brace: it may be empty and may
hold spaces and punctuation, but not ``{``, ``}`` or ``|``. No whitespace is
allowed around FIELD. There is no escape for literal braces, because a rendered
message never contains a brace: any other brace is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from outreach.contacts.domain import MAX_ATTRIBUTE_KEY_LENGTH, attribute_key
from outreach.errors import ValidationFailed
from outreach.validation import clip

CONTACT_FIELDS: tuple[str, ...] = ("first_name", "last_name", "company", "email", "phone")
ATTRIBUTE_PREFIX = "attributes."
# An attribute's name in a placeholder: word characters (letters of any script, digits,
# '_'), spaces, '-' and '.', no space at either end; never a brace or '|'.
_ATTRIBUTE_NAME = re.compile(rf"[\w.-]([\w .-]{{0,{MAX_ATTRIBUTE_KEY_LENGTH - 2}}}[\w.-])?")
_NO_BRACES = str.maketrans("", "", "{}")
ATTRIBUTE_NOT_IN_AUDIENCE = "attribute_not_in_audience"
"""The code of a :class:`TemplateWarning` for an ``{attributes.KEY}`` no contact of the
audience has a value for."""


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
    """``first_name`` ... or ``attributes.KEY``, KEY being the name's
    :func:`~outreach.contacts.domain.attribute_key` (``{attributes.Contact owner}`` has
    the field ``attributes.contact_owner``)."""
    fallback: str | None
    """Text used when the value is empty; ``None`` when written without ``|``."""
    start: int
    end: int

    @property
    def attribute(self) -> str | None:
        """The key of the attribute it names (``contact_owner``); ``None`` for a contact
        field."""
        if self.field.startswith(ATTRIBUTE_PREFIX):
            return self.field.removeprefix(ATTRIBUTE_PREFIX)
        return None


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed, valid template body. Build it with :func:`parse_template`."""

    body: str
    placeholders: tuple[Placeholder, ...]

    def render(self, values: Mapping[str, str | None], attributes: Mapping[str, str]) -> str:
        """Fill every placeholder from ``values`` (by field) and ``attributes`` (by
        :func:`~outreach.contacts.domain.attribute_key`, as contacts hold them).

        Braces are removed from substituted values so that the message never
        holds one. A value that is missing, ``None``, or blank (after that
        removal) uses the fallback, and no fallback means an empty string.
        """
        parts: list[str] = []
        cursor = 0
        for placeholder in self.placeholders:
            parts.append(self.body[cursor : placeholder.start])
            key = placeholder.attribute
            value = _filled(
                attributes.get(key) if key is not None else values.get(placeholder.field)
            )
            parts.append(value or placeholder.fallback or "")
            cursor = placeholder.end
        parts.append(self.body[cursor:])
        return "".join(parts)


def _filled(raw: object) -> str:
    """A value as a message holds it (braces removed); ``""`` when none or blank."""
    value = "" if raw is None else str(raw).translate(_NO_BRACES)
    return value if value.strip() else ""


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
            reason = (
                f": an attribute key is 1 to {MAX_ATTRIBUTE_KEY_LENGTH} letters, digits, "
                "spaces, '_', '-' or '.'"
            )
        raise TemplateError(f"unknown placeholder {text} at position {start}{reason}", start)
    if "|" in fallback:
        position = start + 1 + len(field) + 1 + fallback.index("|")
        raise TemplateError(
            f"second '|' at position {position} in placeholder {text}: "
            "a fallback cannot contain '|'",
            position,
        )
    if field.startswith(ATTRIBUTE_PREFIX):
        key = attribute_key(field.removeprefix(ATTRIBUTE_PREFIX))
        if not key:
            raise TemplateError(
                f"placeholder {text} at position {start} names no attribute: an attribute "
                "key needs a letter a-z (accents are dropped) or a digit",
                start,
            )
        field = ATTRIBUTE_PREFIX + key
    return Placeholder(field=field, fallback=fallback if pipe else None, start=start, end=close + 1)


def _is_field(name: str) -> bool:
    if name.startswith(ATTRIBUTE_PREFIX):
        return _ATTRIBUTE_NAME.fullmatch(name.removeprefix(ATTRIBUTE_PREFIX)) is not None
    return name in CONTACT_FIELDS


@dataclass(frozen=True, slots=True)
class TemplateWarning:
    """Something about a valid campaign its author should know before it sends: ``code``
    (:data:`ATTRIBUTE_NOT_IN_AUDIENCE`), the ``placeholder`` as written in ``variant``'s
    body (``{attributes.Contact owner|there}``), and a ``message`` saying what was found."""

    code: str
    placeholder: str
    variant: str
    message: str


class AttributeUse:
    """Which of the attributes a campaign's variants name some contact of its audience has
    a value for (a blank one renders the fallback, so does not count): contacts are
    :meth:`add`-ed as they are read, then :meth:`warnings` names each ``{attributes.KEY}``
    placeholder none of them has (issue 17, point 4)."""

    def __init__(self, variants: Iterable[tuple[str, str]]) -> None:
        """``variants``: each ``(name, body)``, a valid template."""
        # (variant, the placeholder as written, its key, its fallback), each once.
        uses: dict[tuple[str, str], tuple[str, str | None]] = {}
        for name, body in variants:
            for placeholder in parse_template(body).placeholders:
                if placeholder.attribute is not None:
                    text = body[placeholder.start : placeholder.end]
                    uses.setdefault((name, text), (placeholder.attribute, placeholder.fallback))
        self._uses = uses
        self._missing = {key for key, _ in uses.values()}
        self.contacts = 0
        """How many contacts were added."""

    @property
    def settled(self) -> bool:
        """Whether every attribute named has a value in some contact added (nothing more
        to read; true at once when no placeholder names an attribute)."""
        return not self._missing

    def add(self, attributes: Mapping[str, str]) -> None:
        """Count one contact of the audience, with its ``attributes`` (by key)."""
        self.contacts += 1
        if self._missing:
            self._missing = {key for key in self._missing if not _filled(attributes.get(key))}

    def warnings(self, *, checked_first: int | None = None) -> tuple[TemplateWarning, ...]:
        """An :data:`ATTRIBUTE_NOT_IN_AUDIENCE` warning per variant and placeholder whose
        attribute no contact added has a value for, in the variants' order.

        ``checked_first``: the contacts added were only the first ``checked_first`` of an
        audience that has more (the message says so); ``None``: they were all of it.
        """
        found: list[TemplateWarning] = []
        for (variant, text), (key, fallback) in self._uses.items():
            if key not in self._missing:
                continue
            gets = f"its fallback {fallback!r}" if fallback else "an empty text (no fallback)"
            if checked_first is None:
                message = (
                    f"No contact of the audience ({self.contacts} checked) has a value for "
                    f"{text} (attribute {key!r}): each recipient would get {gets}."
                )
            else:
                message = (
                    f"No contact among the first {checked_first} of the audience has a value "
                    f"for {text} (attribute {key!r}; the others were not checked): a "
                    f"recipient without it would get {gets}."
                )
            found.append(TemplateWarning(ATTRIBUTE_NOT_IN_AUDIENCE, text, variant, message))
        return tuple(found)
