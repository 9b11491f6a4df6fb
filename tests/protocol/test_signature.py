"""Handshake signature, reference §2."""

from __future__ import annotations

import pytest

from connector.protocol import ProtocolError, SignatureError, handshake_signature, verify_handshake_signature

from .samples import CLIENT_ID, CLIENT_SECRET, HANDSHAKE_SIGNATURE, MEETING_UUID, STREAM_ID

IDS = {
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "instance_id": MEETING_UUID,
    "stream_id": STREAM_ID,
}


def test_reference_vector() -> None:
    assert handshake_signature(CLIENT_ID, CLIENT_SECRET, MEETING_UUID, STREAM_ID) == HANDSHAKE_SIGNATURE


def test_signature_is_lowercase_hex_of_64_chars() -> None:
    signature = handshake_signature("a", "b", "c", "d")
    assert len(signature) == 64
    assert signature == signature.lower()
    int(signature, 16)


@pytest.mark.parametrize(
    "fields",
    [
        # the order and the separator are part of the signature (the colon form of some docs is wrong)
        (MEETING_UUID, CLIENT_ID, STREAM_ID),
        (CLIENT_ID, STREAM_ID, MEETING_UUID),
    ],
)
def test_order_of_fields_matters(fields: tuple[str, str, str]) -> None:
    a, b, c = fields
    assert handshake_signature(a, CLIENT_SECRET, b, c) != HANDSHAKE_SIGNATURE


def test_verify_accepts_the_vector() -> None:
    verify_handshake_signature(HANDSHAKE_SIGNATURE, **IDS)  # does not raise


def test_verify_accepts_uppercase_hex() -> None:
    verify_handshake_signature(HANDSHAKE_SIGNATURE.upper(), **IDS)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "0" * 64,
        HANDSHAKE_SIGNATURE[:-1],
        HANDSHAKE_SIGNATURE + "0",
        HANDSHAKE_SIGNATURE[:-1] + "e",
        "\ud800" + HANDSHAKE_SIGNATURE[1:],  # not even encodable: still just "does not match"
    ],
)
def test_verify_rejects_a_wrong_signature(signature: str) -> None:
    with pytest.raises(SignatureError) as info:
        verify_handshake_signature(signature, **IDS)
    assert isinstance(info.value, ProtocolError)


@pytest.mark.parametrize("field", sorted(IDS))
def test_verify_rejects_other_credentials_or_ids(field: str) -> None:
    with pytest.raises(SignatureError):
        verify_handshake_signature(HANDSHAKE_SIGNATURE, **{**IDS, field: IDS[field] + "x"})
