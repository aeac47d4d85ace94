"""Campaigns API schemas (`api-contract.md`, "Campaigns").

Requests are ``*Create``/``*Update`` (strict: an unknown field is a 422) and map to the
domain with ``to_domain()``; answers are ``*Public`` and map from it with ``of``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Literal, Self, cast

from pydantic import (
    AfterValidator,
    AliasChoices,
    AliasPath,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from outreach.api.fields import (
    NOT_BLANK_PATTERN,
    WHOLE_NUMBER,
    E164Number,
    IdText,
    PublicModel,
    RequestInstant,
    StrictModel,
    TimeOfDay,
    TimeText,
    TimeZone,
    UtcInstant,
    ZoneName,
    model_schema,
)
from outreach.api.pagination import PagePublic
from outreach.campaigns.domain import (
    DAYS,
    DEFAULT_WINDOW_DAYS,
    DEFAULT_WINDOW_END,
    DEFAULT_WINDOW_START,
    MAX_AUDIENCE_IDS,
    MAX_BODY_LENGTH,
    MAX_VARIANTS,
    MAX_WEIGHT,
    Audience,
    CampaignDraft,
    CampaignStats,
    Day,
    Variant,
    VariantStats,
    Window,
    ab_variants,
)
from outreach.campaigns.preview import LeftOutReason
from outreach.contacts.domain import normalize_tag
from outreach.sending.daily_cap import DEFAULT_DAILY_LIMIT, MAX_DAILY_LIMIT
from outreach.sending.domain import WaitingReason
from outreach.timezones import parse_hhmm

if TYPE_CHECKING:
    from outreach.campaigns.service import CreatedCampaign


def _audience_tag(value: str) -> str:
    tag = normalize_tag(value)
    if not tag:
        raise ValueError("a tag cannot be blank")
    return tag


def _invalid(model: BaseModel, field: str, message: str) -> ValidationError:
    """A rule across fields, reported at the field to fix (a model validator's own error
    would only say ``body``)."""
    return ValidationError.from_exception_data(
        type(model).__name__,
        [
            InitErrorDetails(
                type=PydanticCustomError("value_error", message),
                loc=(field,),
                input=getattr(model, field),
            )
        ],
    )


Name = Annotated[str, Field(min_length=1, max_length=200)]
# An instant in a request: with a zone (a naive one is a 422), years 2000..2099 once in
# UTC (one an offset would push out of datetime's range is a 422, not a 500), stored in UTC.
Instant = RequestInstant
Body = Annotated[str, Field(min_length=1, max_length=MAX_BODY_LENGTH)]


class VariantCreate(StrictModel):
    """One variant of a create or an edit: ``body`` is a template, ``weight`` 1..10000.
    Its placeholders must be known ones (a 422 names the variant and position), and its
    name unique among the campaign's variants."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[{"name": "A", "body": "Hi {first_name|there}, spring check-up?", "weight": 1}]
        )
    )

    name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=40,
            pattern=r"^[^\s].*$",
            json_schema_extra={"pattern": r"^[^\s].*$(?!\n)"},  # see outreach.api.fields
        ),
    ]
    body: Body
    weight: Annotated[int, Field(ge=1, le=MAX_WEIGHT), WHOLE_NUMBER] = 1

    def to_domain(self) -> Variant:
        return Variant(self.name, self.body, self.weight)


def _given(*names: str, absent: tuple[str, ...] = ()) -> dict[str, object]:
    """JSON Schema: an object where each of ``names`` is present and not ``null``, and
    each of ``absent`` is absent or ``null``."""
    return {
        "required": list(names),
        "properties": {
            **{name: {"not": {"type": "null"}} for name in names},
            **_not_given(*absent)["properties"],
        },
    }


def _not_given(*names: str) -> dict[str, dict[str, object]]:
    """JSON Schema: an object where each of ``names`` is absent or ``null`` (as the server
    reads an optional field: ``null`` is not giving it)."""
    return {"properties": {name: {"type": "null"} for name in names}}


def _none_of(*cases: Mapping[str, object]) -> dict[str, object]:
    """JSON Schema keywords refusing an object that matches any of ``cases``.

    A rule across fields is one ``not`` of an ``anyOf`` rather than a ``oneOf`` of
    partial objects: generated clients (openapi-python-client) read a model's ``oneOf``
    as a union of models and give up on such partial ones, and ignore ``not``."""
    return {"not": {"anyOf": list(cases)}}


