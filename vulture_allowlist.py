"""Names `make deadcode` (vulture) cannot see used: a framework reads them, our code never does.

Only entry points go here, never code nobody uses. FastAPI routes and pydantic
validators are recognised by their decorators (pyproject.toml's [tool.vulture]).
This file is read by vulture, never imported.
"""

# ruff: noqa: B018 - bare attribute reads are how vulture marks a name used
from typing import Any

_: Any = None

# pydantic reads a model's configuration.
_.model_config

# The Lambda context the runtime passes (Powertools' logger and Mangum read these); the
# local stack, `make deploy-check` and the cold-start bench give a handler the same.
_.function_version
_.invoked_function_arn
_.memory_limit_in_mb
_.aws_request_id
_.log_group_name
_.log_stream_name

# PynamoDB reads a model's Meta and an index's Meta, and the cached connection that
# outreach.data.binding drops when it rebinds the models.
_.billing_mode
_.max_retry_attempts
_.index_name
_.stream_view_type
_._connection

# PynamoDB keys given positionally (OutboxMessageModel(box, message_id)) or by to_item's
# keywords (WebhookDeliveryModel's endpoint_key).
_.box
_.endpoint_key

# Values parsed from text (Role("member")), never named in code.
_.MEMBER

# Fields of API answers, serialised by pydantic (api-contract.md), and the domain
# attributes pydantic reads them from by name (PublicModel.of: from_attributes).
_.token_type
_.organization_id
_.access_token
_.expires_in
_.encoding
_.characters
_.delivered
_.sends_today
_.error_count
_.first_message
_.audience_recipients
_.audience_segments
_.assigned_variant
_.repeat
_.effective_date
_.sources
_.created_by  # an API key's maker: stored by to_item, read by from_item and the answer

# Stored attributes no code reads back yet, kept for the record an operator reads in the
# table (docs/data-model.md): when a number was last texted.
_.last_sent_at

# PynamoDB reads a table connection's `connection` (outreach.data.binding sets the shared one).
_.connection

# Answer fields (pydantic reads them): the bulk tag change's total of skipped contacts,
# the import job's upload form's file part name.
_.skipped_count
_.file_field

# TagWrites.gone: the contacts deleted while a bulk tag change ran, named for callers
# and tests (the service drops them: nothing to write).
_.gone

# copy.deepcopy reads a class's __deepcopy__ (outreach_local.transactions sets moto's Table's).
_.__deepcopy__
# moto's BaseModel.__new__ appends to instances_tracked (outreach_local.transactions replaces it).
_.instances_tracked

# http.server calls a request handler's do_POST and log_message (bench/webhooks.py's
# receiver).
_.do_POST
_.log_message
