from chalice import Blueprint, Response

from chalicelib.api.requests import body
from chalicelib.core.lazy import lazy_module

service = lazy_module("chalicelib.auth.service")
schemas = lazy_module("chalicelib.auth.schemas")

auth_api = Blueprint(__name__)


@auth_api.route("/auth/signup", methods=["POST"])
def sign_up() -> Response:
    user = service.sign_up(body(auth_api.current_request, schemas.SignUpInput))
    return Response({"user_id": user.user_id, "username": user.username}, status_code=201)


@auth_api.route("/auth/login", methods=["POST"])
def log_in() -> dict:
    session = service.log_in(body(auth_api.current_request, schemas.LogInInput))
    return {
        "token": session.token,
        "refresh_token": session.refresh_token,
        "expires_in": session.expires_in,
        "user_id": session.user_id,
    }


@auth_api.route("/auth/refresh", methods=["POST"])
def refresh() -> dict:
    session = service.refresh(body(auth_api.current_request, schemas.RefreshInput))
    return {"token": session.token, "expires_in": session.expires_in}


@auth_api.route("/auth/confirm", methods=["POST"])
def confirm() -> dict:
    service.confirm(body(auth_api.current_request, schemas.ConfirmInput))
    return {"status": "confirmed"}
