"""Personal data never reaches the report: masked e-mail addresses and phone numbers, keyed pseudonyms,
and a retention setting."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

import settings
from reports import privacy
from reports.privacy import EMAIL_MASK, NUMBER_MASK, PHONE_MASK, mask_personal_data, pseudonym

KEY = b"0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "email",
    [
        "jean.dupont@beta.gouv.fr",
        "Marie-Hélène.Durand+bienvenue@numerique.gouv.fr",
        "x_y@sub.domaine.fr",
        "jean.dupont @ gmail.com",
    ],
)
def test_email_addresses_are_masked(email: str) -> None:
    assert mask_personal_data(f"écrivez-moi à {email}, merci") == f"écrivez-moi à {EMAIL_MASK}, merci"


@pytest.mark.parametrize(
    "phone",
    [
        "0612345678",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "01 23 45 67 89",
        "+33 6 12 34 56 78",
        "+33612345678",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
    ],
)
def test_french_phone_numbers_are_masked(phone: str) -> None:
    assert mask_personal_data(f"appelez le {phone} svp") == f"appelez le {PHONE_MASK} svp"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mon numéro de sécu 1 85 05 78 006 084 36", f"mon numéro de sécu {NUMBER_MASK}"),
        ("IBAN FR76 3000 6000 0112 3456 7890 189", f"IBAN FR{NUMBER_MASK}"),
    ],
)
def test_other_long_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Les Startups d'État existent depuis 2013, et en 2024 il y en a plus de 100.",
        "la phase de construction dure de 6 à 24 mois",
        "beta.gouv.fr c'est quoi ?",
        "le décret n° 2019-1088",
        "rendez-vous le 12/06 à 14h30",
    ],
)
def test_ordinary_text_and_small_numbers_are_kept(text: str) -> None:
    assert mask_personal_data(text) == text


def test_several_personal_data_in_one_message_are_all_masked() -> None:
    text = "moi c'est a.b@c.fr ou 0612345678, sinon x@y.org au +33 1 23 45 67 89"
    assert mask_personal_data(text) == (
        f"moi c'est {EMAIL_MASK} ou {PHONE_MASK}, sinon {EMAIL_MASK} au {PHONE_MASK}"
    )


def test_a_pseudonym_is_stable_for_a_key() -> None:
    assert pseudonym("0698765432", KEY) == pseudonym("0698765432", KEY)
    assert pseudonym("0698765432", KEY) != pseudonym("0698765433", KEY)


def test_a_pseudonym_reveals_nothing_without_the_key() -> None:
    sender = "alice.martin@example.org"
    found = pseudonym(sender, KEY)
    assert sender not in found and "alice" not in found
    # Not a plain hash that anyone could recompute from a guessed id, and different with another key.
    assert found.removeprefix("p-") not in hashlib.sha256(sender.encode()).hexdigest()
    assert found != pseudonym(sender, b"another key, another installation")


def test_the_key_comes_from_the_environment_when_set(tmp_path: Path) -> None:
    secret = "a long enough secret for tests"
    key = privacy.pseudonym_key({privacy.SECRET_ENV: secret}, tmp_path / "report-secret")
    assert key == secret.encode()
    assert not (tmp_path / "report-secret").exists()


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=privacy.SECRET_ENV):
        privacy.pseudonym_key({privacy.SECRET_ENV: "short"}, tmp_path / "report-secret")


def test_without_a_secret_a_random_key_is_created_once_and_kept_private(tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "report-secret"
    first = privacy.pseudonym_key({}, key_file)
    assert len(first) == 64  # 32 random bytes, hex
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert privacy.pseudonym_key({}, key_file) == first
    assert privacy.pseudonym_key({}, tmp_path / "elsewhere") != first


def test_retention_is_the_settings_default_unless_configured() -> None:
    default = int(settings.SETTINGS[privacy.RETENTION_ENV].default)
    assert privacy.retention_days({}) == default
    assert privacy.retention_days({privacy.RETENTION_ENV: "30"}) == 30
    assert privacy.retention_days({privacy.RETENTION_ENV: ""}) == default


@pytest.mark.parametrize("value", ["0", "-5", "trois", "1.5"])
def test_a_bad_retention_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=privacy.RETENTION_ENV):
        privacy.retention_days({privacy.RETENTION_ENV: value})


def test_the_retention_cutoff_is_that_many_days_before_now() -> None:
    assert privacy.retention_cutoff(1_000_000_000.0, 2) == 1_000_000_000.0 - 2 * 86_400
