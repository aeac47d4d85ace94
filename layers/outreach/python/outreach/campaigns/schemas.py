"""Campaigns API schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from outreach.api.fields import TimeZone, check_hhmm
from outreach.campaigns.domain import (
    DAYS,
    DEFAULT_WINDOW_DAYS,
    DEFAULT_WINDOW_END,
    DEFAULT_WINDOW_START,
    MAX_AUDIENCE_IDS,
    MAX_BODY_LENGTH,
    MAX_DAILY_LIMIT,
    MAX_VARIANTS,
    MAX_WEIGHT,
    Audience,
    Campaign,
    Variant,
    Window,
)
from outreach.campaigns.service import CampaignDraft, CampaignStats, PreviewVariant
from outreach.clock import to_iso
from outreach.contacts.domain import normalize_tag
from outreach.timezones import parse_hhmm

STRICT = ConfigDict(extra="forbid")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a timezone (e.g. 2026-12-01T14:00:00Z)")
    return value.astimezone(UTC)


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
Instant = Annotated[datetime, AfterValidator(_aware)]


class VariantIn(BaseModel):
    model_config = STRICT
    name: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^\s].*$")]
    body: Annotated[str, Field(min_length=1, max_length=MAX_BODY_LENGTH)]
    weight: Annotated[int, Field(ge=1, le=MAX_WEIGHT, strict=True)] = 1


class AudienceIn(BaseModel):
    """Exactly one of ``all: true``, ``tags`` (any of) or ``contact_ids``."""

    model_config = STRICT
    all: Literal[True] | None = None
    tags: (
        Annotated[
            list[Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_audience_tag)]],
            Field(min_length=1, max_length=20),
        ]
        | None
    ) = None
    contact_ids: (
        Annotated[
            list[Annotated[str, Field(min_length=1, max_length=64)]],
            Field(min_length=1, max_length=MAX_AUDIENCE_IDS),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AudienceIn:
        given = [name for name in ("all", "tags", "contact_ids") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of all, tags or contact_ids")
        return self

    def domain(self) -> Audience:
        if self.all:
            return Audience(all=True)
        if self.tags:
            return Audience(tags=tuple(dict.fromkeys(self.tags)))
        return Audience(contact_ids=tuple(dict.fromkeys(self.contact_ids or ())))


class SendWindowIn(BaseModel):
    model_config = STRICT
    start: Annotated[str, AfterValidator(check_hhmm)] = DEFAULT_WINDOW_START
    end: Annotated[str, AfterValidator(check_hhmm)] = DEFAULT_WINDOW_END
    days: Annotated[
        list[Day],
        Field(min_length=1, max_length=7),
    ] = Field(default_factory=lambda: cast(list[Day], list(DEFAULT_WINDOW_DAYS)))

    @model_validator(mode="after")
    def _start_before_end(self) -> SendWindowIn:
        if parse_hhmm(self.start) >= parse_hhmm(self.end):
            raise _invalid(self, "end", "send_window.end must be after send_window.start")
        return self

    def domain(self) -> Window:
        days = sorted(set(self.days), key=DAYS.index)
        return Window(start=self.start, end=self.end, days=tuple(days))


def _variants(variants: list[VariantIn]) -> list[VariantIn]:
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


Variants = Annotated[
    list[VariantIn], Field(min_length=1, max_length=MAX_VARIANTS), AfterValidator(_variants)
]
DailyLimit = Annotated[int, Field(ge=1, le=MAX_DAILY_LIMIT, strict=True)]


class CampaignCreate(BaseModel):
    """``variants`` (1 to 5, weighted), or ``template_a`` and ``template_b`` (A and B, 50/50)."""

    model_config = STRICT
    name: Name
    variants: Variants | None = None
    template_a: Annotated[str, Field(min_length=1, max_length=MAX_BODY_LENGTH)] | None = None
    template_b: Annotated[str, Field(min_length=1, max_length=MAX_BODY_LENGTH)] | None = None
    audience: AudienceIn
    daily_limit: DailyLimit = 125
    timezone: TimeZone | None = None
    send_window: SendWindowIn = Field(default_factory=SendWindowIn)
    start_at: Instant | None = None
    end_at: Instant | None = None

    @model_validator(mode="after")
    def _variants_or_templates(self) -> CampaignCreate:
        _check_variant_source(self, required=True)
        if self.start_at and self.end_at and self.start_at >= self.end_at:
            raise _invalid(self, "end_at", "end_at must be after start_at")
        return self

    def draft(self) -> CampaignDraft:
        if self.variants is not None:
            variants = tuple(Variant(v.name, v.body, v.weight) for v in self.variants)
        else:
            assert self.template_a is not None and self.template_b is not None
            variants = (Variant("A", self.template_a, 50), Variant("B", self.template_b, 50))
        return CampaignDraft(
            name=self.name,
            variants=variants,
            audience=self.audience.domain(),
            daily_limit=self.daily_limit,
            timezone=self.timezone,
            window=self.send_window.domain(),
            start_at=self.start_at,
            end_at=self.end_at,
        )


class CampaignUpdate(BaseModel):
    """Any create field; ``start_at``/``end_at`` null clears them."""

    model_config = STRICT
    name: Name | None = None
    variants: Variants | None = None
    template_a: Annotated[str, Field(min_length=1, max_length=MAX_BODY_LENGTH)] | None = None
    template_b: Annotated[str, Field(min_length=1, max_length=MAX_BODY_LENGTH)] | None = None
    audience: AudienceIn | None = None
    daily_limit: DailyLimit | None = None
    timezone: TimeZone | None = None
    send_window: SendWindowIn | None = None
    start_at: Instant | None = None
    end_at: Instant | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CampaignUpdate:
        _check_variant_source(self, required=False)
        nullable = {"start_at", "end_at"}
        for name in sorted(self.model_fields_set - nullable):
            if getattr(self, name) is None:
                raise _invalid(self, name, f"{name} cannot be null")
        return self

    def draft(self) -> CampaignDraft:
        variants: tuple[Variant, ...] | None = None
        if self.variants is not None:
            variants = tuple(Variant(v.name, v.body, v.weight) for v in self.variants)
        elif self.template_a is not None and self.template_b is not None:
            variants = (Variant("A", self.template_a, 50), Variant("B", self.template_b, 50))
        return CampaignDraft(
            name=self.name,
            variants=variants,
            audience=self.audience.domain() if self.audience else None,
            daily_limit=self.daily_limit,
            timezone=self.timezone,
            window=self.send_window.domain() if self.send_window else None,
            start_at=self.start_at,
            end_at=self.end_at,
            cleared=frozenset(
                n
                for n in ("start_at", "end_at")
                if n in self.model_fields_set and getattr(self, n) is None
            ),
        )


def _iso(value: datetime | None) -> str | None:
    return to_iso(value) if value is not None else None


class VariantOut(BaseModel):
    name: str
    body: str
    weight: int


class SendWindowOut(BaseModel):
    start: str
    end: str
    days: list[str]


class CampaignPublic(BaseModel):
    id: str
    name: str
    status: str
    variants: list[VariantOut]
    audience: dict[str, object]
    daily_limit: int
    timezone: str
    send_window: SendWindowOut
    start_at: datetime | None
    end_at: datetime | None
    recipients: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    paused_reason: str | None = Field(
        default=None,
        description="Why the sending engine paused the campaign by itself (an account-level "
        "provider error such as the monthly spend limit): fix it, then resume. Null otherwise.",
    )

    @field_serializer(
        "start_at", "end_at", "created_at", "updated_at", "started_at", "completed_at"
    )
    def _timestamps(self, value: datetime | None) -> str | None:
        return _iso(value)

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignPublic:
        return cls(
            id=campaign.id,
            name=campaign.name,
            status=campaign.status.value,
            variants=[
                VariantOut(name=v.name, body=v.body, weight=v.weight) for v in campaign.variants
            ],
            audience=campaign.audience.as_dict(),
            daily_limit=campaign.daily_limit,
            timezone=campaign.timezone,
            send_window=SendWindowOut(
                start=campaign.window.start,
                end=campaign.window.end,
                days=list(campaign.window.days),
            ),
            start_at=campaign.start_at,
            end_at=campaign.end_at,
            recipients=campaign.recipients,
            created_at=campaign.created_at,
            updated_at=campaign.updated_at,
            started_at=campaign.started_at,
            completed_at=campaign.completed_at,
            paused_reason=campaign.paused_reason,
        )


class CampaignList(BaseModel):
    items: list[CampaignPublic]
    next_cursor: str | None


class PreviewRequest(BaseModel):
    model_config = STRICT
    contact_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class PreviewVariantOut(BaseModel):
    name: str
    body: str
    encoding: Literal["GSM-7", "UCS-2"]
    characters: int
    segments: int

    @classmethod
    def of(cls, preview: PreviewVariant) -> PreviewVariantOut:
        return cls(
            name=preview.name,
            body=preview.body,
            encoding=preview.length.encoding,
            characters=preview.length.characters,
            segments=preview.length.segments,
        )


class PreviewOut(BaseModel):
    variants: list[PreviewVariantOut]


class VariantStatsOut(BaseModel):
    name: str
    recipients: int
    sent: int
    delivered: int
    failed: int
    replies: int
    opt_outs: int
    reply_rate: float


class WinnerOut(BaseModel):
    variant: str
    p_value: float


class StatsOut(BaseModel):
    """Status counts are of recipients' current states: they add up to ``recipients``
    (``sending`` and ``unknown`` are extensions of the contract's list). ``reply_rate`` is
    recipients who replied over messages the provider accepted."""

    status: str
    recipients: int
    pending: int
    sending: int
    sent: int
    delivered: int
    failed: int
    skipped: int
    unknown: int
    replies: int
    opt_outs: int
    sends_today: int
    daily_limit: int
    variants: list[VariantStatsOut]
    winner: WinnerOut | None
    paused_reason: str | None = Field(
        default=None, description="As on the campaign: why the engine paused it, or null."
    )

    @classmethod
    def of(cls, stats: CampaignStats) -> StatsOut:
        totals = stats.totals
        return cls(
            status=stats.status.value,
            recipients=totals.recipients,
            pending=totals.pending,
            sending=totals.sending,
            sent=totals.sent,
            delivered=totals.delivered,
            failed=totals.failed,
            skipped=totals.skipped,
            unknown=totals.unknown,
            replies=totals.replies,
            opt_outs=totals.opt_outs,
            sends_today=stats.sends_today,
            daily_limit=stats.daily_limit,
            variants=[
                VariantStatsOut(
                    name=v.counts.name,
                    recipients=v.counts.recipients,
                    sent=v.counts.sent,
                    delivered=v.counts.delivered,
                    failed=v.counts.failed,
                    replies=v.counts.replies,
                    opt_outs=v.counts.opt_outs,
                    reply_rate=round(v.reply_rate, 6),
                )
                for v in stats.variants
            ],
            winner=WinnerOut(variant=stats.winner.variant, p_value=stats.winner.p_value)
            if stats.winner
            else None,
            paused_reason=stats.paused_reason,
        )


class SendOut(BaseModel):
    contact_id: str
    phone: str
    variant: str
    status: str
    attempts: int
    provider_message_id: str | None
    error: str | None
    sent_at: datetime | None
    updated_at: datetime

    @field_serializer("sent_at", "updated_at")
    def _timestamps(self, value: datetime | None) -> str | None:
        return _iso(value)


class SendList(BaseModel):
    items: list[SendOut]
    next_cursor: str | None
