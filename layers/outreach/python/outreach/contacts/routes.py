"""Contacts and opt-out routes: parse, authorize, call one service method, map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from outreach.api.deps import CallerDep
from outreach.api.pagination import PageQueryDep
from outreach.api.problems import problem_responses
from outreach.contacts.schemas import (
    IMPORT_REQUEST_BODY,
    IMPORT_TAGS_PATTERN,
    MAX_IMPORT_TAGS_LENGTH,
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


@contacts_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        described={
            409: "The phone is already a contact (`existing_id` names it), or a CSV import "
            "is running (`Retry-After`)."
        }
    ),
)
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


@contacts_router.post(
    "/import",
    openapi_extra={"requestBody": IMPORT_REQUEST_BODY},
    responses=problem_responses(
        described={
            400: "The CSV cannot be used (empty, not UTF-8, no phone column, a column "
            "twice), a tag is too long, or the form cannot be parsed.",
            409: "Another import is running for the organization (`Retry-After`).",
            413: "The CSV is larger than 10 MB.",
            415: "The body is neither `text/csv` (`application/csv`) nor `multipart/form-data`.",
            422: "`tags` is too long, or the form has no `file` part (or a part other "
            "than `file` and `tags`).",
        }
    ),
)
async def import_contacts(
    request: Request,
    caller: CallerDep,
    service: ContactServiceDep,
    tags: Annotated[
        str | None,
        Query(
            max_length=MAX_IMPORT_TAGS_LENGTH,
            json_schema_extra={"pattern": IMPORT_TAGS_PATTERN},
            description="Comma-separated tags added to every row, each at most 50 "
            "characters once stripped (422 otherwise).",
        ),
    ] = None,
) -> ImportPublic:
    """Import a CSV (UTF-8, comma/semicolon/tab), sent as the body (`text/csv`) or as the
    `file` part of a `multipart/form-data` body. Existing phones are updated; empty cells
    never erase; bad rows are reported by number (from 1) and skipped. The `state`,
    `province` or `region` column fills `state` (the first naming a US state); a cell
    naming none is reported in `errors` too, but its row is imported without it."""
    upload = await read_csv_upload(request)
    extra = import_tags(tags, upload.tags)
    return ImportPublic.of(
        await run_in_threadpool(service.import_csv, caller.org_id, upload.csv, extra)
    )


@contacts_router.get("/{contact_id}")
def get_contact(contact_id: str, caller: CallerDep, service: ContactServiceDep) -> ContactPublic:
    return ContactPublic.of(service.get(caller.org_id, contact_id))


@contacts_router.patch(
    "/{contact_id}",
    responses=problem_responses(
        described={
            409: "The new phone is another contact's, the contact changed meanwhile, or a "
            "CSV import is running (`Retry-After`)."
        }
    ),
)
def update_contact(
    contact_id: str, body: ContactUpdate, caller: CallerDep, service: ContactServiceDep
) -> ContactPublic:
    """Change any field. 409 if the new phone belongs to another contact."""
    return ContactPublic.of(service.update(caller.org_id, contact_id, body.to_domain()))


@contacts_router.delete(
    "/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(
        described={409: "A CSV import is running for the organization (`Retry-After`)."}
    ),
)
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


@opt_outs_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        status.HTTP_200_OK: {
            "model": OptOutPublic,
            "description": "The number was on the list already: its existing entry.",
        }
    },
)
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
