"""The logviewer's job on the UI's port: list, tail, page, search and download Storm's logs (logs.py confines)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, send_file

from loanrisk.problems import problem
from webkit.problems import ProblemError

from . import logs
from .problems import bad_parameter, refusal

bp = Blueprint("logviewer", __name__, url_prefix="/api/v1")


def log_roots() -> list[Path]:
    """Storm's log directory (storm.log.dir) and those of further supervisors on this host."""
    return logs.log_roots(Path(current_app.config["LOG_DIR"]))


def requested_file() -> Path:
    """The ?file= log inside Storm's log directories, or the 4xx problem saying why not."""
    found = logs.find(log_roots(), request.args.get("file", ""))
    if isinstance(found, logs.LogRefused):
        if found.status == 404:
            raise ProblemError(problem(404, found.reason))
        raise refusal(found.status, "log-refused", "Log file refused", found.reason)
    return found


def int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    """An integer query parameter within low..high, or 422."""
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if not value.lstrip("-").isdigit() or not low <= int(value) <= high:
        raise bad_parameter(name, "OUT_OF_RANGE", f"{name} must be a whole number from {low} to {high}")
    return int(value)


@bp.get("/listLogs")
def list_logs() -> Response:
    return jsonify(logs.all_logs(log_roots(), request.args.get("topoId") or None))


@bp.get("/log")
def get_log() -> Response:
    path = requested_file()
    start = int_arg("start", None, 0, 2**62)
    length = int_arg("length", logs.DEFAULT_PAGE, 1, logs.MAX_PAGE)
    return jsonify({"file": request.args["file"], **logs.read_page(path, start, length or logs.DEFAULT_PAGE)})


@bp.get("/search")
def search_log() -> Response:
    path = requested_file()
    needle = request.args.get("search-string", "")
    if not 1 <= len(needle) <= logs.MAX_NEEDLE:
        raise bad_parameter(
            "search-string", "OUT_OF_RANGE", f"search-string must have 1 to {logs.MAX_NEEDLE} characters"
        )
    matches = logs.search(path, needle, int_arg("num-matches", 20, 1, logs.MAX_MATCHES) or 20)
    return jsonify({"file": request.args["file"], "searchString": needle, "matches": matches})


@bp.get("/download")
def download_log() -> Response:
    path = requested_file()
    return send_file(
        path, mimetype="text/plain", as_attachment=True, download_name=request.args["file"].replace("/", "_")
    )
