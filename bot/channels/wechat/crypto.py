"""WeChat's message signatures and the AES-256-CBC envelope of compat and safe mode.

Compatible with WeChat's own WXBizMsgCrypt: the key is the 43-character EncodingAESKey plus "="
decoded from base64, the IV is its first 16 bytes, and the plaintext is 16 random bytes, the
message length as 4 bytes in network order, the message, then the appid, PKCS#7-padded to 32 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAD_BLOCK_BYTES = 32
RANDOM_PREFIX_BYTES = 16
LENGTH_BYTES = 4


class WechatCryptoError(Exception):
    """A message that does not decrypt, or was encrypted for another account."""


def _utf8(text: str) -> bytes:
    # Query values are outside input: lone surrogates must not raise, only fail to match.
    return text.encode("utf-8", "surrogatepass")


def signature(token: str, *parts: str) -> str:
    """SHA-1 of the token and the parts (timestamp, nonce, and the ciphertext in safe mode), sorted."""
    return hashlib.sha1(_utf8("".join(sorted((token, *parts))))).hexdigest()


def is_valid_signature(expected: str, token: str, *parts: str) -> bool:
    # Bytes, not str: compare_digest raises on a str with non-ASCII characters.
    return hmac.compare_digest(signature(token, *parts).encode(), _utf8(expected.lower()))


def pkcs7_pad(data: bytes, block: int = PAD_BLOCK_BYTES) -> bytes:
    amount = block - len(data) % block
    return data + bytes([amount]) * amount


def pkcs7_unpad(data: bytes, block: int = PAD_BLOCK_BYTES) -> bytes:
    amount = data[-1] if data else 0
    if not 1 <= amount <= block or data[-amount:] != bytes([amount]) * amount:
        raise WechatCryptoError("bad padding")
    return data[:-amount]


class MessageCipher:
    """Encrypts replies and decrypts callbacks for one account (appid + EncodingAESKey)."""

    def __init__(self, encoding_aes_key: str, appid: str) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as error:
            raise ValueError("EncodingAESKey is not base64") from error
        if len(key) != 32:
            raise ValueError("EncodingAESKey must decode to 32 bytes")
        self._key = key
        self._appid = appid.encode()

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, message: str, *, random_prefix: bytes | None = None) -> str:
        body = message.encode()
        prefix = random_prefix if random_prefix is not None else os.urandom(RANDOM_PREFIX_BYTES)
        plain = pkcs7_pad(prefix + struct.pack("!I", len(body)) + body + self._appid)
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        """The message inside; raises WechatCryptoError when it is damaged or for another appid."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except binascii.Error as error:
            raise WechatCryptoError("not base64") from error
        if not data or len(data) % 16:
            raise WechatCryptoError("not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = pkcs7_unpad(decryptor.update(data) + decryptor.finalize())
        header = RANDOM_PREFIX_BYTES + LENGTH_BYTES
        if len(plain) < header:
            raise WechatCryptoError("too short")
        (length,) = struct.unpack("!I", plain[RANDOM_PREFIX_BYTES:header])
        body, appid = plain[header : header + length], plain[header + length :]
        if len(body) != length or not hmac.compare_digest(appid, self._appid):
            raise WechatCryptoError("encrypted for another account")
        try:
            return body.decode()
        except UnicodeDecodeError as error:
            raise WechatCryptoError("not UTF-8") from error
