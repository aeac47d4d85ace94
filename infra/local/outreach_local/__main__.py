"""``python -m outreach_local``: run the local stack."""

from outreach_local.server import main

main()
