"""Errors of printing: a label run or a layout that cannot be made."""

from __future__ import annotations

from gimark.core.errors import GimarkError


class RunError(GimarkError):
    """A label run could not be generated. Params: ``batch_id``, ``detail``, ``detail_zh``."""

    code = "run_failed"
    zh = "批次 {batch_id} 的印制文件未能生成：{detail_zh}"
    en = "the label run of batch {batch_id} could not be generated: {detail}"


class UnknownFormatError(RunError):
    """A run was asked for an output format it does not write. Params: ``formats``, ``known``."""

    code = "unknown_format"
    zh = "未知的输出格式：{formats}（可用的格式：{known}）"
    en = "unknown output format: {formats} (known formats: {known})"


class RunKeyMismatchError(RunError):
    """The unlocked key is not the batch's. Params: ``batch_id``, ``batch_kid``, ``kid``."""

    code = "wrong_key"
    zh = "批次 {batch_id} 须用密钥 {batch_kid} 签名，但解锁的是密钥 {kid}"
    en = "batch {batch_id} is signed with key {batch_kid}, but the unlocked key is {kid}"


class LayoutError(GimarkError):
    """A label or sheet layout that cannot be printed as asked.

    Labels off the page, QR modules too small to scan, no room for the credit code, a QR text
    too long for the label. Params: ``detail`` (English), ``detail_zh``.
    """

    code = "layout"
    zh = "标签版式无法使用：{detail_zh}"
    en = "the label layout cannot be used: {detail}"
