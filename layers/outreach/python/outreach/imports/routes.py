"""Import job routes (served by the contacts function): parse, authorize, call, map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, status

from outreach.api.deps import CallerDep, object_or_no_body
from outreach.api.pagination import PageQueryDep
from outreach.imports.schemas import (
    ImportCreate,
    ImportCreatedPublic,
    ImportJobPublic,
    ImportJobsPublic,
)
from outreach.imports.service import ImportService, get_import_service

ImportServiceDep = Annotated[ImportService, Depends(get_import_service)]

imports_router = APIRouter(prefix="/v1/imports", tags=["imports"])


@imports_router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=[Depends(object_or_no_body)]
)
def create_import(
    caller: CallerDep,
    service: ImportServiceDep,
    body: Annotated[ImportCreate | None, Body()] = None,
) -> ImportCreatedPublic:
    """Start an import of any size (up to 100 MiB, 250,000 rows): answers an upload form
    (an S3 presigned POST, valid 15 minutes). Post the CSV to it; the import runs when
    the file lands, by the same rules as `POST /v1/contacts/import`. Follow it with
    `GET /v1/imports/{id}`."""
    options = body or ImportCreate()
    return ImportCreatedPublic.of(
        service.create(
            caller.org_id,
            caller.user_id,
            tags=tuple(options.tags),
            phone_column=options.phone_column,
        )
    )


@imports_router.get("")
def list_imports(
    caller: CallerDep, service: ImportServiceDep, page: PageQueryDep
) -> ImportJobsPublic:
    """The organization's import jobs, newest first."""
    return ImportJobsPublic.of(
        service.list_imports(caller.org_id, limit=page.limit, cursor=page.cursor)
    )


@imports_router.get("/{import_id}")
def get_import(import_id: str, caller: CallerDep, service: ImportServiceDep) -> ImportJobPublic:
    """An import job's status and progress, its first errors and its error report."""
    return ImportJobPublic.of(service.get(caller.org_id, import_id))


routers = [imports_router]
