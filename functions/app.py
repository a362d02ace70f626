"""Wiring only: the Chalice app, its middleware, and one blueprint per feature."""

import boto3
from chalice import Chalice
from chalicelib.api.health import health_api
from chalicelib.api.middleware import register_middleware
from chalicelib.auth.routes import auth_api
from chalicelib.connections import handlers as websocket
from chalicelib.feed.handlers import feed_jobs
from chalicelib.feed.routes import feed_api
from chalicelib.follows.routes import follows_api
from chalicelib.media.handlers import media_events
from chalicelib.media.routes import media_api
from chalicelib.messages.routes import messages_api
from chalicelib.notifications.routes import notifications_api
from chalicelib.posts.routes import posts_api
from chalicelib.stories.handlers import stories_jobs
from chalicelib.stories.routes import stories_api
from chalicelib.streams.handlers import stream_handlers
from chalicelib.users.routes import users_api

app = Chalice(app_name="shutter")
app.websocket_api.session = boto3.session.Session()

app.register_blueprint(health_api)
app.register_blueprint(auth_api)
app.register_blueprint(users_api)
app.register_blueprint(follows_api)
app.register_blueprint(media_api)
app.register_blueprint(media_events)
app.register_blueprint(posts_api)
app.register_blueprint(stream_handlers)
app.register_blueprint(notifications_api)
app.register_blueprint(feed_api)
app.register_blueprint(feed_jobs)
app.register_blueprint(messages_api)
app.register_blueprint(stories_api)
app.register_blueprint(stories_jobs)
register_middleware(app)  # last: it wraps the routes registered above

# Lambda finds each handler as app.<function name>, so these names must match the functions'.
connect = app.on_ws_connect()(websocket.connect)
disconnect = app.on_ws_disconnect()(websocket.disconnect)
message = app.on_ws_message()(websocket.message)
