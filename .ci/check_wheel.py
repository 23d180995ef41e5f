"""Check an installed wheel from outside the checkout: it upgrades a database and serves pages.

Run by `make package-check` with the Python of a clean venv holding only the wheel and its
dependencies, from an empty folder, so that the templates, static files and migrations can come
from nowhere but the installed package.
"""

import sys
import tempfile
from pathlib import Path

from flask_migrate import upgrade

from crm import create_app
from crm.accounts.rules import common_passwords
from crm.admin.services import seed_reference_data
from crm.extensions import db

with tempfile.TemporaryDirectory() as folder:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'crm.sqlite'}",
            "SECRET_KEY": "package-check",
        }
    )
    if "site-packages" not in app.root_path:
        sys.exit(f"crm was imported from {app.root_path}, not from the installed wheel")
    with app.app_context():
        upgrade()
        seed_reference_data(app.config["CITY"])
        db.session.commit()
        db.engine.dispose()
    client = app.test_client()
    login = client.get("/login")
    assert login.status_code == 200 and "登录" in login.get_data(as_text=True), login.status
    for asset in ("/static/css/app.css", "/static/vendor/bootstrap.min.css"):
        response = client.get(asset)
        assert response.status_code == 200 and response.content_length, asset
        response.close()
assert "5201314" in common_passwords(), "the list of common passwords is missing"
print(f"The wheel installed in {sys.prefix} upgrades a database and serves its pages.")
