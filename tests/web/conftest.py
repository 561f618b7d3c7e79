"""Web fixtures: an app on the per-test engine, demo-like users and cases of the small model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.models.validation import collect_files
from webapp import create_app

MODEL = Path(__file__).resolve().parent.parent / "models" / "diagnostico"
PASSWORD = "secreto-123"


@pytest.fixture
def app(engine):
    engine.deploy(collect_files([MODEL]))
    engine.create_user("eje.rm", PASSWORD, "ejecutivo_cpe", region="CL-RM", full_name="Eje RM")
    engine.create_user("eje2.rm", PASSWORD, "ejecutivo_cpe", region="CL-RM")
    engine.create_user("eje.bio", PASSWORD, "ejecutivo_cpe", region="CL-BI")
    engine.create_user("analista", PASSWORD, "analista")
    return create_app({"ENGINE": engine, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test"})


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username="eje.rm", password=PASSWORD):
        return self.client.post("/ingresar", data={"username": username, "password": password})


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def start(engine):
    def make(region="CL-RM", razon_social="Conservas del Sur SpA"):
        return engine.start("diagnostico_rapido", {"rut": "76086428-5", "razon_social": razon_social,
                                                    "region": region, "ventas_uf": 9000})
    return make


def task_ids(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'/tareas/([0-9a-f-]{36})"', html)))
