"""The pages: log in, label, dashboard. Without a session every page answers 401 with the
login form; the pages' scripts do the rest through the JSON API."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from labeler.selection.strategies import list_default_learner_strategies
from server.auth import User, find_user, get_csrf_token, log_in
from server.errors import ApiError
from server.state import get_state

bp = Blueprint("pages", __name__)


@bp.get("/")
def label_page() -> BaseResponse | tuple[str, int] | str:
    user = _find_page_user()
    if user is None:
        return _login_form(401)
    state = get_state()
    return render_template(
        "label.html",
        user=user,
        class_names=state.project.class_names,
        grid_enabled=state.store.get_grid_settings().enabled,
        csrf_token=get_csrf_token(),
        project_name=state.project.path.name,
    )


@bp.get("/dashboard")
def dashboard_page() -> tuple[str, int] | str:
    user = _find_page_user()
    if user is None:
        return _login_form(401)
    state = get_state()
    return render_template(
        "dashboard.html",
        user=user,
        csrf_token=get_csrf_token(),
        project_name=state.project.path.name,
        strategies=list_default_learner_strategies(),
    )


@bp.get("/login")
def login_form() -> tuple[str, int]:
    return _login_form(401 if _find_page_user() is None else 200)


@bp.post("/login")
def login() -> BaseResponse | tuple[str, int]:
    token = request.form.get("token", "")
    try:
        log_in(token)
    except ApiError as error:
        return _login_form(error.status, error=error.message)
    return redirect(url_for("pages.label_page"), code=303)


@bp.post("/logout")
def logout() -> Response | BaseResponse:
    session.clear()
    return redirect(url_for("pages.login_form"), code=303)


def _find_page_user() -> User | None:
    try:
        return find_user()
    except ApiError:
        return None


def _login_form(status: int, *, error: str | None = None) -> tuple[str, int]:
    return render_template("login.html", error=error), status