_SELECTIONS = ("all", "tags", "contact_ids")


class AudienceCreate(StrictModel):
    """Exactly one of ``all: true``, ``tags`` (any of) or ``contact_ids`` (a selection
    given as ``null`` counts as not given)."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[{"tags": ["leads"]}, {"all": True}],
            # exactly one selection: not none of them, nor any two
            rules=_none_of(
                _not_given(*_SELECTIONS),
                _given("all", "tags"),
                _given("all", "contact_ids"),
                _given("tags", "contact_ids"),
            ),
        )
    )

    all: Literal[True] | None = None
    tags: (
        Annotated[
            list[
                Annotated[
                    str,
                    Field(
                        min_length=1,
                        max_length=50,
                        json_schema_extra={"pattern": NOT_BLANK_PATTERN},
                    ),
                    AfterValidator(_audience_tag),
                ]
            ],
            Field(min_length=1, max_length=20),
        ]
        | None
    ) = None
    contact_ids: (
        Annotated[
            list[IdText],
            Field(min_length=1, max_length=MAX_AUDIENCE_IDS),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AudienceCreate:
        given = [name for name in _SELECTIONS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of all, tags or contact_ids")
        return self

    def to_domain(self) -> Audience:
        """The selection, each tag or id once (in the order first given)."""
        if self.all:
            return Audience(all=True)
        if self.tags:
            return Audience(tags=tuple(dict.fromkeys(self.tags)))
        return Audience(contact_ids=tuple(dict.fromkeys(self.contact_ids or ())))


class SendWindowCreate(StrictModel):
    """When texts may leave, in the campaign's zone: ``HH:MM`` start before end, and days."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[{"start": "10:00", "end": "18:00", "days": ["mon", "tue", "wed"]}]
        )
    )

    start: TimeOfDay = DEFAULT_WINDOW_START
    end: TimeOfDay = DEFAULT_WINDOW_END
    days: Annotated[
        list[Day],
        Field(min_length=1, max_length=7),
    ] = Field(default_factory=lambda: cast(list[Day], list(DEFAULT_WINDOW_DAYS)))

    @model_validator(mode="after")
    def _start_before_end(self) -> SendWindowCreate:
        if parse_hhmm(self.start) >= parse_hhmm(self.end):
            raise _invalid(self, "end", "send_window.end must be after send_window.start")
        return self

    def to_domain(self) -> Window:
        """The window with each day once, Monday first."""
        days = sorted(set(self.days), key=DAYS.index)
        return Window(start=self.start, end=self.end, days=tuple(days))


def _unique_names(variants: list[VariantCreate]) -> list[VariantCreate]:
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ValueError("variant names must be unique")
    return variants


def _check_variant_source(body: CampaignCreate | CampaignUpdate, *, required: bool) -> None:
    """``variants``, or both ``template_a`` and ``template_b``; never both kinds."""
    templates = [name for name in ("template_a", "template_b") if getattr(body, name) is not None]
    if templates and body.variants is not None:
        raise _invalid(body, templates[0], "give variants or template_a/template_b, not both")
    if len(templates) == 1:
        missing = "template_b" if templates == ["template_a"] else "template_a"
        raise _invalid(body, missing, "give both template_a and template_b")
    if required and not templates and body.variants is None:
        raise _invalid(body, "variants", "give variants, or both template_a and template_b")


def _variants_of(body: CampaignCreate | CampaignUpdate) -> tuple[Variant, ...] | None:
    """The variants a body gives (listed, or the A/B shorthand), or ``None``."""
    if body.variants is not None:
        return tuple(v.to_domain() for v in body.variants)
    if body.template_a is not None and body.template_b is not None:
        return ab_variants(body.template_a, body.template_b)
    return None


Variants = Annotated[
    list[VariantCreate],
    Field(min_length=1, max_length=MAX_VARIANTS),
    AfterValidator(_unique_names),
]
DailyLimit = Annotated[int, Field(ge=1, le=MAX_DAILY_LIMIT), WHOLE_NUMBER]


