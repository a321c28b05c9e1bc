"""Sample apps the source-deploy tests push.

``plain_app``: no dependencies and no buildpack, only a Procfile: a standard-library web
server (run by the host's ``python3``) that answers with its text, user id and the
environment variables the test asks about. ``flask_app``: a Flask app with a
``requirements.txt`` (flask, gunicorn), built by the python buildpack.
"""

from __future__ import annotations

PLAIN_WEB = r"""
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TEXT = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "text.txt")).read()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({
            "text": TEXT.strip(),
            "uid": os.getuid(),
            "source_version": os.environ.get("SOURCE_VERSION", ""),
            "from_profile": os.environ.get("FROM_PROFILE", ""),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""

FLASK_APP = """
import os
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return f"{open('text.txt').read().strip()} uid={os.getuid()}"
"""


def plain_app(text: str = "one") -> dict[str, str]:
    return {"web.py": PLAIN_WEB, "text.txt": text + "\n", "Procfile": "web: python3 web.py\n"}


def flask_app(text: str = "flask one") -> dict[str, str]:
    return {
        "app.py": FLASK_APP,
        "text.txt": text + "\n",
        "requirements.txt": "flask\ngunicorn\n",
        "Procfile": "web: gunicorn app:app --workers 1\n",
    }
