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
    TagChange,
    TagChangePublic,
    import_tags,
    read_csv_upload,
)
from outreach.contacts.service import (
    MAX_TAG_CHANGE_IDS,
    MAX_TAG_SELECTION,
    ContactService,
    get_contact_service,
)

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
    "/tags",
    responses=problem_responses(
        described={
            409: "A CSV import is running for the organization (`Retry-After`), or some "
            "contacts kept changing meanwhile; `matched` and `changed` say what was done. "
            "Repeating the request is safe.",
            422: "No tag to add or remove, a tag both added and removed, not exactly one "
            f"of `contact_ids` and `tag`, over {MAX_TAG_CHANGE_IDS:,} `contact_ids`, or a "
            f"`tag` matching over {MAX_TAG_SELECTION:,} contacts (the problem says how "
            "many; nothing is changed).",
        }
    ),
)
def change_tags(body: TagChange, caller: CallerDep, service: ContactServiceDep) -> TagChangePublic:
    """Add and remove tags on many contacts at once: those `contact_ids` names, or every
    contact carrying `tag`. Tags are added, then removed; each contact keeps its other
    tags. (`PATCH /v1/contacts/{id}` with `tags` replaces a contact's whole list; an
    import's `?tags=` adds to each row's tags.)

    `changed` counts the contacts whose tags changed: one already as asked is left as
    it is, and one that would carry more than 20 tags is left as it is and listed in
    `skipped`. Unknown ids match nothing. A contact changed meanwhile (a PATCH) is read
    again and the change applied on top, so neither is lost; a later
    `GET /v1/contacts?tag=` lists exactly the result."""
    result = service.change_tags(
        caller.org_id,
        add=tuple(body.add),
        remove=tuple(body.remove),
        contact_ids=tuple(body.contact_ids) if body.contact_ids is not None else None,
        tag=body.tag,
    )
    return TagChangePublic.of(result)


@contacts_router.post(
    "/import",
    openapi_extra={"requestBody": IMPORT_REQUEST_BODY},
    responses=problem_responses(
        described={
            400: "The CSV cannot be used (empty, in no encoding recognised, no phone "
            "column, or a `phone_column` naming none of its headers: the problem lists "
            "them), a tag is too long, or the form cannot be parsed.",
            409: "Another import is running for the organization (`Retry-After`).",
            413: "The CSV is larger than 4 MiB (use `POST /v1/imports` for larger files).",
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
            description="Comma-separated tags added to each row's tags, each at most 50 "
            "characters once stripped (422 otherwise). An import never removes a tag: "
            "`PATCH /v1/contacts/{id}` replaces a contact's whole list, "
            "`POST /v1/contacts/tags` adds and removes on many contacts.",
        ),
    ] = None,
    phone_column: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="The header of the one column to read numbers from (matched "
            'ignoring case, spaces and punctuation: `mobile_phone` names "Mobile '
            'Phone"); the other phone columns are then kept as attributes. Without it, '
            "each row's number is the first valid one of its mobile columns, then "
            "general, work, home and other phone columns. 400 (listing the file's "
            "headers) if it names none.",
        ),
    ] = None,
) -> ImportPublic:
    """Import a CSV sent as the body (`text/csv`) or as the `file` part of a
    `multipart/form-data` body, as exported by HubSpot, Salesforce, Outlook, Google
    Contacts, Mailchimp, Constant Contact or a spreadsheet: UTF-8 (with or without a
    byte-order mark), UTF-16 with one, or a code page such as Windows-1252 (detected;
    `encoding` says which was read); comma, semicolon or tab delimited, or as Excel's
    `sep=` first line says. Headers are matched ignoring case, spaces, punctuation and
    numbering (`Phone 1 - Value`, `E-mail Address`, `Given Name`); several phone columns
    are fine (see `phone_column`), and so is a field named twice (the first good cell
    wins; the others are kept as attributes). `Tags`, `Labels`, `Groups` and `Categories`
    columns add tags (split on `,` `;` `|` and Google's ` ::: `). Other columns are
    stored as attributes under normalised keys (`Contact owner` -> `contact_owner`).

    Existing phones are updated; empty cells never erase; tags (the file's and `tags`)
    are added to a contact's own. A row without a valid number (or with non-empty cells
    beyond the header's columns) is reported in `errors` by number (from 1) and skipped;
    a bad optional cell (an email, a time zone, a `state` naming no US state, a value too
    long) is left out, its row imported, and reported in `warnings`. The `state`,
    `province` or `region` columns fill `state` (the first naming a US state)."""
    upload = await read_csv_upload(request)
    extra = import_tags(tags, upload.tags)
    return ImportPublic.of(
        await run_in_threadpool(service.import_csv, caller.org_id, upload.csv, extra, phone_column)
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
    """Change any field. `tags` and `attributes` replace the stored ones whole (to add or
    remove some tags, use `POST /v1/contacts/tags`). 409 if the new phone belongs to
    another contact."""
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
