"""The OpenAPI document states the constraints the server enforces (issue 18, point 2).

Formats and patterns (email, E.164 in answers, HH:MM, IANA zones), the rules across
fields JSON Schema can express (an audience's one selection, the variants or both
templates of a campaign), the error statuses each route answers, and an example for
every request body. Where a rule is in both, the document's schema (validated with
``jsonschema`` as a client or schemathesis would) and the server's model (pydantic)
are given the same bodies and must agree.
"""

from __future__ import annotations

import json
import math
import re
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, TypeAdapter, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from outreach.api.fields import (
    E164_PATTERN,
    HHMM_PATTERN,
    IANA_ZONE_PATTERN,
    StrictModel,
    TimeOfDay,
    TimeZone,
)
from outreach.api.openapi import deployed_document, operations
from outreach.api_keys import schemas as api_key_schemas
from outreach.campaigns import schemas as campaign_schemas
from outreach.contacts import schemas as contact_schemas
from outreach.contacts.csv_import import parse_csv
from outreach.conversations import schemas as conversation_schemas
from outreach.errors import ValidationFailed
from outreach.identity import schemas as identity_schemas
from outreach.imports import schemas as import_schemas
from outreach.timezones import parse_hhmm
from outreach.webhooks import schemas as webhook_schemas

DOCUMENT_URI = "urn:outreach:openapi"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return deployed_document()


@pytest.fixture(scope="module")
def registry(document: dict[str, Any]) -> Registry[Any]:
    resource: Resource[Any] = DRAFT202012.create_resource(document)
    registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
    return registry


