"""API keys from the command line: the secret is printed once, works, and stops working when
revoked."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.factories import headers


def weaponsdb(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from weaponsdb.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "WEAPONSDB_DATABASE_URL": database_url},
        check=False,
    )


def test_create_use_list_and_revoke_a_key(database_url, seeded_client):
    created = weaponsdb(database_url, "keys", "create", "alice", "--role", "editor")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("wdb_")
    assert len(secret) > 40
    change = {"family": "Synthetic family"}
    response = seeded_client.patch("/v1/entries/f-7", json=change, headers=headers(secret, 1))
    assert response.status_code == 200, response.text

    listed = weaponsdb(database_url, "keys", "list")
    assert "alice" in listed.stdout
    assert "editor" in listed.stdout
    assert secret not in listed.stdout

    duplicate = weaponsdb(database_url, "keys", "create", "alice", "--role", "admin")
    assert duplicate.returncode == 1
    assert "exists" in duplicate.stderr

    revoked = weaponsdb(database_url, "keys", "revoke", "alice")
    assert revoked.returncode == 0, revoked.stderr
    response = seeded_client.patch("/v1/entries/f-7", json=change, headers=headers(secret, 2))
    assert response.status_code == 403
    assert "revoked" in response.json()["detail"]

    unknown = weaponsdb(database_url, "keys", "revoke", "nobody")
    assert unknown.returncode == 1
    bad_role = weaponsdb(database_url, "keys", "create", "bob", "--role", "owner")
    assert bad_role.returncode != 0
