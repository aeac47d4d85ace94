"""Identity API schemas: auth bodies (``*Body``), requests (``*Create``/``*Update``) and
answers (``*Public``), as `api-contract.md` fixes them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AliasChoices,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from outreach.api.fields import (
    NOT_BLANK_PATTERN,
    WHOLE_NUMBER,
    E164Number,
    Email,
    PhoneNumber,
    PublicModel,
    ResponseEmail,
    StrictModel,
    TimeOfDay,
    TimeText,
    TimeZone,
    UtcInstant,
    ZoneName,
    model_schema,
)
from outreach.api.pagination import PagePublic
from outreach.destinations import allowed_regions, is_region
from outreach.identity.domain import (
    DEFAULT_FALLBACK_TIME_ZONES,
    LEGAL_QUIET_END,
    LEGAL_QUIET_START,
    MAX_FALLBACK_TIME_ZONES,
    NewUser,
    Organization,
    OrganizationChanges,
    Role,
    UserChanges,
    within_legal_quiet_hours,
)
from outreach.replies import Language, effective_texts
from outreach.spend import (
    MAX_AUTO_REPLY_HOURLY_LIMIT,
    MAX_CONTACT_DAILY_LIMIT,
    MAX_DAILY_MESSAGE_LIMIT,
)
from outreach.state_rules import EFFECTIVE_DATE, SOURCES, STATE_HOURS, US_STATES, Hours
from outreach.timezones import parse_hhmm


def _lowercase(value: str) -> str:
    # A function of ours: pydantic reads a builtin's signature (str.lower) slowly at import.
    return value.lower()


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


def _country_codes(codes: list[str]) -> list[str]:
    """Uppercased ISO 3166 alpha-2 codes, each a region libphonenumber has numbers for,
    each once."""
    codes = [code.upper() for code in codes]
    unknown = [code for code in codes if not is_region(code)]
    if unknown:
        raise ValueError(f"not ISO 3166 alpha-2 country codes: {', '.join(unknown[:5])}")
    if len(set(codes)) != len(codes):
        raise ValueError("each country may appear once")
    return codes


def _distinct(zones: list[str]) -> list[str]:
    """The zones in the order given, each once."""
    return list(dict.fromkeys(zones))


def _support_line(value: str) -> str:
    """One line of 1..:data:`MAX_SUPPORT_CONTACT` characters once stripped: it is set
    inside a sentence of the HELP answer (:func:`outreach.replies.default_help_text`)."""
    value = value.strip()
    if not 1 <= len(value) <= MAX_SUPPORT_CONTACT:
        raise ValueError(f"must be 1 to {MAX_SUPPORT_CONTACT} characters once stripped")
    if not value.isprintable():
        raise ValueError("must be one line, without control characters")
    return value


MAX_SUPPORT_CONTACT = 100
MAX_REPLY_TEXT = 320
ReplyText = Annotated[
    str,
    Field(
        min_length=1, max_length=MAX_REPLY_TEXT, json_schema_extra={"pattern": NOT_BLANK_PATTERN}
    ),
    AfterValidator(_not_blank),
]
"""An auto-reply the organization writes (a HELP answer, an opt-out confirmation): at
most two segments of plain text, stripped, never blank."""
TextsByLanguage = dict[Language, ReplyText | None]
"""Auto-reply texts by language code (``en``, ``es``, ``fr``: :class:`Language`, any other
key is a 422); ``null`` puts a language back on the default (issue 15 point 2)."""
FallbackTimeZones = Annotated[
    list[TimeZone],
    Field(min_length=1, max_length=MAX_FALLBACK_TIME_ZONES),
    AfterValidator(_distinct),
]
"""The zones a number no place can be pinned to is held to (issue 15 point 4): IANA
zones, at least one, each kept once in the order given."""
SupportContact = Annotated[
    str,
    Field(
        json_schema_extra={"pattern": NOT_BLANK_PATTERN},
        description="One line of printable text, at most 100 characters once stripped.",
    ),
    AfterValidator(_support_line),
]
"""The line a default HELP answer gives ("call 555-0100 or visit acme.test/help"; issue 15
point 8)."""

MAX_ALLOWED_COUNTRIES = 50
DailyMessageLimit = Annotated[int, Field(ge=1, le=MAX_DAILY_MESSAGE_LIMIT), WHOLE_NUMBER]
ContactDailyLimit = Annotated[int, Field(ge=1, le=MAX_CONTACT_DAILY_LIMIT), WHOLE_NUMBER]
AutoReplyHourlyLimit = Annotated[int, Field(ge=0, le=MAX_AUTO_REPLY_HOURLY_LIMIT), WHOLE_NUMBER]
AllowedCountries = Annotated[
    list[
        Annotated[
            str,
            Field(
                min_length=2,
                max_length=2,
                json_schema_extra={"pattern": r"^[A-Za-z]{2}$(?!\n)"},
                description="An ISO 3166 alpha-2 country code (any case), one libphonenumber "
                "has numbers for (e.g. US, CA); any other is a 422.",
            ),
        ]
    ],
    Field(min_length=1, max_length=MAX_ALLOWED_COUNTRIES),
    AfterValidator(_country_codes),
]
"""The countries an organization may text (`api-contract.md` Addendum 1; issue 14 point 1)."""
LoginEmail = Annotated[Email, AfterValidator(_lowercase)]
"""The email a user signs in with: checked and lowercased (it is unique whatever its case)."""
Password = Annotated[str, Field(min_length=10, max_length=256)]
Name = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK_PATTERN}),
    AfterValidator(_not_blank),
]
# Who an owner or admin may add or make: never a second owner.
GrantableRole = Literal["admin", "member"]


class RegisterBody(StrictModel):
    """``POST /v1/auth/register``: the first user, who owns the new organization."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[
                {
                    "email": "dana@example.com",
                    "password": "correct horse battery",
                    "full_name": "Dana Reyes",
                    "organization_name": "Reyes Roofing",
                }
            ]
        )
    )

    email: LoginEmail
    password: Password
    full_name: Name
    organization_name: Name


