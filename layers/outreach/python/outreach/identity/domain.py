"""Identity domain objects and the rules that are plain values: roles, the changes a
PATCH asks for, the legal quiet-hours floor, the sender-number hold, session states and
the login-throttle policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from outreach.errors import Forbidden
from outreach.spend import (
    DEFAULT_AUTO_REPLY_HOURLY_LIMIT,
    DEFAULT_CONTACT_DAILY_LIMIT,
    DEFAULT_DAILY_MESSAGE_LIMIT,
)
from outreach.timezones import parse_hhmm


class Role(StrEnum):
    """Roles, strongest first: owner > admin > member."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"

    @property
    def manages(self) -> bool:
        """Owners and admins manage users and organization settings."""
        return self in (Role.OWNER, Role.ADMIN)


DEFAULT_TIMEZONE = "America/New_York"
# The federal telemarketing window (`sending-rules.md` rule 3): texts go out only
# between 08:00 and 21:00 in the recipient's zone. An organization may narrow its
# `quiet_hours` inside it, never widen them (issue 14, point 5); the sender clamps
# stored values to it too. "HH:MM" strings, as `quiet_hours` are stored.
LEGAL_QUIET_START = "08:00"
LEGAL_QUIET_END = "21:00"
DEFAULT_QUIET_START = LEGAL_QUIET_START
DEFAULT_QUIET_END = LEGAL_QUIET_END
DEFAULT_OPT_OUT_FOOTER = "Reply STOP to opt out"
# The zones a number that cannot be pinned to a place (toll-free, non-geographic) is
# held to when its contact has no `timezone` (`sending-rules.md`, rule 8): the four
# contiguous US zones, so such a number is texted when it is allowed in all four.
DEFAULT_FALLBACK_TIME_ZONES: tuple[str, ...] = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)
MAX_FALLBACK_TIME_ZONES = 10
DEFAULT_MESSAGES_PER_SECOND = 1

SENDER_NUMBER_HOLD = timedelta(days=30)
"""How long a released sender number stays with the organization that released it
(issue 14, point 8): inbound texts to it (replies, STOPs) still reach that
organization, and only that organization may claim it again, until this much time
has passed since the release."""


def within_legal_quiet_hours(start: str, end: str) -> bool:
    """Whether the window ``start``-``end`` ("HH:MM") lies inside
    :data:`LEGAL_QUIET_START`-:data:`LEGAL_QUIET_END`; ``ValueError`` for a time that
    is not "HH:MM"."""
    floor, ceiling = parse_hhmm(LEGAL_QUIET_START), parse_hhmm(LEGAL_QUIET_END)
    return floor <= parse_hhmm(start) and parse_hhmm(end) <= ceiling


@dataclass(frozen=True)
class Organization:
    """A tenant and its sending settings.

    The spend limits (:mod:`outreach.spend`): ``allowed_countries`` (ISO 3166 alpha-2;
    empty: its sender number's country, :mod:`outreach.destinations`),
    ``daily_message_limit`` (texts per day of its ``timezone``), ``contact_daily_limit``
    (campaign texts to one number per rolling 24 hours) and ``auto_reply_hourly_limit``.

    ``fallback_time_zones``: the zones a number no place can be pinned to is held to
    (:func:`outreach.sending.rules.recipient_zones`). The auto-replies' texts:
    ``help_texts`` and ``opt_out_confirmations`` hold only the ones the organization
    wrote, by language code (``en``, ``es``, ``fr``); the others are the defaults of
    :mod:`outreach.replies`, which also names ``support_contact`` (a line such as
    "call 555-0100" for HELP answers, or ``None``).
    """

    id: str
    name: str
    timezone: str
    sender_number: str | None
    messages_per_second: int
    quiet_hours_start: str
    quiet_hours_end: str
    opt_out_footer: str
    created_at: datetime
    updated_at: datetime
    allowed_countries: tuple[str, ...] = ()
    daily_message_limit: int = DEFAULT_DAILY_MESSAGE_LIMIT
    contact_daily_limit: int = DEFAULT_CONTACT_DAILY_LIMIT
    auto_reply_hourly_limit: int = DEFAULT_AUTO_REPLY_HOURLY_LIMIT
    fallback_time_zones: tuple[str, ...] = DEFAULT_FALLBACK_TIME_ZONES
    support_contact: str | None = None
    help_texts: Mapping[str, str] = field(default_factory=dict)
    opt_out_confirmations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class User:
    """A person who signs in to one organization."""

    id: str
    org_id: str
    email: str
    full_name: str
    role: Role
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Caller:
    """Who a request acts as: a signed-in user (``session_id``: their login) or an API key
    of the organization (``api_key_id``; its ``user_id`` is the key's id too, what a
    message or an import made with it names as its author)."""

    user_id: str
    org_id: str
    role: Role
    session_id: str | None = None
    api_key_id: str | None = None


