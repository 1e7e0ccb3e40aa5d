"""TOTP against the test vectors of RFC 6238 (Appendix B) and RFC 4226 (Appendix D)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest

from feedback_core.org.totp import (
    decode_secret,
    hotp,
    new_totp_secret,
    provisioning_uri,
    totp,
    verify_totp,
)

SHA1_KEY = b"12345678901234567890"
SHA256_KEY = b"12345678901234567890123456789012"
SHA512_KEY = b"1234567890123456789012345678901234567890123456789012345678901234"

RFC6238 = [  # (Unix time, SHA-1, SHA-256, SHA-512), 8 digits
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]

RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
           "399871", "520489"]


@pytest.mark.parametrize(("seconds", "sha1", "sha256", "sha512"), RFC6238)
def test_rfc6238_vectors(seconds: int, sha1: str, sha256: str, sha512: str) -> None:
    assert totp(SHA1_KEY, seconds, digits=8) == sha1
    assert totp(SHA256_KEY, seconds, digits=8, digest="sha256") == sha256
    assert totp(SHA512_KEY, seconds, digits=8, digest="sha512") == sha512


def test_rfc6238_vector_from_a_datetime() -> None:
    at = datetime(2005, 3, 18, 1, 58, 29, tzinfo=UTC)  # 1111111109
    assert totp(SHA1_KEY, at, digits=8) == "07081804"


@pytest.mark.parametrize(("counter", "code"), enumerate(RFC4226))
def test_rfc4226_hotp_vectors(counter: int, code: str) -> None:
    assert hotp(SHA1_KEY, counter) == code


def test_verify_allows_one_step_of_clock_drift_and_no_more() -> None:
    secret = base64.b32encode(SHA1_KEY).decode()
    code = totp(SHA1_KEY, 1111111109)  # 6 digits: "081804"
    assert code == "081804"
    assert verify_totp(secret, code, 1111111109)
    assert verify_totp(secret, "081 804", 1111111109 + 30)
    assert verify_totp(secret, code, 1111111109 - 30)
    assert not verify_totp(secret, code, 1111111109 + 90)
    assert not verify_totp(secret, "000000", 1111111109)
    assert not verify_totp(secret, "08180", 1111111109)
    assert not verify_totp("not base32!", code, 1111111109)


def test_new_secrets_decode_and_lowercase_is_accepted() -> None:
    secret = new_totp_secret()
    assert len(decode_secret(secret)) == 20
    assert decode_secret(secret.lower()) == decode_secret(secret)
    assert new_totp_secret() != secret


def test_provisioning_uri_for_authenticator_apps() -> None:
    uri = urlparse(provisioning_uri("JBSWY3DPEHPK3PXP", "canbo.nhattan"))
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert uri.path == "/Ph%E1%BA%A3n%20%C3%A1nh%3Acanbo.nhattan"
    query = parse_qs(uri.query)
    assert query["secret"] == ["JBSWY3DPEHPK3PXP"] and query["issuer"] == ["Phản ánh"]
    assert query["digits"] == ["6"] and query["period"] == ["30"]
