"""Campaigns API Lambda: authoring, preview, lifecycle, statistics and sends, and the
conversations they start (the inbox). Wiring only."""

from outreach.api.app import create_app, lambda_handler
from outreach.campaigns.routes import routers as campaign_routers
from outreach.conversations.routes import routers as conversation_routers

routers = [*campaign_routers, *conversation_routers]
app = create_app(routers, title="Outreach campaigns API")
handler = lambda_handler(app)