def validator(registry: Registry[Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of ``schema`` (which may ``$ref`` the document, ``#/components/...``),
    formats asserted."""
    ref = schema.get("$ref")
    if ref is not None and ref.startswith("#"):
        schema = {**schema, "$ref": DOCUMENT_URI + ref}
    return Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def component_validator(registry: Registry[Any], name: str) -> Draft202012Validator:
    return validator(registry, {"$ref": f"#/components/schemas/{name}"})


def component(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The component ``name`` (a request model's is ``name-Input`` when its answer
    schema differs)."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    for candidate in (name, f"{name}-Input"):
        if candidate in schemas:
            found: dict[str, Any] = schemas[candidate]
            return found
    raise KeyError(name)


def field(document: dict[str, Any], model: str, name: str) -> dict[str, Any]:
    """The schema of ``model``'s field ``name``, without the ``null`` of an optional one."""
    schema: dict[str, Any] = component(document, model)["properties"][name]
    choices = [choice for choice in schema.get("anyOf", [schema]) if choice != {"type": "null"}]
    assert len(choices) == 1, schema
    return {**choices[0], **{k: v for k, v in schema.items() if k != "anyOf"}}


def request_models() -> dict[str, type[BaseModel]]:
    """Every request model of the API, by component name."""
    models: dict[str, type[BaseModel]] = {}
    for module in (
        identity_schemas,
        api_key_schemas,
        webhook_schemas,
        contact_schemas,
        import_schemas,
        campaign_schemas,
        conversation_schemas,
    ):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, StrictModel):
                models[value.__name__] = value
    return models


def request_bodies(
    document: dict[str, Any],
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """``(method, path, media type, media object)`` of every request body."""
    for method, path, operation in operations(document):
        body = operation.get("requestBody")
        if body:
            for media_type, media in body["content"].items():
                yield method, path, media_type, media


def examples_of(document: dict[str, Any], media: dict[str, Any]) -> list[Any]:
    """The examples a media object shows: its own, or its schema's component's."""
    if "example" in media:
        return [media["example"]]
    if "examples" in media:
        return [example["value"] for example in media["examples"].values()]
    ref = media["schema"].get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        listed: list[Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]].get(
            "examples", []
        )
        return listed
    return []


def model_accepts(model: type[BaseModel], body: Any) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


# --- Examples ------------------------------------------------------------------------------


def test_every_request_body_shows_an_example(document: dict[str, Any]) -> None:
    missing = [
        f"{method.upper()} {path} ({media_type})"
        for method, path, media_type, media in request_bodies(document)
        if not examples_of(document, media)
    ]
    assert not missing, missing
    # The CSV import declares both ways to send its file.
    imported = document["paths"]["/v1/contacts/import"]["post"]["requestBody"]
    assert imported["required"] is True
    assert set(imported["content"]) == {"text/csv", "multipart/form-data"}


def test_every_json_example_is_accepted_by_the_server_and_the_document(
    document: dict[str, Any], registry: Registry[Any]
) -> None:
    models = request_models()
    checked = 0
    for method, path, media_type, media in request_bodies(document):
        if media_type != "application/json":
            continue
        name = media["schema"]["$ref"].rsplit("/", 1)[1]
        model = models[name.removesuffix("-Input")]
        for example in examples_of(document, media):
            errors = [e.message for e in validator(registry, media["schema"]).iter_errors(example)]
            assert not errors, (method, path, example, errors)
            model.model_validate(example)  # the server reads it
            checked += 1
    assert checked >= 12
    # The nested request models' own examples too (variants, audience, window, hours).
    for name in ("VariantCreate", "AudienceCreate", "SendWindowCreate", "QuietHoursWindow"):
        examples = component(document, name)["examples"]
        assert examples, name
        for example in examples:
            models[name].model_validate(example)
            schema_name = name if name in document["components"]["schemas"] else f"{name}-Input"
            assert component_validator(registry, schema_name).is_valid(example), (name, example)


def test_the_import_examples_are_a_csv_the_server_imports_whole(
    document: dict[str, Any], registry: Registry[Any]
) -> None:
    content = document["paths"]["/v1/contacts/import"]["post"]["requestBody"]["content"]
    csv_text = content["text/csv"]["example"]
    parsed = parse_csv(csv_text.encode())
    assert len(parsed.rows) == 2
    assert parsed.errors == []
    form = content["multipart/form-data"]
    assert form["example"]["file"] == csv_text
    assert validator(registry, form["schema"]).is_valid(form["example"])
    assert not validator(registry, form["schema"]).is_valid({"tags": "x"})  # file required
    file_schema = form["schema"]["properties"]["file"]
    assert file_schema["format"] == "binary"
    assert file_schema["contentMediaType"] == "text/csv"


# --- Formats and patterns --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("RegisterBody", "email"),
        ("UserCreate", "email"),
        ("ContactCreate", "email"),
        ("ContactUpdate", "email"),
        ("UserPublic", "email"),
        ("ContactPublic", "email"),
    ],
)
def test_emails_have_the_email_format(document: dict[str, Any], model: str, name: str) -> None:
    schema = field(document, model, name)
    assert schema["format"] == "email"
    if not model.endswith("Public"):  # a request's is bounded too
        assert schema["maxLength"] <= 254


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("ContactPublic", "phone"),
        ("OptOutPublic", "phone"),
        ("SendPublic", "phone"),
        ("OrganizationPublic", "sender_number"),
    ],
)
def test_phones_in_answers_are_e164(document: dict[str, Any], model: str, name: str) -> None:
    pattern = field(document, model, name)["pattern"]
    assert pattern == E164_PATTERN
    assert re.search(pattern, "+16175550100")
    assert re.search(pattern, "+442071838750")
    for bad in ("(617) 555-0100", "16175550100", "+0123", "+1617555010012345", "+1617\n"):
        assert not re.search(pattern, bad), bad


def test_phones_in_requests_take_every_common_format(
    document: dict[str, Any], registry: Registry[Any]
) -> None:
    """The README sends ``(617) 555-0100``: the document describes the formats and puts
    no pattern in the way of any of them."""
    for model in ("ContactCreate", "OptOutCreate"):
        schema = field(document, model, "phone")
        assert "pattern" not in schema
        assert "E.164" in schema["description"]
        for phone in ("(617) 555-0100", "617.555.0100", "+1 617 555 0100", "+16175550100"):
            assert component_validator(registry, model).is_valid({"phone": phone}), phone
            assert model_accepts(request_models()[model], {"phone": phone}), phone


