"""Reading firectl's ``~/.fireworks/auth.ini``: its lines, its profiles, and its place after flags and environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwbatch_async.cli.authfile import Credentials, complete_credentials, parse_credentials, read_credentials


@pytest.mark.parametrize(
    ("text", "credentials"),
    [
        ("api_key = fw_1\naccount_id = acme\n", Credentials("fw_1", "acme")),
        ("api_key=fw_1", Credentials("fw_1", None)),
        ("# firectl\n; comment\n\n[fireworks]\naccount_id = 'acme'\n", Credentials(None, "acme")),
        ('api_key = "fw = 1"\nid_token = x\nrefresh_token = y\n', Credentials("fw = 1", None)),
        ("api_key =\naccount_id = acme\n", Credentials(None, "acme")),
        ("", Credentials()),
    ],
)
def test_auth_ini_is_key_value_lines(text: str, credentials: Credentials) -> None:
    assert parse_credentials(text) == credentials


def test_auth_ini_of_a_profile_and_its_absence(tmp_path: Path) -> None:
    assert read_credentials(tmp_path, None) == Credentials()  # no file: nothing, no error
    profile = tmp_path / ".fireworks" / "profiles" / "staging" / "auth.ini"
    profile.parent.mkdir(parents=True)
    profile.write_text("api_key = fw_staging\n")
    assert read_credentials(tmp_path, "staging") == Credentials("fw_staging", None)
    with pytest.raises(ValueError, match="--profile prod: no such profile"):
        read_credentials(tmp_path, "prod")
    with pytest.raises(ValueError, match="not a profile name"):
        read_credentials(tmp_path, "../staging")


def test_flags_and_environment_come_before_the_file(tmp_path: Path) -> None:
    (tmp_path / ".fireworks").mkdir()
    (tmp_path / ".fireworks" / "auth.ini").write_text("api_key = fw_file\naccount_id = file-account\n")
    given = Credentials("fw_flag", None)
    assert complete_credentials(given, profile=None, home=tmp_path) == Credentials("fw_flag", "file-account")
    assert complete_credentials(Credentials(), profile=None, home=tmp_path) == Credentials("fw_file", "file-account")
    with pytest.raises(ValueError, match="no such profile"):  # named, so it must exist, even with nothing missing
        complete_credentials(Credentials("k", "a"), profile="gone", home=tmp_path)
