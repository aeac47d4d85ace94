"""Contacts and opt-out routes: parse, authorize, call one service method, map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from outreach.api.auth import CallerDep
from outreach.api.pagination import (
    DEFAULT_LIMIT,
    CursorParam,
    LimitParam,
    decode_cursor,
    encode_cursor,
)
from outreach.contacts.domain import normalize_tag
from outreach.contacts.schemas import (
    ContactCreate,
    ContactList,
    ContactPublic,
    ContactUpdate,
    ImportError_,
    ImportPublic,
    OptOutCreate,
    OptOutList,
    OptOutPublic,
)
from outreach.contacts.service import ContactService, get_contact_service
from outreach.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_IMPORT_BYTES = 10 * 1024 * 1024
CSV_MEDIA_TYPES = ("text/csv", "application/csv")

ContactServiceDep = Annotated[ContactService, Depends(get_contact_service)]

contacts_router = APIRouter(prefix="/v1/contacts", tags=["contacts"])
opt_outs_router = APIRouter(prefix="/v1/opt-outs", tags=["opt-outs"])


@contacts_router.post("", status_code=status.HTTP_201_CREATED)
def create_contact(
    body: ContactCreate, caller: CallerDep, service: ContactServiceDep
) -> ContactPublic:
    """Add a contact. 409 (naming `existing_id`) if the phone is already a contact."""
    return ContactPublic.of(service.create(caller.org_id, body.changes()))


@contacts_router.get("")
def list_contacts(
    caller: CallerDep,
    service: ContactServiceDep,
    tag: Annotated[str | None, Query(max_length=200)] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> ContactList:
    """Contacts, newest first; `tag` keeps those carrying it."""
    wanted = normalize_tag(tag) if tag is not None else None
    listing = f"contacts:tag:{wanted}" if wanted is not None else "contacts"
    start = decode_cursor(cursor, org_id=caller.org_id, listing=listing)
    contacts, last = service.list_contacts(caller.org_id, tag=wanted, limit=limit, start_key=start)
    return ContactList(
        items=[ContactPublic.of(c) for c in contacts],
        next_cursor=encode_cursor(last, org_id=caller.org_id, listing=listing),
    )


@contacts_router.post("/import")
async def import_contacts(
    request: Request,
    caller: CallerDep,
    service: ContactServiceDep,
    tags: Annotated[
        str | None, Query(max_length=1000, description="Comma-separated tags added to every row.")
    ] = None,
) -> ImportPublic:
    """Import a CSV (`text/csv`, UTF-8, comma/semicolon/tab). Existing phones are updated;
    empty cells never erase; bad rows are reported by number (from 1) and skipped."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in CSV_MEDIA_TYPES:
        raise UnsupportedMediaType("Send the CSV with Content-Type: text/csv.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge("The CSV is larger than 10 MB.")
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge("The CSV is larger than 10 MB.")
    extra = tuple(t for t in (normalize_tag(x) for x in (tags or "").split(",")) if t)
    if any(len(tag) > 50 for tag in extra):
        raise BadRequest("A tag is at most 50 characters.")
    result = await run_in_threadpool(service.import_csv, caller.org_id, body, extra)
    return ImportPublic(
        created=result.created,
        updated=result.updated,
        skipped=result.skipped,
        errors=[ImportError_(row=e.row, error=e.error) for e in result.errors],
    )


@contacts_router.get("/{contact_id}")
def get_contact(contact_id: str, caller: CallerDep, service: ContactServiceDep) -> ContactPublic:
    return ContactPublic.of(service.get(caller.org_id, contact_id))


@contacts_router.patch("/{contact_id}")
def update_contact(
    contact_id: str, body: ContactUpdate, caller: CallerDep, service: ContactServiceDep
) -> ContactPublic:
    """Change any field. 409 if the new phone belongs to another contact."""
    return ContactPublic.of(service.update(caller.org_id, contact_id, body.changes()))


@contacts_router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_contact(contact_id: str, caller: CallerDep, service: ContactServiceDep) -> Response:
    service.delete(caller.org_id, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@opt_outs_router.get("")
def list_opt_outs(
    caller: CallerDep,
    service: ContactServiceDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> OptOutList:
    """Numbers the organization must not text, contacts or not."""
    start = decode_cursor(cursor, org_id=caller.org_id, listing="opt-outs")
    entries, last = service.list_opt_outs(caller.org_id, limit=limit, start_key=start)
    return OptOutList(
        items=[OptOutPublic.of(e) for e in entries],
        next_cursor=encode_cursor(last, org_id=caller.org_id, listing="opt-outs"),
    )


@opt_outs_router.post("", status_code=status.HTTP_201_CREATED)
def add_opt_out(
    body: OptOutCreate, caller: CallerDep, service: ContactServiceDep, response: Response
) -> OptOutPublic:
    """Suppress a number for the whole organization. 201 when added; 200 with the
    existing entry when it already was on the list."""
    entry, created = service.add_opt_out(caller.org_id, body.phone)
    if not created:
        response.status_code = status.HTTP_200_OK
    return OptOutPublic.of(entry)


@opt_outs_router.delete("/{phone}", status_code=status.HTTP_204_NO_CONTENT)
def remove_opt_out(phone: str, caller: CallerDep, service: ContactServiceDep) -> Response:
    """Opt the number back in. 404 if it is not on the list."""
    service.remove_opt_out(caller.org_id, phone)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


routers = [contacts_router, opt_outs_router]