HHMM_SAMPLES = [
    *(f"{h:02d}:{m:02d}" for h in range(30) for m in (0, 5, 59, 60, 99)),
    *("8:00", "08:0", "8:5", "0800", "08-00", "08:00:00", "", ":", "24:00", "23:60"),
    *(" 08:00", "08:00 ", "08:00\n", "\n08:00", "08:00\n\n", "08:00\r"),
    *("0\u0663:00", "\uff10\uff18:00", "08:\u0665\u0660", "ab:cd", "\uff112:00"),
]


def test_times_of_day_have_the_pattern_the_server_applies(
    document: dict[str, Any], registry: Registry[Any]
) -> None:
    for model, name in (
        ("QuietHoursWindow", "start"),
        ("QuietHoursWindow", "end"),
        ("SendWindowCreate", "start"),
        ("SendWindowCreate", "end"),
        ("SendWindowPublic", "start"),
        ("DayHoursPublic", "end"),
    ):
        assert field(document, model, name)["pattern"] == HHMM_PATTERN, (model, name)
    pattern = validator(registry, {"type": "string", "pattern": HHMM_PATTERN})
    server = TypeAdapter(TimeOfDay)
    for sample in HHMM_SAMPLES:
        try:
            server.validate_python(sample)
            accepted = True
        except ValidationError:
            accepted = False
        assert pattern.is_valid(sample) == accepted, repr(sample)
        # parse_hhmm agrees on every ASCII time without a final newline (it also reads
        # those and other scripts' digits, which the field refuses: a stored time is
        # ASCII HH:MM).
        if sample.isascii() and not sample.endswith("\n"):
            try:
                parse_hhmm(sample)
                parsed = True
            except ValueError:
                parsed = False
            assert parsed == accepted, repr(sample)
    # Python's `$` matches before a final newline: the pattern's `(?!\n)` refuses it.
    assert not pattern.is_valid("08:00\n")


def test_every_time_zone_matches_the_zone_pattern(
    document: dict[str, Any], registry: Registry[Any]
) -> None:
    for model, name in (
        ("ContactCreate", "timezone"),
        ("OrganizationUpdate", "timezone"),
        ("CampaignCreate", "timezone"),
        ("ContactPublic", "timezone"),
        ("CampaignPublic", "timezone"),
        ("OrganizationPublic", "timezone"),
    ):
        schema = field(document, model, name)
        assert schema["pattern"] == IANA_ZONE_PATTERN, (model, name)
        assert "enum" not in schema
    pattern = validator(registry, {"type": "string", "pattern": IANA_ZONE_PATTERN})
    server = TypeAdapter(TimeZone)
    zones = zoneinfo.available_timezones()
    assert len(zones) > 300
    for zone in sorted(zones):
        assert pattern.is_valid(zone), zone
        server.validate_python(zone)  # the server takes it, and so does the document
    for bad in ("America/New York", "/UTC", "UTC/", "+05:00", "", "America//Boise", "UTC\n"):
        assert not pattern.is_valid(bad), bad


# --- Rules across fields ---------------------------------------------------------------------

AUDIENCES: list[dict[str, Any]] = [
    {"all": True},
    {"tags": ["leads"]},
    {"contact_ids": ["01JDQ8Z5C9W4K2M7N3P6R8T0V1"]},
    {"all": True, "tags": None, "contact_ids": None},
    {"all": None, "tags": ["leads"]},
    {"tags": None, "contact_ids": ["01JDQ8Z5C9W4K2M7N3P6R8T0V1"]},
    {},
    {"all": None},
    {"all": False},
    {"tags": None, "contact_ids": None},
    {"all": True, "tags": ["leads"]},
    {"all": True, "contact_ids": ["01JDQ8Z5C9W4K2M7N3P6R8T0V1"]},
    {"tags": ["leads"], "contact_ids": ["01JDQ8Z5C9W4K2M7N3P6R8T0V1"]},
    {"all": True, "tags": ["leads"], "contact_ids": ["01JDQ8Z5C9W4K2M7N3P6R8T0V1"]},
]


