"""统一社会信用代码 (unified social credit code) validation per GB 32100-2015.

A code has 18 characters from a 31-symbol alphabet (digits and capital letters without I, O,
Z, S, V, which are too easily misread):

=========  =========================================================
position   meaning
=========  =========================================================
1          registration authority (登记管理部门代码)
2          organization type within that authority (机构类别代码)
3–8        registering authority's region, GB/T 2260 (登记管理机关行政区划码)
9–17       organization code, GB 11714 (主体标识码)
18         check character over positions 1–17 (校验码)
=========  =========================================================
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final, NamedTuple

from gimark.trace.errors import InvalidCreditCodeError, InvalidRegionError
from gimark.trace.regions import validate_region_code

__all__ = ["ALPHABET", "Uscc", "check_character", "validate_uscc"]

ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE: Final = {char: value for value, char in enumerate(ALPHABET)}
# W_i = 3^(i-1) mod 31: 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28. Every
# weight is non-zero modulo the prime 31, so any single wrong character changes the check.
_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))

# Positions 3–8 of codes issued by national-level registrars (e.g. universities run by the
# Ministry of Education, national associations registered with the Ministry of Civil Affairs)
# hold 100000, "the nation", which GB 32100 allows but GB/T 2260 does not list.
_NATIONAL_REGION: Final = "100000"

_ANY_TYPE: Final = frozenset(ALPHABET)
_LENGTH: Final = 18
_DISPLAY_LIMIT: Final = 40  # characters of the input echoed back in a message


class _Authority(NamedTuple):
    name_zh: str
    name_en: str
    org_types: frozenset[str]


# GB 32100-2015 appendix A: the registration authorities and, for each, its organization types.
# B–H are not in the table as published; they are accepted with any type so that codes from
# authorities assigned since are not refused (the check character still catches typing errors).
_AUTHORITIES: Final[dict[str, _Authority]] = {
    "1": _Authority("机构编制", "public-sector staffing", frozenset("1239")),
    "2": _Authority("外交", "foreign affairs", frozenset("19")),
    "3": _Authority("司法行政", "justice administration", frozenset("123459")),
    "4": _Authority("文化", "culture", frozenset("19")),
    "5": _Authority("民政", "civil affairs", frozenset("1239")),
    "6": _Authority("旅游", "tourism", frozenset("129")),
    "7": _Authority("宗教", "religious affairs", frozenset("129")),
    "8": _Authority("工会", "trade unions", frozenset("19")),
    # The standard names 工商; market regulation (SAMR) took over the registers in 2018.
    "9": _Authority("工商", "market regulation", frozenset("123")),
    "A": _Authority("中央军委改革和编制办公室", "CMC reform and staffing office", frozenset("19")),
    **{
        letter: _Authority(f"登记管理部门{letter}", f"authority {letter}", _ANY_TYPE)
        for letter in "BCDEFGH"
    },
    "N": _Authority("农业", "agriculture", frozenset("1239")),
    "Y": _Authority("其他", "other", frozenset("1")),
}


@dataclass(frozen=True)
class Uscc:
    """A valid unified social credit code and its parts (each a slice of ``code``)."""

    code: str  # normalized: 18 upper-case ASCII characters
    registration_authority: str  # position 1
    org_type: str  # position 2
    region_code: str  # positions 3–8
    org_code: str  # positions 9–17


def validate_uscc(text: str) -> Uscc:
    """Check a 统一社会信用代码 against GB 32100-2015 and split it into its parts.

    Spaces are removed, full-width characters folded (NFKC) and letters upper-cased first,
    since codes are often copied from documents typed with a Chinese input method.

    Raises:
        InvalidCreditCodeError: the code breaks a rule; the message names the rule and,
            where there is one, the position at fault.
    """
    code = _normalize(text)
    # 1. Length.
    if len(code) != _LENGTH:
        raise _invalid(
            code,
            f"长度应为18位，实为{len(code)}位",
            f"it must be 18 characters long, got {len(code)}",
        )
    # 2. Characters: the alphabet everywhere, digits only in the region part.
    _check_characters(code)
    # 3. Registration authority and the organization types it may assign.
    authority = _AUTHORITIES.get(code[0])
    if authority is None:
        raise _invalid(
            code,
            f"第1位登记管理部门代码“{code[0]}”不存在",
            f"'{code[0]}' at position 1 is not a registration authority code",
        )
    if code[1] not in authority.org_types:
        allowed = "、".join(sorted(authority.org_types))
        raise _invalid(
            code,
            f"第2位机构类别代码“{code[1]}”不属于登记管理部门“{code[0]}”（{authority.name_zh}），"
            f"应为 {allowed} 之一",
            f"organization type '{code[1]}' (position 2) is not valid for registration "
            f"authority '{code[0]}' ({authority.name_en}); expected one of "
            f"{', '.join(sorted(authority.org_types))}",
        )
    # 4. Region: only the province is checked, because the county table is partial and
    # counties are renumbered while the codes issued under the old number stay valid.
    region = code[2:8]
    if region != _NATIONAL_REGION:
        try:
            validate_region_code(region)
        except InvalidRegionError as exc:
            raise _invalid(
                code,
                f"第3–8位行政区划码“{region}”不是有效的 GB/T 2260 代码"
                f"（{exc.params['reason_zh']}）",
                f"the region code '{region}' (positions 3–8) is not a valid GB/T 2260 code "
                f"({exc.params['reason']})",
            ) from exc
    # 5. Check character. The GB 11714 check inside the organization code (position 17) is
    # deliberately not verified: organization codes were assigned under several schemes over
    # decades and some registered codes do not satisfy it, while a typing error anywhere is
    # already caught here.
    expected = _check(code[:17])
    if code[17] != expected:
        raise _invalid(
            code,
            f"第18位校验码应为 {expected}，实为 {code[17]}",
            f"check character (position 18) should be {expected}, found {code[17]}",
        )
    return Uscc(
        code=code,
        registration_authority=code[0],
        org_type=code[1],
        region_code=region,
        org_code=code[8:17],
    )


def check_character(first17: str) -> str:
    """The GB 32100-2015 check character (position 18) for the first 17 characters of a code.

    The input is normalized as in :func:`validate_uscc`; only the alphabet is checked, not the
    meaning of the positions, so this also serves to make test codes.

    Raises:
        InvalidCreditCodeError: the input is not 17 characters of the code alphabet.
    """
    prefix = _normalize(first17)
    if len(prefix) != _LENGTH - 1:
        raise _invalid(
            prefix,
            f"计算校验码需要前17位，实为{len(prefix)}位",
            f"the check character needs the first 17 characters, got {len(prefix)}",
        )
    for position, char in enumerate(prefix, start=1):
        if char not in _VALUE:
            raise _bad_character(prefix, position, char, digits_only=False)
    return _check(prefix)


def _normalize(text: str) -> str:
    # NFKC before removing whitespace: it turns the ideographic space U+3000 into a plain one.
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _check(first17: str) -> str:
    remainder = (
        sum(_VALUE[char] * weight for char, weight in zip(first17, _WEIGHTS, strict=True)) % 31
    )
    # C18 = 31 - remainder, where 31 (remainder 0) is written as 0.
    return ALPHABET[(31 - remainder) % 31]


def _check_characters(code: str) -> None:
    for position, char in enumerate(code, start=1):
        digits_only = 3 <= position <= 8
        if char not in _VALUE or (digits_only and not char.isdigit()):
            raise _bad_character(code, position, char, digits_only=digits_only)


def _bad_character(
    code: str, position: int, char: str, *, digits_only: bool
) -> InvalidCreditCodeError:
    shown = char if char.isprintable() else f"U+{ord(char):04X}"
    if digits_only:
        allowed_zh, allowed = "第3–8位只能是数字", "positions 3–8 are digits only"
    else:
        allowed_zh = "只能是数字或 I、O、Z、S、V 以外的大写字母"
        allowed = "only digits and capital letters other than I, O, Z, S, V are used"
    return _invalid(
        code,
        f"第{position}位不能是“{shown}”（{allowed_zh}）",
        f"character '{shown}' is not allowed at position {position} ({allowed})",
    )


def _invalid(code: str, reason_zh: str, reason: str) -> InvalidCreditCodeError:
    # Echo back what was checked (positions refer to it), cut short if someone pasted a page.
    if len(code) > _DISPLAY_LIMIT:
        code = code[:_DISPLAY_LIMIT] + "…"
    return InvalidCreditCodeError(uscc=code, reason_zh=reason_zh, reason=reason)