class LoginBody(StrictModel):
    """``POST /v1/auth/login``: checked only for size, so a bad email is a plain 401."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[{"email": "dana@example.com", "password": "correct horse battery"}]
        )
    )

    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class RefreshBody(StrictModel):
    """``POST /v1/auth/refresh`` and ``/logout``: the opaque refresh token."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[{"refresh_token": "Jr4x0mQ2b7sT9kVw1yZ3aC5eG8iK0nP2rU4wY6zB8dF"}]
        )
    )

    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class TokenPairPublic(PublicModel):
    """What login and refresh answer; ``expires_in`` is the access token's life in seconds."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme, not a secret
    expires_in: int


class QuietHoursWindow(StrictModel):
    """The organization's ``quiet_hours``: the local hours (HH:MM) when texting is
    *allowed*, start before end (the name is the contract's)."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(examples=[{"start": "09:00", "end": "20:00"}])
    )

    start: TimeOfDay
    end: TimeOfDay

    @model_validator(mode="after")
    def _start_before_end(self) -> QuietHoursWindow:
        if parse_hhmm(self.start) >= parse_hhmm(self.end):
            raise ValueError("quiet_hours.start must be before quiet_hours.end")
        return self


_REMOVABLE_SETTINGS = frozenset({"sender_number", "support_contact", "fallback_time_zones"})
"""The settings ``null`` removes (or resets, for the fallback zones)."""
_NOT_NULL_SETTINGS = (
    "name",
    "timezone",
    "messages_per_second",
    "quiet_hours",
    "help_text",
    "opt_out_footer",
    "allowed_countries",
    "daily_message_limit",
    "contact_daily_limit",
    "auto_reply_hourly_limit",
    "help_texts",
    "opt_out_confirmations",
)
"""The settings an explicit ``null`` is refused for (a 422): every other one."""