def require_manager(caller: Caller) -> None:
    """Owners and admins only (else :class:`~outreach.errors.Forbidden`): user management
    and organization settings."""
    if not caller.role.manages:
        raise Forbidden("Only owners and admins may do this.")


def require_person(caller: Caller) -> None:
    """A signed-in user, not an API key (else :class:`~outreach.errors.Forbidden`): keys
    never manage users, API keys or webhooks (issue 20, point 1)."""
    if caller.api_key_id is not None:
        raise Forbidden(
            "API keys cannot manage users, API keys or webhooks: sign in as an owner or admin."
        )


@dataclass(frozen=True)
class TokenPair:
    """What login and refresh answer."""

    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class NewUser:
    """A user an owner or admin adds: who they are and the password they will sign in with."""

    email: str
    password: str = field(repr=False)  # never in a log line or a traceback
    full_name: str
    role: Role


@dataclass(frozen=True)
class UserChanges:
    """What a user PATCH asks to change; ``None`` means "leave as is"."""

    full_name: str | None = None
    role: Role | None = None

    @property
    def is_empty(self) -> bool:
        """Nothing to change: the service answers the user as they are."""
        return self.full_name is None and self.role is None


@dataclass(frozen=True)
class OrganizationChanges:
    """What an organization PATCH asks to change; ``None`` means "leave as is".

    ``sender_number`` is the one setting a client may remove (``"sender_number": null``
    in `api-contract.md`), so removing it is said with ``release_sender_number``;
    ``support_contact`` is removed likewise with ``clear_support_contact``.
    The quiet-hours bounds come together: the API takes them as one
    ``quiet_hours`` object whose start is before its end.

    ``help_texts`` and ``opt_out_confirmations`` (`api-contract.md` Addendum 1, issue 15
    point 2) are merged into the organization's: each language named gets its text, or
    goes back to the default (:mod:`outreach.replies`) when its value is ``None``; the
    languages not named stay as they are. ``help_text`` is the English HELP answer, as
    before the per-language texts; naming English both ways is a ``ValueError``.
    """

    name: str | None = None
    timezone: str | None = None
    sender_number: str | None = None
    release_sender_number: bool = False
    messages_per_second: int | None = None
    quiet_hours_start: str | None = None
    quiet_hours_end: str | None = None
    help_text: str | None = None
    opt_out_footer: str | None = None
    allowed_countries: tuple[str, ...] | None = None
    daily_message_limit: int | None = None
    contact_daily_limit: int | None = None
    auto_reply_hourly_limit: int | None = None
    fallback_time_zones: tuple[str, ...] | None = None
    support_contact: str | None = None
    clear_support_contact: bool = False
    help_texts: Mapping[str, str | None] | None = None
    opt_out_confirmations: Mapping[str, str | None] | None = None

    def __post_init__(self) -> None:
        if self.release_sender_number and self.sender_number is not None:
            raise ValueError("a sender number cannot be both set and released")
        if self.clear_support_contact and self.support_contact is not None:
            raise ValueError("a support contact cannot be both set and cleared")
        if self.help_text is not None and self.help_texts is not None and "en" in self.help_texts:
            raise ValueError("the English HELP answer is set by help_text or help_texts, not both")

    @property
    def is_empty(self) -> bool:
        """The PATCH named no field (or only empty per-language objects): nothing is
        written, not even ``updated_at``."""
        named = replace(
            self,
            help_texts=self.help_texts or None,
            opt_out_confirmations=self.opt_out_confirmations or None,
        )
        return named == OrganizationChanges()

    def sender_after(self, current: str | None) -> str | None:
        """The organization's sender number once these changes apply to ``current``."""
        if self.release_sender_number:
            return None
        return self.sender_number if self.sender_number is not None else current

    def applied_to(self, organization: Organization, *, now: datetime) -> Organization:
        """``organization`` with these changes, last updated at ``now``."""
        return replace(
            organization,
            name=_or(self.name, organization.name),
            timezone=_or(self.timezone, organization.timezone),
            sender_number=self.sender_after(organization.sender_number),
            messages_per_second=_or(self.messages_per_second, organization.messages_per_second),
            quiet_hours_start=_or(self.quiet_hours_start, organization.quiet_hours_start),
            quiet_hours_end=_or(self.quiet_hours_end, organization.quiet_hours_end),
            help_texts=_merged(organization.help_texts, self._help_text_changes),
            opt_out_confirmations=_merged(
                organization.opt_out_confirmations, self.opt_out_confirmations
            ),
            support_contact=(
                None
                if self.clear_support_contact
                else _or(self.support_contact, organization.support_contact)
            ),
            fallback_time_zones=_or(self.fallback_time_zones, organization.fallback_time_zones),
            opt_out_footer=_or(self.opt_out_footer, organization.opt_out_footer),
            allowed_countries=_or(self.allowed_countries, organization.allowed_countries),
            daily_message_limit=_or(self.daily_message_limit, organization.daily_message_limit),
            contact_daily_limit=_or(self.contact_daily_limit, organization.contact_daily_limit),
            auto_reply_hourly_limit=_or(
                self.auto_reply_hourly_limit, organization.auto_reply_hourly_limit
            ),
            updated_at=now,
        )

    @property
    def _help_text_changes(self) -> Mapping[str, str | None] | None:
        """``help_texts`` with ``help_text`` as its English entry."""
        if self.help_text is None:
            return self.help_texts
        return {**(self.help_texts or {}), "en": self.help_text}


