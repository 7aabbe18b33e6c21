"""Errors of issuing: reading a code or a typed serial, and a batch's life.

Every message is written for the person holding the package: it says what is wrong with
what they scanned or typed, not what the program was doing.
"""

from __future__ import annotations

from typing import ClassVar

from gimark.core.errors import GimarkError


class CodeError(GimarkError):
    """Base of the errors raised while reading a code or a printed serial."""

    code = "malformed"
    zh = "无法识别此码"
    en = "this code cannot be read"


class NotOursError(CodeError):
    """The text is not a gimark code at all (another site's QR, a web address, random text)."""

    code = "not_ours"
    zh = "这不是本平台签发的地理标志专用标志码"
    en = "this is not a geographical-indication label code issued by this service"


class MalformedCodeError(CodeError):
    """The text is addressed to us but the code in it is damaged or incomplete.

    Constructed with ``detail`` (English) and ``detail_zh`` saying what is wrong.
    """

    code = "malformed"
    zh = "此码无法识别，可能已损坏或不完整：{detail_zh}"
    en = "this code cannot be read; it may be damaged or incomplete: {detail}"


class UnsupportedVersionError(MalformedCodeError):
    """The code is of a format version this service does not know. Param: ``version``."""

    code = "unsupported_version"
    zh = "此码的格式版本（{version}）本平台无法识别"
    en = "this code uses a format version ({version}) this service does not know"


class BadSignatureError(CodeError):
    """The code's signature does not match its content: forged or altered."""

    code = "bad_signature"
    zh = "此码的签名校验失败：码可能被伪造或篡改"
    en = "this code's signature does not check out: the code may be forged or altered"


class SerialRangeError(CodeError):
    """A serial number outside 1 … 2**48 − 1 was given to sign or print. Param: ``serial``."""

    code = "serial_out_of_range"
    zh = "序列号 {serial} 超出范围（应为 1 至 2^48−1）"
    en = "serial number {serial} is out of range (it must be from 1 to 2^48−1)"


class BadSerialError(CodeError):
    """A typed serial is wrong. The subclasses say how; ``reason`` names it for apps."""

    code = "malformed"
    reason: ClassVar[str] = "serial"
    zh = "序列号有误，请与标签核对"
    en = "the serial number is wrong; please compare it with the label"


class SerialLengthError(BadSerialError):
    """A typed serial has the wrong number of characters. Param: ``count``."""

    reason = "length"
    zh = "序列号应为 11 位（不计连字符和空格），输入的是 {count} 位"
    en = "a serial number has 11 characters (not counting hyphens and spaces); this one has {count}"


class SerialCharacterError(BadSerialError):
    """A typed serial holds a character serials never use. Params: ``position``, ``char``."""

    reason = "character"
    zh = "第 {position} 位的字符「{char}」不会出现在序列号中，请与标签核对"
    en = (
        "character {position} ({char!r}) never appears in a serial number; "
        "please compare it with the label"
    )


class SerialCheckError(BadSerialError):
    """The check character does not match the rest: almost certainly a typo."""

    reason = "check"
    zh = "校验失败：序列号可能输错了，请与标签核对"
    en = "check failed: probably a typo; please compare the serial number with the label"


# --- batches: requesting, approving, printing, voiding and delivering label batches ----------


class BatchError(GimarkError):
    """Base of the errors raised by batch operations (requests, approvals, the ledger)."""

    code = "batch_error"
    zh = "标签批次操作失败"
    en = "the label batch operation failed"
    http_status = 409


class InvalidQuantityError(BatchError):
    """A batch must hold 1 … the configured maximum labels. Params: ``quantity``, ``limit``."""

    code = "invalid_quantity"
    zh = "申请数量 {quantity} 无效：应为 1 至 {limit} 枚"
    en = "quantity {quantity} is not valid: a batch holds from 1 to {limit} labels"
    http_status = 400


class BatchStateError(BatchError):
    """The batch's status does not allow the operation (approving twice, voiding a delivered
    batch …). Params: ``id``, ``status``, ``status_zh``, ``action``, ``action_zh``, ``allowed``,
    ``allowed_zh``."""

    code = "batch_state"
    zh = "批次 {id} 当前状态为“{status_zh}”，不能{action_zh}（仅限{allowed_zh}的批次）"
    en = "batch {id} is {status} and cannot be {action} (only a batch that is {allowed} can)"