class OrganizationUpdate(StrictModel):
    """Every field optional; ``sender_number: null`` removes the number.

    Rules beyond the schema: ``quiet_hours`` start before end, both inside 08:00-21:00;
    ``help_text`` and ``help_texts.en``, when both given, equal; raising
    ``daily_message_limit`` is the owner's alone (a 403).

    ``quiet_hours`` must lie inside 08:00-21:00 (narrowed, never widened: the federal
    window, `sending-rules.md` rule 3). The spend limits are bounded by
    :mod:`outreach.spend`; raising ``daily_message_limit`` is the owner's alone (the
    service checks the role, as it knows the current value).

    Issue 15 (`api-contract.md` Addendum 1): ``fallback_time_zones`` (point 4; ``null``
    restores the default, the four contiguous US zones), ``support_contact`` (point 8;
    ``null`` removes it) and the per-language ``help_texts`` and
    ``opt_out_confirmations`` (point 2), merged language by language into the
    organization's (``null`` for a language: back to the default).
    ``help_text`` still sets the English HELP answer; given with ``help_texts.en``, the
    two must agree.
    """

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[
                {
                    "timezone": "America/Chicago",
                    "sender_number": "+16175550100",
                    "quiet_hours": {"start": "09:00", "end": "20:00"},
                    "support_contact": "call 617-555-0100",
                    "help_texts": {"es": None},
                }
            ],
            not_null=_NOT_NULL_SETTINGS,
        )
    )

    name: Name | None = None
    timezone: TimeZone | None = None
    sender_number: PhoneNumber | None = None
    messages_per_second: Annotated[int, Field(ge=1, le=100), WHOLE_NUMBER] | None = None
    quiet_hours: QuietHoursWindow | None = None
    help_text: ReplyText | None = None
    opt_out_footer: Annotated[str, Field(max_length=100)] | None = None
    allowed_countries: AllowedCountries | None = None
    daily_message_limit: DailyMessageLimit | None = None
    contact_daily_limit: ContactDailyLimit | None = None
    auto_reply_hourly_limit: AutoReplyHourlyLimit | None = None
    fallback_time_zones: FallbackTimeZones | None = None
    support_contact: SupportContact | None = None
    help_texts: TextsByLanguage | None = None
    opt_out_confirmations: TextsByLanguage | None = None

    @field_validator("quiet_hours")
    @classmethod
    def _inside_the_legal_window(cls, window: QuietHoursWindow | None) -> QuietHoursWindow | None:
        if window is not None and not within_legal_quiet_hours(window.start, window.end):
            raise ValueError(
                f"quiet_hours must lie inside {LEGAL_QUIET_START}-{LEGAL_QUIET_END}, the "
                "federal telemarketing window (sending rule 3): it may be narrowed, "
                "never widened"
            )
        return window

    @model_validator(mode="after")
    def _only_removable_settings_may_be_null(self) -> OrganizationUpdate:
        # The sender number and the support line may be removed, and the fallback zones
        # reset to the default; every other setting has a value (a language's text inside
        # help_texts may be null: the default).
        for field in self.model_fields_set - _REMOVABLE_SETTINGS:
            if getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self

    @model_validator(mode="after")
    def _one_english_help_text(self) -> OrganizationUpdate:
        english = (self.help_texts or {}).get(Language.EN, self.help_text)
        if self.help_text is not None and english != self.help_text:
            raise ValueError(
                "help_text and help_texts.en both set the English HELP answer: give one"
            )
        return self

    def to_domain(self) -> OrganizationChanges:
        """The changes the client asked for: the fields it sent (null only for the number,
        the support line and a language's text)."""
        quiet = self.quiet_hours
        countries = self.allowed_countries
        zones = self.fallback_time_zones
        help_texts = _by_code(self.help_texts)
        return OrganizationChanges(
            name=self.name,
            timezone=self.timezone,
            sender_number=self.sender_number,
            release_sender_number=(
                "sender_number" in self.model_fields_set and self.sender_number is None
            ),
            messages_per_second=self.messages_per_second,
            quiet_hours_start=quiet.start if quiet else None,
            quiet_hours_end=quiet.end if quiet else None,
            # Given with help_texts.en (the same text, checked above), help_texts says it.
            help_text=None if help_texts and Language.EN in help_texts else self.help_text,
            opt_out_footer=self.opt_out_footer,
            allowed_countries=tuple(countries) if countries is not None else None,
            daily_message_limit=self.daily_message_limit,
            contact_daily_limit=self.contact_daily_limit,
            auto_reply_hourly_limit=self.auto_reply_hourly_limit,
            fallback_time_zones=(
                tuple(zones)
                if zones is not None
                else DEFAULT_FALLBACK_TIME_ZONES
                if "fallback_time_zones" in self.model_fields_set
                else None
            ),
            support_contact=self.support_contact,
            clear_support_contact=(
                "support_contact" in self.model_fields_set and self.support_contact is None
            ),
            help_texts=help_texts,
            opt_out_confirmations=_by_code(self.opt_out_confirmations),
        )


def _by_code(texts: TextsByLanguage | None) -> dict[str, str | None] | None:
    """Texts keyed by language code, as the domain keeps them; ``None`` for none (an
    empty object changes nothing)."""
    return {language.value: text for language, text in texts.items()} if texts else None