def test_an_audience_is_exactly_one_selection_in_the_document_too(
    registry: Registry[Any],
) -> None:
    schema = component_validator(registry, "AudienceCreate")
    verdicts = {}
    for audience in AUDIENCES:
        server = model_accepts(campaign_schemas.AudienceCreate, audience)
        assert schema.is_valid(audience) == server, audience
        verdicts[repr(audience)] = server
    assert verdicts[repr({"tags": ["leads"]})] is True
    assert verdicts[repr({"all": True, "tags": ["leads"]})] is False
    assert verdicts[repr({})] is False


VARIANTS = [{"name": "A", "body": "Hi"}]
CAMPAIGNS: list[dict[str, Any]] = [
    {"template_a": "Hi", "template_b": "Hello"},
    {"variants": VARIANTS},
    {"variants": VARIANTS, "template_a": None, "template_b": None},
    {"template_a": "Hi", "template_b": "Hello", "variants": None},
    {"template_a": "Hi"},
    {"template_b": "Hello"},
    {"template_a": "Hi", "template_b": None},
    {},
    {"variants": None},
    {"variants": VARIANTS, "template_a": "Hi"},
    {"variants": VARIANTS, "template_b": "Hello"},
    {"variants": VARIANTS, "template_a": "Hi", "template_b": "Hello"},
]


def test_a_campaign_s_variants_or_templates_in_the_document_too(registry: Registry[Any]) -> None:
    schema = component_validator(registry, "CampaignCreate")
    for sources in CAMPAIGNS:
        body = {"name": "Spring", "audience": {"all": True}, **sources}
        server = model_accepts(campaign_schemas.CampaignCreate, body)
        assert schema.is_valid(body) == server, sources
    lone = {"name": "Spring", "audience": {"all": True}, "template_a": "Hi"}
    assert not schema.is_valid(lone)


EDITS: list[dict[str, Any]] = [
    {},
    {"name": "Spring"},
    {"template_a": "Hi", "template_b": "Hello"},
    {"variants": VARIANTS},
    {"start_at": None, "end_at": None},
    {"template_a": "Hi"},
    {"template_b": "Hello"},
    {"variants": VARIANTS, "template_a": "Hi", "template_b": "Hello"},
    {"variants": VARIANTS, "template_b": "Hello"},
    {"name": None},
    {"template_a": None},
    {"audience": None},
    {"send_window": None},
]


def test_an_edit_s_templates_go_together_in_the_document_too(registry: Registry[Any]) -> None:
    schema = component_validator(registry, "CampaignUpdate")
    for edit in EDITS:
        server = model_accepts(campaign_schemas.CampaignUpdate, edit)
        assert schema.is_valid(edit) == server, edit
    assert component(deployed_document(), "CampaignUpdate")["dependentRequired"] == {
        "template_a": ["template_b"],
        "template_b": ["template_a"],
    }


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (contact_schemas.ContactUpdate, {"phone": None}),
        (contact_schemas.ContactUpdate, {"tags": None}),
        (contact_schemas.ContactUpdate, {"state": None, "email": None}),
        (identity_schemas.OrganizationUpdate, {"name": None}),
        (identity_schemas.OrganizationUpdate, {"sender_number": None}),
        (identity_schemas.OrganizationUpdate, {"help_texts": {"es": None}}),
        (identity_schemas.OrganizationUpdate, {"fallback_time_zones": None}),
    ],
)
def test_a_null_is_refused_by_the_document_where_the_server_refuses_it(
    registry: Registry[Any], model: type[BaseModel], body: dict[str, Any]
) -> None:
    schema = component_validator(registry, model.__name__)
    assert schema.is_valid(body) == model_accepts(model, body), body


