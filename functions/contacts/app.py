"""Contacts API Lambda: contacts, CSV imports (and import jobs), the opt-out list. Wiring only."""

from outreach.api.app import create_app, lambda_handler
from outreach.contacts.routes import routers as contact_routers
from outreach.imports.routes import routers as import_routers

routers = [*contact_routers, *import_routers]
app = create_app(routers, title="Outreach contacts API")
handler = lambda_handler(app)
