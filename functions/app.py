"""Wiring only: the Chalice app, its middleware, and one blueprint per feature."""

import boto3
from chalice import Chalice
from chalicelib.api.health import health_api
from chalicelib.api.middleware import register_middleware
from chalicelib.auth.routes import auth_api
from chalicelib.connections.handlers import connections_ws
from chalicelib.follows.routes import follows_api
from chalicelib.users.routes import users_api

app = Chalice(app_name="shutter")
app.websocket_api.session = boto3.session.Session()

app.register_blueprint(health_api)
app.register_blueprint(auth_api)
app.register_blueprint(users_api)
app.register_blueprint(follows_api)
app.register_blueprint(connections_ws)
register_middleware(app)  # last: it wraps the routes registered above