class CampaignCreate(StrictModel):
    """``variants`` (1 to 5, weighted), or ``template_a`` and ``template_b`` (A and B, 50/50).

    Placeholders, and ``start_at`` before ``end_at``, are checked by the service (a
    PATCH checks them against the stored campaign). Variant names are unique.
    """

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[
                {
                    "name": "Spring check-up",
                    "template_a": "Hi {first_name|there}, time for a roof check?",
                    "template_b": "{first_name|Hello}, spring storms are coming: book a check?",
                    "audience": {"tags": ["leads"]},
                },
                {
                    "name": "Spring check-up (weighted)",
                    "variants": [
                        {"name": "short", "body": "Roof check? Reply YES", "weight": 3},
                        {"name": "long", "body": "Hi {first_name|there}, book a check?"},
                    ],
                    "audience": {"all": True},
                    "daily_limit": 100,
                    "timezone": "America/New_York",
                    "send_window": {"start": "10:00", "end": "18:00", "days": ["mon", "tue"]},
                    "start_at": "2026-12-01T14:00:00Z",
                    "end_at": "2026-12-15T22:00:00Z",
                },
            ],
            # variants, or both templates: never both kinds, never neither
            rules=_none_of(
                _not_given("variants", "template_a", "template_b"),
                _given("variants", "template_a"),
                _given("variants", "template_b"),
                _given("template_a", absent=("template_b",)),
                _given("template_b", absent=("template_a",)),
            ),
        )
    )

    name: Name
    variants: Variants | None = None
    template_a: Body | None = None
    template_b: Body | None = None
    audience: AudienceCreate
    daily_limit: DailyLimit = DEFAULT_DAILY_LIMIT
    timezone: TimeZone | None = None
    send_window: SendWindowCreate = Field(default_factory=SendWindowCreate)
    start_at: Instant | None = None
    end_at: Instant | None = None

    @model_validator(mode="after")
    def _variants_or_templates(self) -> CampaignCreate:
        _check_variant_source(self, required=True)
        return self

    def to_domain(self) -> CampaignDraft:
        return CampaignDraft(
            name=self.name,
            variants=_variants_of(self),
            audience=self.audience.to_domain(),
            daily_limit=self.daily_limit,
            timezone=self.timezone,
            window=self.send_window.to_domain(),
            start_at=self.start_at,
            end_at=self.end_at,
        )


_NOT_NULL_EDITS = (
    "name",
    "variants",
    "template_a",
    "template_b",
    "audience",
    "daily_limit",
    "timezone",
    "send_window",
)
"""The fields of a PATCH an explicit ``null`` is refused for (a 422): all but the dates."""


class CampaignUpdate(StrictModel):
    """Any create field; ``start_at``/``end_at`` null clears them (no other field may be
    null). ``template_a`` and ``template_b`` go together, and never with ``variants``."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[
                {"name": "Spring check-up, take 2", "end_at": None},
                {"template_a": "Roof check?", "template_b": "Storm season: roof check?"},
            ],
            not_null=_NOT_NULL_EDITS,
            rules={
                "dependentRequired": {"template_a": ["template_b"], "template_b": ["template_a"]},
                "not": {"required": ["variants", "template_a"]},
            },
        )
    )

    name: Name | None = None
    variants: Variants | None = None
    template_a: Body | None = None
    template_b: Body | None = None
    audience: AudienceCreate | None = None
    daily_limit: DailyLimit | None = None
    timezone: TimeZone | None = None
    send_window: SendWindowCreate | None = None
    start_at: Instant | None = None
    end_at: Instant | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CampaignUpdate:
        _check_variant_source(self, required=False)
        for name in sorted(self.model_fields_set & set(_NOT_NULL_EDITS)):
            if getattr(self, name) is None:
                raise _invalid(self, name, f"{name} cannot be null")
        return self

    def to_domain(self) -> CampaignDraft:
        return CampaignDraft(
            name=self.name,
            variants=_variants_of(self),
            audience=self.audience.to_domain() if self.audience else None,
            daily_limit=self.daily_limit,
            timezone=self.timezone,
            window=self.send_window.to_domain() if self.send_window else None,
            start_at=self.start_at,
            end_at=self.end_at,
            cleared=frozenset(
                n
                for n in ("start_at", "end_at")
                if n in self.model_fields_set and getattr(self, n) is None
            ),
        )


class VariantPublic(PublicModel):
    name: str
    body: str
    weight: int


class SendWindowPublic(PublicModel):
    start: TimeText
    end: TimeText
    days: list[str]


class LeftOutPublic(PublicModel):
    """The audience members a start did not make recipients, each under its first reason
    (``api-contract.md``, Addendum 1): on the opt-out list, a number the organization may
    not text (a country it has not allowed, a premium-rate or other special line), or one
    the campaign's send window never reaches within the organization's quiet hours in the
    recipient's zones."""

    opted_out: int
    not_textable: int
    never_in_window: int


