"""Pages of the accounts blueprint."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)
