"""Contacts API Lambda: contacts, CSV import and the opt-out list. Wiring only."""

from outreach.api.app import create_app, lambda_handler
from outreach.contacts.routes import routers

app = create_app(routers, title="Outreach contacts API")
handler = lambda_handler(app)