class OrganizationPublic(PublicModel):
    """An organization and its sending settings.

    ``allowed_countries`` is the effective list, sorted: the countries set, or, when
    none are, the sender number's country (the default, :func:`allowed_regions`), so
    the answer always says where the organization's texts may go now.
    """

    id: str
    name: str
    timezone: ZoneName
    sender_number: E164Number | None
    messages_per_second: int
    quiet_hours: QuietHoursWindow
    help_text: str
    opt_out_footer: str
    allowed_countries: list[str]
    daily_message_limit: int
    contact_daily_limit: int
    auto_reply_hourly_limit: int
    fallback_time_zones: list[ZoneName]
    support_contact: str | None
    help_texts: dict[str, str]
    opt_out_confirmations: dict[str, str]
    created_at: UtcInstant

    @classmethod
    def of(cls, source: Organization) -> Self:
        """The organization's fields by name, its two quiet-hours fields as one window, its
        effective countries, and the auto-replies' texts as they would be sent now (its own
        or the defaults, :func:`outreach.replies.effective_texts`); ``help_text`` is the
        English one."""
        window = QuietHoursWindow(start=source.quiet_hours_start, end=source.quiet_hours_end)
        countries = sorted(allowed_regions(source.allowed_countries, source.sender_number))
        texts = effective_texts(source)
        return cls.model_validate(
            {
                **asdict(source),
                **texts,
                "help_text": texts["help_texts"][Language.EN],
                "quiet_hours": window,
                "allowed_countries": countries,
            }
        )


class UserPublic(PublicModel):
    """A user of the organization (never their password or its hash)."""

    id: str
    email: ResponseEmail
    full_name: str
    role: Role
    organization_id: str = Field(validation_alias=AliasChoices("organization_id", "org_id"))
    created_at: UtcInstant


class RegisterPublic(PublicModel):
    """What registering answers: the owner and their new organization."""

    user: UserPublic
    organization: OrganizationPublic


class UserCreate(StrictModel):
    """``POST /v1/users``: an admin or a member (there is one owner, who registered)."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[
                {
                    "email": "sam@example.com",
                    "password": "another long secret",
                    "full_name": "Sam Ortiz",
                    "role": "member",
                }
            ]
        )
    )

    email: LoginEmail
    password: Password
    full_name: Name
    role: GrantableRole

    def to_domain(self) -> NewUser:
        return NewUser(
            email=self.email, password=self.password, full_name=self.full_name, role=Role(self.role)
        )


class UserUpdate(StrictModel):
    """``PATCH /v1/users/{id}``: a new name, a new role, or both (``null`` or absent:
    unchanged)."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(examples=[{"full_name": "Sam Ortiz", "role": "admin"}])
    )

    full_name: Name | None = None
    role: GrantableRole | None = None

    def to_domain(self) -> UserChanges:
        return UserChanges(
            full_name=self.full_name, role=Role(self.role) if self.role is not None else None
        )


class UsersPublic(PagePublic[UserPublic]):
    """A page of users; ``next_cursor`` is ``null`` on the last page."""


class DayHoursPublic(PublicModel):
    """Local hours of one day, ``start <= t < end`` (HH:MM)."""

    start: TimeText
    end: TimeText


class StateRulePublic(PublicModel):
    """One state's hours for marketing texts (``null``: none that day)."""

    state: str
    name: str
    weekdays: DayHoursPublic | None
    saturday: DayHoursPublic | None
    sunday: DayHoursPublic | None


class StateRulesPublic(PublicModel):
    """``GET /v1/organization/state-rules``: the state rules the engine applies on top of
    the federal window (``sending-rules.md``, rule 7), the day they were last reviewed
    and their sources. Not legal advice."""

    effective_date: str
    sources: list[str]
    states: list[StateRulePublic]

    @classmethod
    def current(cls) -> Self:
        """The table in :mod:`outreach.state_rules`, states in alphabetical order."""

        def hours(day: Hours | None) -> DayHoursPublic | None:
            if day is None:
                return None
            return DayHoursPublic(start=day.start.strftime("%H:%M"), end=day.end.strftime("%H:%M"))

        return cls(
            effective_date=EFFECTIVE_DATE.isoformat(),
            sources=list(SOURCES),
            states=[
                StateRulePublic(
                    state=rule.state,
                    name=US_STATES[rule.state],
                    weekdays=hours(rule.weekdays),
                    saturday=hours(rule.saturday),
                    sunday=hours(rule.sunday),
                )
                for _, rule in sorted(STATE_HOURS.items())
            ],
        )
