"""Message crypto against an independent implementation, and the XML guard."""

from __future__ import annotations

import pytest

from bot.channels.wechat.crypto import (
    MessageCipher,
    WechatCryptoError,
    is_valid_signature,
    signature,
)
from bot.channels.wechat.xml import MAX_BODY_BYTES, UnsafeXmlError, build, parse_fields
from tests.fake_wechat import AES_KEY, APPID, TOKEN, WechatPlatform, sha1_signature


def test_signature_is_sha1_of_the_sorted_parts() -> None:
    assert signature(TOKEN, "1700000000", "nonce") == sha1_signature(TOKEN, "1700000000", "nonce")
    assert is_valid_signature(signature(TOKEN, "1", "2"), TOKEN, "1", "2")
    assert not is_valid_signature(signature(TOKEN, "1", "2"), TOKEN, "1", "3")


def test_what_wechat_encrypts_we_decrypt_and_back() -> None:
    platform = WechatPlatform(http=None)  # type: ignore[arg-type]  # only its crypto is used
    cipher = MessageCipher(AES_KEY, APPID)
    assert cipher.decrypt(platform._encrypt("<xml>你好 ]]></xml>")) == "<xml>你好 ]]></xml>"
    assert platform._decrypt(cipher.encrypt("回复 1 查看原文")) == "回复 1 查看原文"


def test_padding_fills_to_32_bytes() -> None:
    cipher = MessageCipher(AES_KEY, APPID)
    for length in (0, 1, 11, 12, 13, 44):
        sealed = cipher.encrypt("a" * length)
        assert cipher.decrypt(sealed) == "a" * length


@pytest.mark.parametrize("damage", ["not-base64!!", "QUJD", ""])
def test_damaged_ciphertext_is_refused(damage: str) -> None:
    with pytest.raises(WechatCryptoError):
        MessageCipher(AES_KEY, APPID).decrypt(damage)


def test_a_message_for_another_appid_is_refused() -> None:
    sealed = MessageCipher(AES_KEY, "wxOtherAccount0000").encrypt("hello")
    with pytest.raises(WechatCryptoError):
        MessageCipher(AES_KEY, APPID).decrypt(sealed)


def test_cdata_end_marker_survives_a_round_trip() -> None:
    fields = parse_fields(build({"Content": "a]]>b<c>&d", "CreateTime": 5}).encode())
    assert fields == {"Content": "a]]>b<c>&d", "CreateTime": "5"}


@pytest.mark.parametrize(
    "body",
    [
        b'<!DOCTYPE xml [<!ENTITY a "b">]><xml><A>&a;</A></xml>',
        b'<!DOCTYPE xml SYSTEM "file:///etc/passwd"><xml><A>x</A></xml>',
        b"<xml><A>&undefined;</A></xml>",
        b"<?xml-stylesheet href='x'?><xml><A>x</A></xml>",
        b"<other><A>x</A></other>",
        b"<xml><A>x</A>",
        b"<xml>" + b"a" * MAX_BODY_BYTES + b"</xml>",
    ],
    ids=["entity", "external", "undefined-entity", "pi", "root", "broken", "large"],
)
def test_unsafe_or_foreign_xml_is_refused(body: bytes) -> None:
    with pytest.raises(UnsafeXmlError):
        parse_fields(body)


def test_a_declaration_line_is_allowed() -> None:
    assert parse_fields(b'<?xml version="1.0"?><xml><A><![CDATA[x]]></A></xml>') == {"A": "x"}
