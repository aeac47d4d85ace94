"""Identity API Lambda: auth, organization, users, and health. Wiring only."""

from outreach.api.app import create_app, lambda_handler
from outreach.api.health import router as health_router

routers = [health_router]
app = create_app(routers, title="Outreach identity API")
handler = lambda_handler(app)
