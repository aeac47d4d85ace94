"""``python -m outreach_local`` (``make dev``): run the local stack.

The environment is completed before the server (and with it any ``outreach``
module) is imported, as Lambda completes it before a function's code loads.
"""

from outreach_local.environment import apply_defaults

apply_defaults()

from outreach_local.server import main  # noqa: E402 - only once the environment is set

main()
