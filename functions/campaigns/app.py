"""Campaigns API Lambda: authoring, preview, lifecycle, statistics and sends. Wiring only."""

from outreach.api.app import create_app, lambda_handler
from outreach.campaigns.routes import routers

app = create_app(routers, title="Outreach campaigns API")
handler = lambda_handler(app)