PHONE = "+16175550100"
REGISTER = {"email": "dana@example.com", "password": "correct horse battery"}


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (contact_schemas.ContactCreate, {"phone": PHONE, "tags": ["  " + "a" * 50 + " "]}),
        (contact_schemas.ContactCreate, {"phone": PHONE, "tags": ["a" * 51]}),
        (contact_schemas.ContactCreate, {"phone": PHONE, "tags": ["   ", "vip"]}),
        (contact_schemas.ContactCreate, {"phone": PHONE, "attributes": {"k" * 64: "v"}}),
        (contact_schemas.ContactCreate, {"phone": PHONE, "attributes": {"k" * 65: "v"}}),
        (contact_schemas.ContactCreate, {"phone": PHONE, "attributes": {"  ": "v"}}),
        (contact_schemas.ContactCreate, {"phone": PHONE, "attributes": {"k": "v" * 501}}),
        (identity_schemas.RegisterBody, {**REGISTER, "full_name": " ", "organization_name": "A"}),
        (identity_schemas.RegisterBody, {**REGISTER, "full_name": "D", "organization_name": "A"}),
        (identity_schemas.OrganizationUpdate, {"support_contact": " \t "}),
        (identity_schemas.OrganizationUpdate, {"help_texts": {"en": "  "}}),
        (campaign_schemas.AudienceCreate, {"tags": ["  "]}),
        (campaign_schemas.AudienceCreate, {"tags": [" Leads "]}),
        # Python's `$` matches before a final newline; the server's patterns do not.
        (campaign_schemas.AudienceCreate, {"contact_ids": ["01JDQ8Z5C9W4K2M7N3P6R8T0V1\n"]}),
        (campaign_schemas.VariantCreate, {"name": "A\n", "body": "Hi"}),
        (campaign_schemas.SendWindowCreate, {"start": "09:00\n"}),
        (contact_schemas.ContactCreate, {"phone": PHONE, "timezone": "UTC\n"}),
    ],
)
def test_blank_overlong_or_newline_ended_text_gets_the_same_verdict_from_the_document(
    registry: Registry[Any], model: type[BaseModel], body: dict[str, Any]
) -> None:
    schema = component_validator(registry, model.__name__)
    assert schema.is_valid(body) == model_accepts(model, body), body


# --- Error answers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/v1/auth/register", {409}),
        ("post", "/v1/auth/login", {401, 429}),
        ("post", "/v1/auth/refresh", {401}),
        ("patch", "/v1/organization", {403, 409}),
        ("post", "/v1/users", {403, 409}),
        ("patch", "/v1/users/{user_id}", {403, 409}),
        ("delete", "/v1/users/{user_id}", {403, 409}),
        ("post", "/v1/contacts", {409}),
        ("patch", "/v1/contacts/{contact_id}", {409}),
        ("delete", "/v1/contacts/{contact_id}", {409}),
        ("post", "/v1/contacts/import", {400, 409, 413, 415, 422}),
        ("patch", "/v1/campaigns/{campaign_id}", {409}),
        ("delete", "/v1/campaigns/{campaign_id}", {409}),
        ("post", "/v1/campaigns/{campaign_id}/preview", {422}),
        ("post", "/v1/campaigns/{campaign_id}/start", {409}),
        ("post", "/v1/campaigns/{campaign_id}/pause", {409}),
        ("post", "/v1/campaigns/{campaign_id}/resume", {409}),
        ("post", "/v1/campaigns/{campaign_id}/cancel", {409}),
    ],
)
def test_each_route_declares_the_errors_its_service_raises(
    document: dict[str, Any], method: str, path: str, statuses: set[int]
) -> None:
    responses = document["paths"][path][method]["responses"]
    assert statuses <= {int(code) for code in responses}, sorted(responses)
    for status in statuses:
        schema = responses[str(status)]["content"]["application/problem+json"]["schema"]
        expected = "ValidationProblem" if status == 422 else "Problem"
        assert schema == {"$ref": f"#/components/schemas/{expected}"}


