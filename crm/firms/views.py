"""Pages of the firms blueprint."""

from flask import Blueprint

bp = Blueprint("firms", __name__)
