"""Who may do what: every write route refuses anonymous callers (401) and viewers (403);
keys are hashed and revocable; bearer tokens; closed reading."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, text

from gis_registry.db import sqlalchemy_url
from tests.api.conftest import auth

pytestmark = pytest.mark.db
WRITES = True  # a world of its own (conftest.api_db): its writes never reach other modules

# The OAuth2 token endpoint is how a caller logs in: it must accept any valid key.
NOT_WRITES = {("post", "/auth/token")}
SAMPLE_PATH_VALUES = {"collectionId": "roads", "featureId": "1", "prefix": "abcdef"}
WRITE_METHODS = ("post", "put", "patch", "delete")


def write_routes(app) -> list[tuple[str, str]]:
    routes = []
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            if method in WRITE_METHODS and (method, path) not in NOT_WRITES:
                routes.append((method, path))
    return routes


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES.get(m.group(1), "1"), path)


def test_there_are_write_routes_to_check(client):
    routes = write_routes(client.app)
    assert ("post", "/collections/{collectionId}/items") in routes
    assert ("delete", "/collections/{collectionId}/items/{featureId}") in routes
    assert ("post", "/admin/keys") in routes


def test_every_write_route_refuses_anonymous_and_viewers(client, keys):
    for method, path in write_routes(client.app):
        url = concrete(path)
        body = {"type": "Feature", "geometry": None, "properties": {}}
        anonymous = client.request(method.upper(), url, json=body)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert "www-authenticate" in anonymous.headers
        viewer = client.request(method.upper(), url, json=body, headers=auth(keys["viewer"]))
        assert viewer.status_code == 403, (method, path, viewer.text)
        assert viewer.json()["code"] == "Forbidden"


def test_admin_routes_refuse_others(client, keys):
    for path in ("/admin/users", "/admin/keys"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=auth(keys["viewer"])).status_code == 403
        assert client.get(path, headers=auth(keys["editor_pao"])).status_code == 403
        assert client.get(path, headers=auth(keys["admin"])).status_code == 200


def test_bad_credentials_are_refused_even_for_public_reads(client, keys):
    assert client.get("/collections", headers=auth("gisr_nope_nope")).status_code == 401
    assert client.get("/collections", headers=auth("rubbish")).status_code == 401
    forged = keys["viewer"][:-4] + "AAAA"
    assert client.get("/collections", headers=auth(forged)).status_code == 401
    assert client.get("/collections", headers=auth(keys["viewer"])).status_code == 200


def test_keys_are_stored_hashed(api_url, keys):
    eng = create_engine(sqlalchemy_url(api_url))
    with eng.connect() as conn:
        stored = conn.execute(text("SELECT prefix, key_hash FROM api_keys")).all()
    eng.dispose()
    secrets = {k.split("_")[2] for k in keys.values()}
    assert stored and not any(h in secrets or p in secrets for p, h in stored)


def test_admin_manages_users_and_keys(client, keys, world):
    admin = auth(keys["admin"])
    r = client.post(
        "/admin/users",
        json={"username": "somchai", "role": "editor", "local_body_id": world["sao"]},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert (
        client.post(
            "/admin/users", json={"username": "somchai", "role": "viewer"}, headers=admin
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/admin/users", json={"username": "x", "role": "god"}, headers=admin
        ).status_code
        == 400
    )
    created = client.post("/admin/keys", json={"username": "somchai"}, headers=admin).json()
    token = created["key"]
    me = client.get("/auth/me", headers=auth(token)).json()
    assert me == {"username": "somchai", "role": "editor", "local_body_id": world["sao"]}
    assert client.delete(f"/admin/keys/{created['prefix']}", headers=admin).status_code == 204
    assert client.get("/auth/me", headers=auth(token)).status_code == 401
    assert client.delete(f"/admin/keys/{created['prefix']}", headers=admin).status_code == 404


def test_oauth2_bearer_tokens(client, keys):
    r = client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_secret": keys["editor_pao"]},
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/auth/me", headers=bearer).json()["role"] == "editor"
    tampered = {"Authorization": f"Bearer {token[:-3]}abc"}
    assert client.get("/auth/me", headers=tampered).status_code == 401
    assert (
        client.post(
            "/auth/token", data={"grant_type": "client_credentials", "client_secret": "gisr_x_y"}
        ).status_code
        == 401
    )
    # an API key works as a bearer credential too
    key_bearer = {"Authorization": f"Bearer {keys['viewer']}"}
    assert client.get("/auth/me", headers=key_bearer).json()["role"] == "viewer"


def test_closed_reading(closed_client, keys):
    for path in (
        "/collections",
        "/collections/roads/items",
        "/collections/roads/items/1",
        "/tiles/roads/tilejson.json",
    ):
        r = closed_client.get(path)
        assert r.status_code == 401, path
        assert r.headers["content-type"] == "application/problem+json"
        assert closed_client.get(path, headers=auth(keys["viewer"])).status_code == 200
    assert closed_client.get("/api").status_code == 200  # the API definition stays readable


# -- revocation that revokes (issue 17, problem 5) -------------------------------------------
def new_user(client, admin: dict, username: str, keys: int = 1) -> list[dict]:
    r = client.post("/admin/users", json={"username": username, "role": "viewer"}, headers=admin)
    assert r.status_code == 201, r.text
    return [
        client.post("/admin/keys", json={"username": username}, headers=admin).json()
        for _ in range(keys)
    ]


def bearer_for(client, key: str) -> dict[str, str]:
    r = client.post("/auth/token", data={"grant_type": "client_credentials", "client_secret": key})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_token_dies_with_its_key(client, keys):
    admin = auth(keys["admin"])
    first, second = new_user(client, admin, "revoked.token", keys=2)
    doomed, kept = bearer_for(client, first["key"]), bearer_for(client, second["key"])
    assert client.get("/auth/me", headers=doomed).json()["username"] == "revoked.token"
    assert client.delete(f"/admin/keys/{first['prefix']}", headers=admin).status_code == 204
    r = client.get("/auth/me", headers=doomed)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    # the same user's other key, and the token it gave, still work
    assert client.get("/auth/me", headers=kept).status_code == 200
    assert client.get("/auth/me", headers=auth(second["key"])).status_code == 200


def test_a_token_dies_when_its_key_expires(client, keys, api_url):
    admin = auth(keys["admin"])
    (key,) = new_user(client, admin, "expired.token")
    bearer = bearer_for(client, key["key"])
    assert client.get("/auth/me", headers=bearer).status_code == 200
    eng = create_engine(sqlalchemy_url(api_url))
    with eng.begin() as conn:
        conn.execute(
            text("UPDATE api_keys SET expires_at = now() - interval '1 s' WHERE id = :id"),
            {"id": key["id"]},
        )
    eng.dispose()
    assert client.get("/auth/me", headers=bearer).status_code == 401


def test_users_disable_ends_every_key_and_token(client, keys, api_url, monkeypatch):
    from typer.testing import CliRunner

    from gis_registry.cli import app

    admin = auth(keys["admin"])
    created = new_user(client, admin, "leaver", keys=2)
    credentials = [auth(k["key"]) for k in created] + [
        bearer_for(client, k["key"]) for k in created
    ]
    for headers in credentials:
        assert client.get("/auth/me", headers=headers).status_code == 200
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", api_url)
    runner = CliRunner()
    result = runner.invoke(app, ["users", "disable", "leaver"])
    assert result.exit_code == 0, result.output
    assert "leaver" in result.output and "2 keys revoked" in result.output
    for headers in credentials:
        assert client.get("/auth/me", headers=headers).status_code == 401, headers
    # the keys are revoked for good: listed so, and enabling the user brings none back
    listed = client.get("/admin/keys", headers=admin).json()["keys"]
    assert all(k["revoked_at"] for k in listed if k["username"] == "leaver")
    assert (
        client.post(
            "/auth/token",
            data={"grant_type": "client_credentials", "client_secret": created[0]["key"]},
        ).status_code
        == 401
    )
    result = runner.invoke(app, ["users", "enable", "leaver"])
    assert result.exit_code == 0, result.output
    for headers in credentials:
        assert client.get("/auth/me", headers=headers).status_code == 401
    fresh = client.post("/admin/keys", json={"username": "leaver"}, headers=admin).json()
    assert client.get("/auth/me", headers=auth(fresh["key"])).status_code == 200
    # an unknown user: one line, exit 1
    result = runner.invoke(app, ["users", "disable", "nobody.here"])
    assert result.exit_code == 1
    assert "nobody.here" in result.output and "Traceback" not in result.output


def test_an_admin_disables_a_user_through_the_api(client, keys):
    admin = auth(keys["admin"])
    (key,) = new_user(client, admin, "api.leaver")
    bearer = bearer_for(client, key["key"])
    assert (
        client.post("/admin/users/api.leaver/disable", headers=auth(key["key"])).status_code == 403
    )
    r = client.post("/admin/users/api.leaver/disable", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"username": "api.leaver", "active": False, "keys_revoked": 1}
    for headers in (auth(key["key"]), bearer):
        assert client.get("/auth/me", headers=headers).status_code == 401
    assert client.post("/admin/users/nobody.here/disable", headers=admin).status_code == 404
    me = client.get("/auth/me", headers=admin).json()["username"]
    r = client.post(f"/admin/users/{me}/disable", headers=admin)
    assert r.status_code == 400 and r.json()["parameter"] == "username"
    assert client.get("/auth/me", headers=admin).status_code == 200
