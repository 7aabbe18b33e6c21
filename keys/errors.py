"""Errors of the signing-key domain."""

from __future__ import annotations

from gimark.core.errors import GimarkError


class KeyringError(GimarkError):
    """Base of key errors ."""

    code = "key_error"


class UnknownKeyError(KeyringError):
    """A code names a key id that no known issuer key has."""

    code = "unknown_key"
    zh = "签名密钥 {kid} 未知：此码不是由已知的签发方签发的"
    en = "signing key {kid} is unknown: this code was not issued by a known issuer"


class KeyNotUsableError(KeyringError):
    """A key cannot sign in its current state (retired, compromised, public-only)."""

    code = "key_not_usable"
    zh = "密钥 {kid} 当前状态为 {status}，不能用于签名"
    en = "key {kid} is {status} and cannot sign"
    http_status = 409


class NoActiveKeyError(KeyringError):
    """There is no active issuer key to sign with."""

    code = "no_active_key"
    zh = "没有可用的签发密钥；请先运行 gimark keys create"
    en = "there is no active issuer key; run `gimark keys create` first"
    http_status = 409
    exit_status = 78


class WrongPassphraseError(KeyringError):
    """The passphrase does not decrypt the private key file."""

    code = "wrong_passphrase"
    zh = "密钥口令错误，无法解密密钥 {kid}"
    en = "wrong passphrase: cannot decrypt key {kid}"
    exit_status = 77  # EX_NOPERM


class MissingPassphraseError(KeyringError):
    """No passphrase was given and none can be asked for."""

    code = "missing_passphrase"
    zh = "需要密钥口令：请设置 GIMARK_KEY_PASSPHRASE"
    en = "a key passphrase is needed: set GIMARK_KEY_PASSPHRASE"
    exit_status = 77


class KeyFileError(KeyringError):
    """The private key file is missing, unreadable or not an Ed25519 key."""

    code = "key_file"
    zh = "密钥文件 {path} 无法使用：{detail}"
    en = "key file {path} cannot be used: {detail}"
    exit_status = 74  # EX_IOERR


class JwksError(KeyringError):
    """An imported or downloaded key set is not a valid Ed25519 JWKS."""

    code = "bad_jwks"
    zh = "公钥集无效：{detail}"
    en = "invalid key set: {detail}"


class ActiveKeyExistsError(KeyringError):
    """A second active key was asked for; rotation is the way to replace one."""

    code = "active_key_exists"
    zh = "已有启用中的签发密钥 {kid}；如需更换请使用 gimark keys rotate"
    en = "an active issuer key exists already ({kid}); use `gimark keys rotate` to replace it"
    http_status = 409
