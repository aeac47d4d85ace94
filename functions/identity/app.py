"""Identity API Lambda: auth, organization, users, API keys, and health. Wiring only."""

from outreach.api.app import create_app, lambda_handler
from outreach.api.health import router as health_router
from outreach.api_keys.routes import routers as api_key_routers
from outreach.identity.routes import routers as identity_routers

routers = [health_router, *identity_routers, *api_key_routers]
app = create_app(routers, title="Outreach identity API")
handler = lambda_handler(app)