def _audience_dict(value: object) -> object:
    """An :class:`Audience` as the API shows it (``as_dict``); anything else as it is."""
    return value.as_dict() if isinstance(value, Audience) else value


class CampaignPublic(PublicModel):
    """A campaign; instants are UTC with milliseconds (``2026-12-01T14:00:00.000Z``)."""

    id: str
    name: str
    status: str
    variants: list[VariantPublic]
    audience: Annotated[dict[str, object], BeforeValidator(_audience_dict)]
    daily_limit: int
    timezone: ZoneName
    send_window: SendWindowPublic = Field(validation_alias=AliasChoices("send_window", "window"))
    start_at: UtcInstant | None
    end_at: UtcInstant | None
    recipients: int
    created_at: UtcInstant
    updated_at: UtcInstant
    started_at: UtcInstant | None
    completed_at: UtcInstant | None
    left_out: LeftOutPublic | None = Field(
        default=None,
        description="What the start left out of the audience, by reason; null before it.",
    )
    paused_reason: str | None = Field(
        default=None,
        description="Why the sending engine paused the campaign by itself (an account-level "
        "provider error such as the monthly spend limit): fix it, then resume. Null otherwise.",
    )


class TemplateWarningPublic(PublicModel):
    """Something to know about a valid campaign before it sends (issue 17, point 4).
    ``attribute_not_in_audience``: no contact of the audience has a value for the
    ``{attributes.KEY}`` ``placeholder`` (as written in ``variant``'s body), so each
    recipient would get its fallback; ``message`` says which contacts were looked at."""

    code: Literal["attribute_not_in_audience"]
    placeholder: str
    variant: str
    message: str


class CampaignCreatedPublic(CampaignPublic):
    """A new draft, with ``warnings`` about it (``[]`` when there is none)."""

    warnings: list[TemplateWarningPublic] = Field(
        description="The `{attributes.KEY}` placeholders no contact of the audience has a "
        "value for (`attribute_not_in_audience`). Only the audience's first 500 members "
        'are looked at: for a larger one the message says "no contact among the first '
        '500". A warning never stops the create; a preview checks the whole audience '
        "its start would take."
    )

    @classmethod
    def of_created(cls, source: CreatedCampaign) -> Self:
        """The campaign as :meth:`CampaignPublic.of` maps it, and its warnings."""
        campaign = CampaignPublic.of(source.campaign)
        return cls.model_validate({**dict(campaign), "warnings": source.warnings})


class CampaignsPublic(PagePublic[CampaignPublic]):
    """A page of campaigns; ``next_cursor`` is ``null`` on the last page."""


