"""Contacts and opt-out routes: parse, authorize, call one service method, map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from outreach.api.deps import CallerDep
from outreach.api.pagination import PageQueryDep
from outreach.contacts.schemas import (
    ContactCreate,
    ContactPublic,
    ContactsPublic,
    ContactUpdate,
    ImportPublic,
    OptOutCreate,
    OptOutPublic,
    OptOutsPublic,
    import_tags,
    read_csv_upload,
)
from outreach.contacts.service import ContactService, get_contact_service

ContactServiceDep = Annotated[ContactService, Depends(get_contact_service)]

contacts_router = APIRouter(prefix="/v1/contacts", tags=["contacts"])
opt_outs_router = APIRouter(prefix="/v1/opt-outs", tags=["opt-outs"])


@contacts_router.post("", status_code=status.HTTP_201_CREATED)
def create_contact(
    body: ContactCreate, caller: CallerDep, service: ContactServiceDep
) -> ContactPublic:
    """Add a contact. 409 (naming `existing_id`) if the phone is already a contact."""
    return ContactPublic.of(service.create(caller.org_id, body.to_domain()))


@contacts_router.get("")
def list_contacts(
    caller: CallerDep,
    service: ContactServiceDep,
    page: PageQueryDep,
    tag: Annotated[str | None, Query(max_length=200)] = None,
) -> ContactsPublic:
    """Contacts, newest first; `tag` keeps those carrying it."""
    return ContactsPublic.of(
        service.list_contacts(caller.org_id, tag=tag, limit=page.limit, cursor=page.cursor)
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
    empty cells never erase; bad rows are reported by number (from 1) and skipped. The
    `state`, `province` or `region` column fills `state` (the first naming a US state);
    a cell naming none is reported in `errors` too, but its row is imported without it."""
    body = await read_csv_upload(request)
    extra = import_tags(tags)
    return ImportPublic.of(await run_in_threadpool(service.import_csv, caller.org_id, body, extra))


@contacts_router.get("/{contact_id}")
def get_contact(contact_id: str, caller: CallerDep, service: ContactServiceDep) -> ContactPublic:
    return ContactPublic.of(service.get(caller.org_id, contact_id))


@contacts_router.patch("/{contact_id}")
def update_contact(
    contact_id: str, body: ContactUpdate, caller: CallerDep, service: ContactServiceDep
) -> ContactPublic:
    """Change any field. 409 if the new phone belongs to another contact."""
    return ContactPublic.of(service.update(caller.org_id, contact_id, body.to_domain()))


@contacts_router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_contact(contact_id: str, caller: CallerDep, service: ContactServiceDep) -> Response:
    service.delete(caller.org_id, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@opt_outs_router.get("")
def list_opt_outs(
    caller: CallerDep, service: ContactServiceDep, page: PageQueryDep
) -> OptOutsPublic:
    """Numbers the organization must not text, contacts or not."""
    return OptOutsPublic.of(
        service.list_opt_outs(caller.org_id, limit=page.limit, cursor=page.cursor)
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