def test_a_service_s_validation_failure_counts_its_errors(registry: Registry[Any]) -> None:
    errors = [{"loc": ["body", "end_at"], "msg": "must be after start_at"}]
    failure = ValidationFailed("start_at must be before end_at.", errors)
    problem = {
        "type": "urn:outreach:problem:" + failure.slug,
        "title": failure.title,
        "status": failure.status,
        "detail": failure.detail,
        **failure.extra,
    }
    assert failure.extra["error_count"] == 1
    assert component_validator(registry, "ValidationProblem").is_valid(problem)


# --- Whole numbers, country codes, import tags (schemathesis' findings) ---------------------

WHOLE_NUMBERS: list[Any] = [5, 5.0, 1e2, 5.5, True, False, "5", None, 0, 126, float("nan")]


def test_an_integer_is_what_json_schema_calls_one(registry: Registry[Any]) -> None:
    # JSON Schema's integer includes 105.0: a client may write it so, and the server
    # refused it (strict ints). A fraction, a boolean or text stays a 422 on both sides.
    schema = component_validator(registry, "CampaignCreate")
    base = {"name": "x", "audience": {"all": True}, "template_a": "a", "template_b": "b"}
    for number in WHOLE_NUMBERS:
        if isinstance(number, float) and math.isnan(number):  # not JSON: the server alone
            assert not model_accepts(
                campaign_schemas.CampaignCreate, {**base, "daily_limit": number}
            )
            continue
        body = {**base, "daily_limit": number}
        server = model_accepts(campaign_schemas.CampaignCreate, body)
        assert schema.is_valid(body) == server, number
    assert model_accepts(campaign_schemas.CampaignCreate, {**base, "daily_limit": 105.0})
    assert not model_accepts(campaign_schemas.CampaignCreate, {**base, "daily_limit": True})


def test_bounds_are_minimum_and_maximum_in_the_document(document: dict[str, Any]) -> None:
    weight = component(document, "VariantCreate")["properties"]["weight"]
    assert (weight["minimum"], weight["maximum"]) == (1, 10_000)
    # A bound pydantic could not place in the schema stays under its own name (`ge`).
    misplaced = re.findall(r'"(?:ge|le|gt|lt)": ', json.dumps(document))
    assert not misplaced


@pytest.mark.parametrize(("code", "server"), [("US", True), ("ca", True), ("ZZ", False)])
def test_a_country_code_has_the_shape_the_document_gives(
    registry: Registry[Any], code: str, server: bool
) -> None:
    schema = component_validator(registry, "OrganizationUpdate")
    body = {"allowed_countries": [code]}
    assert model_accepts(identity_schemas.OrganizationUpdate, body) is server
    assert schema.is_valid(body)  # the shape: which regions exist is libphonenumber's
    for bad in ("00", "USA", "U", "u1", "US\n"):
        assert not schema.is_valid({"allowed_countries": [bad]}), bad
        assert not model_accepts(identity_schemas.OrganizationUpdate, {"allowed_countries": [bad]})


@pytest.mark.parametrize(
    ("tags", "valid"),
    [
        ("leads", True),
        ("leads, spring ,", True),
        (" " + "a" * 50 + " ", True),
        ("a" * 51, False),
        ("leads," + "b" * 51, False),
        ("", True),
    ],
)
def test_import_tags_follow_the_documented_pattern(
    document: dict[str, Any], tags: str, valid: bool
) -> None:
    (parameter,) = [
        p
        for p in document["paths"]["/v1/contacts/import"]["post"]["parameters"]
        if p["name"] == "tags"
    ]
    assert bool(re.search(parameter["schema"]["pattern"], tags)) is valid
    try:
        contact_schemas.import_tags(tags)
    except ValidationFailed as error:
        assert not valid
        assert error.errors == [{"loc": ["query", "tags"], "msg": "a tag is at most 50 characters"}]
    else:
        assert valid