class BatchNotPrintableError(BatchStateError):
    """A label run cannot be generated for the batch. Params: ``id``, ``status``,
    ``status_zh``, ``why``, ``why_zh``."""

    code = "batch_not_printable"
    zh = "批次 {id} 当前状态为“{status_zh}”，不能生成标签：{why_zh}"
    en = "batch {id} is {status}; no label run can be generated: {why}"


class PrinterNotActiveError(BatchError):
    """Only an active printer can be assigned a batch. Params: ``id``, ``status``, ``status_zh``."""

    code = "printer_not_active"
    zh = "印制企业 {id} 当前状态为“{status_zh}”，不能承印批次"
    en = "printer {id} is {status} and cannot be assigned a batch"


class SerialsExhaustedError(BatchError):
    """The serial space (1 … 2**48 − 1) cannot hold the batch. Params: ``quantity``, ``left``."""

    code = "serials_exhausted"
    zh = "序列号空间不足：需要 {quantity} 个，仅剩 {left} 个"
    en = "not enough serial numbers left: {quantity} needed, {left} left"
    http_status = 507


class SerialSpecError(BatchError):
    """A serial given on the command line is neither a printed serial, a number nor a range
    ``A..B``. Params: ``text``, ``detail``, ``detail_zh``."""

    code = "bad_serial_spec"
    zh = "“{text}”不是有效的序列号或序列号范围（A..B）：{detail_zh}"
    en = "{text!r} is not a serial number or a range of them (A..B): {detail}"
    http_status = 400


class SerialNotInBatchError(BatchError):
    """A serial to void is outside the batch's range and was never issued. Params: ``id``,
    ``serial``, ``first``, ``last`` (printed forms)."""

    code = "serial_not_in_batch"
    zh = "序列号 {serial} 不属于批次 {id}（该批次为 {first} 至 {last}），也未签发给其他批次"
    en = (
        "serial {serial} is not in batch {id} (which holds {first} to {last}) "
        "and was never issued to any batch"
    )


class SerialOfAnotherBatchError(SerialNotInBatchError):
    """A serial to void belongs to another batch. Params: ``id``, ``serial``, ``first``,
    ``last``, ``other``."""

    code = "serial_of_another_batch"
    zh = "序列号 {serial} 属于批次 {other}，不属于批次 {id}（该批次为 {first} 至 {last}）"
    en = (
        "serial {serial} belongs to batch {other}, "
        "not to batch {id} (which holds {first} to {last})"
    )


class InvalidRangeError(BatchError):
    """A range whose start is after its end. Params: ``first``, ``last``."""

    code = "invalid_range"
    zh = "序列号范围 {first}..{last} 无效：起点在终点之后"
    en = "serial range {first}..{last} is not valid: it starts after it ends"
    http_status = 400


class AlreadyVoidedError(BatchError):
    """Some serials to void are voided already: the ledger would count them twice. Params:
    ``id``, ``first``, ``last`` (the overlap, printed forms), ``when``, ``actor``."""

    code = "already_voided"
    zh = "批次 {id} 的序列号 {first} 至 {last} 已于 {when} 由 {actor} 作废，不能重复作废"
    en = (
        "serials {first} to {last} of batch {id} were already voided at {when} by {actor}; "
        "they cannot be voided twice"
    )


class DuplicateVoidError(BatchError):
    """The same serials are listed twice in one request. Params: ``first``, ``last``."""

    code = "duplicate_void"
    zh = "序列号 {first} 至 {last} 在本次作废中重复列出"
    en = "serials {first} to {last} are listed more than once"
    http_status = 400


class LedgerImbalanceError(BatchError):
    """The printer's delivered count does not balance the ledger. Params: ``id``,
    ``ordered``, ``voided``, ``expected``, ``delivered``."""

    code = "ledger_imbalance"
    zh = (
        "批次 {id} 台账不平：订印 {ordered} 枚、作废 {voided} 枚，应交付 {expected} 枚，"
        "报告交付 {delivered} 枚；请先作废损耗的标签或核对数量"
    )
    en = (
        "batch {id} does not balance: {ordered} ordered and {voided} voided, so {expected} "
        "must be delivered, but {delivered} were reported; void the spoiled labels or recount"
    )
