"""Identity API Lambda: auth, organization, users, API keys, webhooks, health. Wiring only."""

from outreach.api.app import create_app, lambda_handler
from outreach.api.health import router as health_router
from outreach.api_keys.routes import routers as api_key_routers
from outreach.identity.routes import routers as identity_routers
from outreach.webhooks.routes import routers as webhook_routers

routers = [health_router, *identity_routers, *api_key_routers, *webhook_routers]
app = create_app(routers, title="Outreach identity API")
handler = lambda_handler(app)