class PreviewCreate(StrictModel):
    """The contact to render for; none (or no body): every placeholder's fallback. A
    ``contact_id`` the organization has no contact of is a 422."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(examples=[{"contact_id": "01JDQ8Z5C9W4K2M7N3P6R8T0V1"}])
    )

    contact_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class MessagePublic(PublicModel):
    """One text as sent: its body, encoding, characters (code points) and billed segments."""

    body: str
    encoding: Literal["GSM-7", "UCS-2"] = Field(validation_alias=AliasPath("length", "encoding"))
    characters: int = Field(validation_alias=AliasPath("length", "characters"))
    segments: int = Field(validation_alias=AliasPath("length", "segments"))


class PreviewVariantPublic(PublicModel):
    """A variant: ``body`` and its length as a repeat message (a number texted before: no
    footer), ``first_message`` with the opt-out footer a first text carries, and the part
    of the current audience assigned it (issue 15, point 7)."""

    name: str
    body: str = Field(validation_alias=AliasPath("repeat", "body"))
    encoding: Literal["GSM-7", "UCS-2"] = Field(
        validation_alias=AliasPath("repeat", "length", "encoding")
    )
    characters: int = Field(validation_alias=AliasPath("repeat", "length", "characters"))
    segments: int = Field(validation_alias=AliasPath("repeat", "length", "segments"))
    first_message: MessagePublic
    audience_recipients: int = Field(validation_alias=AliasPath("audience", "recipients"))
    audience_segments: int = Field(validation_alias=AliasPath("audience", "segments"))


class PreviewPublic(PublicModel):
    """``audience_recipients`` and ``audience_segments``: the current audience (a draft: the
    recipients its start would take now; a started campaign: its recipients still to be
    texted) and the segments of each one's own text, footer where its number was never
    texted. With ``contact_id``: ``first_text`` (whether that contact's next text carries
    the footer: then it gets ``first_message``, else ``body``) and ``assigned_variant``
    (the variant it gets; null if it is not a recipient of a started campaign, or if a
    draft's start would not take it) and, for a draft, ``left_out``: why its start would
    not take it (``not_in_audience``, ``opted_out``, ``not_textable``,
    ``never_in_window``) or null; all null without one. ``warnings``: the
    ``{attributes.KEY}`` placeholders no contact of the current audience has a value
    for (every one of its contacts is looked at)."""

    variants: list[PreviewVariantPublic]
    audience_recipients: int = Field(validation_alias=AliasPath("audience", "recipients"))
    audience_segments: int = Field(validation_alias=AliasPath("audience", "segments"))
    first_text: bool | None
    assigned_variant: str | None
    left_out: LeftOutReason | None
    warnings: list[TemplateWarningPublic] = Field(
        description="`attribute_not_in_audience` for each `{attributes.KEY}` placeholder "
        "that no contact of the current audience (the one `audience_recipients` counts) "
        "has a value for: each of them would get the fallback. `[]` when there is none."
    )


class VariantStatsPublic(PublicModel):
    name: str
    recipients: int
    sent: int
    delivered: int
    failed: int
    replies: int
    opt_outs: int
    reply_rate: float

    @classmethod
    def of(cls, source: VariantStats) -> Self:
        """The variant's counts by name, and its reply rate to 6 places."""
        return cls.model_validate(
            {**asdict(source.counts), "reply_rate": round(source.reply_rate, 6)}
        )


class WinnerPublic(PublicModel):
    variant: str
    p_value: float


class StatsPublic(PublicModel):
    """Status counts are of recipients' current states: they add up to ``recipients``.
    A recipient a sender has claimed but not yet sent is counted in ``pending``
    (``unknown`` is an extension of the contract's list). ``reply_rate`` is recipients
    who replied over messages the provider accepted."""

    status: str
    recipients: int
    pending: int = Field(
        description="Recipients not sent yet, including those a sender has claimed."
    )
    sent: int
    delivered: int
    failed: int
    skipped: int
    unknown: int
    replies: int
    opt_outs: int
    sends_today: int
    daily_limit: int
    variants: list[VariantStatsPublic]
    winner: WinnerPublic | None
    paused_reason: str | None = Field(
        default=None, description="As on the campaign: why the engine paused it, or null."
    )

    @classmethod
    def of(cls, source: CampaignStats) -> Self:
        """The totals' counts and the campaign-wide values by name (``totals`` itself is
        not a field); each variant by :meth:`VariantStatsPublic.of`."""
        return cls.model_validate(
            {
                **asdict(source.totals),
                **asdict(source),
                "variants": [VariantStatsPublic.of(v) for v in source.variants],
            }
        )


class SendPublic(PublicModel):
    """One recipient of a campaign and its send."""

    contact_id: str
    phone: E164Number
    variant: str
    status: str
    attempts: int
    provider_message_id: str | None
    error: str | None
    sent_at: UtcInstant | None
    updated_at: UtcInstant
    waiting_reason: WaitingReason | None = Field(
        default=None,
        description="Why a pending recipient waits (null: for its turn, or not pending).",
    )
    next_attempt_at: UtcInstant | None = Field(
        default=None, description="When a waiting recipient may be tried again, if known."
    )


class SendsPublic(PagePublic[SendPublic]):
    """A page of a campaign's sends; ``next_cursor`` is ``null`` on the last page."""