def _or[T](change: T | None, current: T) -> T:
    return current if change is None else change


def _merged(
    current: Mapping[str, str], changes: Mapping[str, str | None] | None
) -> Mapping[str, str]:
    """``current`` texts by language with ``changes`` applied: a text replaces that
    language's, ``None`` removes it (back to the default); other languages stay."""
    if not changes:
        return current
    merged = dict(current)
    for language, text in changes.items():
        if text is None:
            merged.pop(language, None)
        else:
            merged[language] = text
    return merged


# --- Sessions ------------------------------------------------------------------------


class SessionState(StrEnum):
    """Where a login ("family") or one of its refresh tokens stands.

    A refresh token is ACTIVE until it is used once (ROTATED: a second use is
    theft, and revokes the family) or its login ends (REVOKED, set on the family).
    """

    ACTIVE = "active"
    ROTATED = "rotated"
    REVOKED = "revoked"


@dataclass(frozen=True)
class RefreshRecord:
    """What is stored of one refresh token (never the token itself, only its hash)."""

    org_id: str
    user_id: str
    family_id: str
    state: SessionState
    expires_at: datetime


# --- Login throttling ----------------------------------------------------------------


@dataclass(frozen=True)
class AttemptWindow:
    """Sign-in attempts counted for one email in the window that ends at ``ends_at``.

    ``attempts`` is the number the attempt just counted got: every attempt is counted
    atomically *before* its password is verified, so concurrent attempts get distinct
    numbers (1, 2, 3, ...). A success clears the window, so what it holds are the
    failures and the attempts still being verified.
    """

    attempts: int
    ends_at: datetime


@dataclass(frozen=True)
class LoginThrottlePolicy:
    """Only the first ``max_failures`` attempts for one email within ``window`` of the
    first are verified; later ones are refused (429 with ``Retry-After``) until the
    window ends, unless a success cleared it first.

    The rule is `api-contract.md`'s "5 failures in 15 minutes", made exact under
    concurrency (issue 14, point 7): an attempt is counted before its password is
    verified, so 30 parallel guesses get exactly 5 verifications. It counts unknown
    emails too, so the answer never tells whether an account exists.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    def retry_after(self, counted: AttemptWindow, *, now: datetime) -> int | None:
        """Whole seconds (at least 1) until the email may try again, or ``None`` if the
        attempt ``counted`` may be verified now."""
        if counted.ends_at <= now or counted.attempts <= self.max_failures:
            return None
        return max(1, int((counted.ends_at - now).total_seconds()) + 1)


LOGIN_THROTTLE = LoginThrottlePolicy()
