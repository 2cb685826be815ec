"""The pages: HTML shells that the page script fills from the REST API and refreshes."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from .api import csrf_token

bp = Blueprint("pages", __name__)
PAGES = {
    "index": "Cluster",
    "topology": "Topology",
    "component": "Component",
    "visualize": "Topology graph",
    "logviewer": "Logs",
}


def render(page: str) -> str:
    """The shell of `page`, with the refresh period and this session's anti-forgery token."""
    return render_template(
        f"{page}.html", page=page, title=PAGES[page], csrf=csrf_token(), refresh=int(current_app.config["REFRESH_SECS"])
    )


@bp.get("/")
@bp.get("/index.html")
def index() -> str:
    return render("index")


@bp.get("/topology.html")
def topology() -> str:
    return render("topology")


@bp.get("/component.html")
def component() -> str:
    return render("component")


@bp.get("/visualize.html")
def visualize() -> str:
    return render("visualize")


@bp.get("/logviewer")
def logviewer() -> str:
    return render("logviewer")
