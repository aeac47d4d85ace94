"""Conversations API Lambda: the inbox, a conversation's messages, read marks and manual
texts. Wiring only."""

from outreach.api.app import create_app, lambda_handler
from outreach.conversations.routes import routers

app = create_app(routers, title="Outreach conversations API")
handler = lambda_handler(app)
