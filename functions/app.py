"""Wiring only: the Chalice app, its middleware, one blueprint per feature, and the event
handlers (functions other than the REST API) with what triggers each."""

import boto3
from chalice import Chalice, Rate
from chalicelib.api.health import health_api
from chalicelib.api.middleware import register_middleware
from chalicelib.auth import handlers as auth_handlers
from chalicelib.auth.routes import auth_api
from chalicelib.core.config import event_source_names
from chalicelib.fanout import handlers as fanout_handlers
from chalicelib.fanout import inboxes as fanout_inboxes
from chalicelib.feed.inboxes import FEED_INBOXES
from chalicelib.feed.routes import feed_api
from chalicelib.follows.routes import follows_api
from chalicelib.media import handlers as media_handlers
from chalicelib.media.domain import UPLOADS_PREFIX
from chalicelib.media.routes import media_api
from chalicelib.messages import handlers as messages_handlers
from chalicelib.messages.routes import messages_api
from chalicelib.notifications.routes import notifications_api
from chalicelib.posts.routes import posts_api
from chalicelib.reports.routes import reports_api
from chalicelib.saved.routes import saved_api
from chalicelib.search.routes import search_api
from chalicelib.stories import handlers as story_handlers
from chalicelib.stories.inboxes import STORY_INBOXES
from chalicelib.stories.routes import stories_api
from chalicelib.streams import handlers as streams
from chalicelib.users.routes import users_api
from chalicelib.websocket import handlers as websocket

# Chalice's app.log is logging.getLogger("shutter"), the very logger Powertools writes its JSON
# through (chalicelib/core/observability.py): a handler of Chalice's own there would write every
# line a second time, as text. Chalice's own error lines go through Powertools too.
app = Chalice(app_name="shutter", configure_logs=False)
# Chalice deploys WebSocket APIs only when the app opts in to the feature.
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api.session = boto3.session.Session()

app.register_blueprint(health_api)
app.register_blueprint(auth_api)
app.register_blueprint(users_api)
app.register_blueprint(follows_api)
app.register_blueprint(media_api)
app.register_blueprint(posts_api)
app.register_blueprint(notifications_api)
app.register_blueprint(feed_api)
app.register_blueprint(messages_api)
app.register_blueprint(stories_api)
app.register_blueprint(search_api)
app.register_blueprint(saved_api)
app.register_blueprint(reports_api)
register_middleware(app)  # last: it wraps the routes registered above

# Every function but the REST API's is registered here, on the app, and Lambda finds each as
# app.<function name>, so these names must match the functions'. Lambda runs a handler
# registered on a blueprint from the blueprint's own module, never importing this file: the
# middleware would not wrap it, and Blueprint.current_app would be unset (aws/chalice#1566).
connect = app.on_ws_connect()(websocket.connect)
disconnect = app.on_ws_disconnect()(websocket.disconnect)
message = app.on_ws_message()(
    websocket.frames_to(messages_handlers.handle_frame, app.websocket_api)
)

# Read while Lambda's init registers the handlers; the rest of the settings on first use.
sources = event_source_names()
process_upload = app.on_s3_event(
    bucket=sources.media_bucket, events=["s3:ObjectCreated:*"], prefix=UPLOADS_PREFIX
)(media_handlers.process_upload)
users_stream = app.on_dynamodb_record(sources.users_stream_arn, **streams.BATCH)(
    streams.users_stream
)
follows_stream = app.on_dynamodb_record(sources.follows_stream_arn, **streams.BATCH)(
    streams.follows_stream
)
posts_stream = app.on_dynamodb_record(sources.posts_stream_arn, **streams.BATCH)(
    streams.posts_stream
)
likes_stream = app.on_dynamodb_record(sources.likes_stream_arn, **streams.BATCH)(
    streams.likes_stream
)
comments_stream = app.on_dynamodb_record(sources.comments_stream_arn, **streams.BATCH)(
    streams.comments_stream
)
stories_stream = app.on_dynamodb_record(sources.stories_stream_arn, **streams.BATCH)(
    streams.stories_stream
)
media_stream = app.on_dynamodb_record(sources.media_stream_arn, **streams.BATCH)(
    streams.media_stream
)
fanout_worker = app.on_sqs_message(queue=sources.fanout_queue, batch_size=1)(
    fanout_handlers.fanout_worker
)
# One fan-out queue for every feature: each registers its kinds of job and what they write.
fanout_inboxes.register(FEED_INBOXES)
fanout_inboxes.register(STORY_INBOXES)
sweep_stories = app.schedule(Rate(1, unit=Rate.MINUTES))(story_handlers.sweep_stories)
sweep_unconfirmed_signups = app.schedule(Rate(1, unit=Rate.HOURS))(
    auth_handlers.sweep_unconfirmed_signups
)
