"""统一社会信用代码 validation (GB 32100-2015)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gimark.core.errors import GimarkError
from gimark.trace.errors import InvalidCreditCodeError, RegistryError
from gimark.trace.uscc import ALPHABET, Uscc, check_character, validate_uscc

# Codes printed in public documents; their check characters match, which a made-up code
# does only once in 31 tries.
REAL_CODES = [
    "91350100M000100Y43",  # the sample most often cited for GB 32100
    "914403001922038216",  # an enterprise registered in Shenzhen (440300)
    "91110108551385082Q",  # an enterprise registered in Haidian, Beijing (110108)
    "12100000400009127B",  # a university registered nationally: region 100000
    "51100000500012681T",  # a national association (civil affairs, social organization)
]

alphabet_chars = st.sampled_from(ALPHABET)
digits = st.sampled_from("0123456789")
provinces = st.sampled_from(["11", "31", "33", "35", "41", "43", "44", "50", "51", "65", "81"])
authority_types = st.sampled_from(
    [
        *("11", "12", "13", "19", "21", "31", "35", "51", "52", "53", "59", "91", "92", "93"),
        *("A1", "N2", "Y1", "B7"),
    ]
)


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    """Codes that follow every rule, finished with :func:`check_character`."""
    head = draw(authority_types)
    region = draw(provinces) + "".join(draw(st.lists(digits, min_size=4, max_size=4)))
    org = "".join(draw(st.lists(alphabet_chars, min_size=9, max_size=9)))
    first17 = head + region + org
    return first17 + check_character(first17)


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_accepted(code: str) -> None:
    assert validate_uscc(code).code == code


def test_parts_are_split_by_position() -> None:
    assert validate_uscc("91350100M000100Y43") == Uscc(
        code="91350100M000100Y43",
        registration_authority="9",
        org_type="1",
        region_code="350100",
        org_code="M000100Y4",
    )


def test_check_character_of_the_cited_sample() -> None:
    assert check_character("91350100M000100Y4") == "3"


def test_check_value_31_is_written_as_0() -> None:
    # The last weight (28) is invertible modulo 31, so walking the 17th character through the
    # alphabet meets every remainder once; remainder 0 gives 31 - 0 = 31, written "0".
    checks = [check_character(f"9144030019220382{char}") for char in ALPHABET]
    assert sorted(checks) == sorted(ALPHABET)


@pytest.mark.parametrize(
    "typed",
    [
        "91350100m000100y43",  # lower case
        "9135 0100 M000 100Y 43",  # grouped with spaces
        "９１３５０１００Ｍ０００１００Ｙ４３",  # full-width, from a Chinese input method
        "\u300091350100M000100Y43\n",  # ideographic space and a newline around it
    ],
)
def test_input_is_normalized(typed: str) -> None:
    assert validate_uscc(typed).code == "91350100M000100Y43"


@given(valid_codes())
def test_generated_codes_are_accepted(code: str) -> None:
    assert validate_uscc(code).code == code


@given(valid_codes(), st.data())
def test_every_single_substitution_is_refused(code: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=17), label="position")
    replacement = data.draw(
        st.one_of(alphabet_chars, st.sampled_from("IOZSV-_.*/"), st.characters()),
        label="replacement",
    )
    # A replacement that normalizes back to the same character is no substitution at all.
    assume(unicodedata.normalize("NFKC", replacement).upper() != code[position])
    altered = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(InvalidCreditCodeError):
        validate_uscc(altered)


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("91350100M000100Y4", "长度应为18位，实为17位", "18 characters long, got 17"),
        ("91350100M000100Y433", "长度应为18位，实为19位", "18 characters long, got 19"),
        ("", "实为0位", "got 0"),
    ],
)
def test_wrong_length(text: str, zh: str, en: str) -> None:
    with pytest.raises(InvalidCreditCodeError, match=en) as info:
        validate_uscc(text)
    assert zh in info.value.message("zh")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("91350100M000100I43", "character 'I' is not allowed at position 16"),
        ("91350100MO00100Y43", "character 'O' is not allowed at position 10"),
        ("Z1350100M000100Y43", "character 'Z' is not allowed at position 1"),
        ("913501S0M000100Y43", r"character 'S' is not allowed at position 7 \(positions 3–8"),
        ("91350A00M000100Y43", r"character 'A' is not allowed at position 6 \(positions 3–8"),
        ("91350100M000100Y4-", "character '-' is not allowed at position 18"),
        ("91350100M0\u200b0100Y43", "character 'U\\+200B' is not allowed at position 11"),
    ],
)
def test_character_not_allowed(text: str, message: str) -> None:
    with pytest.raises(InvalidCreditCodeError, match=message):
        validate_uscc(text)


def test_character_message_in_chinese() -> None:
    with pytest.raises(InvalidCreditCodeError) as info:
        validate_uscc("91350100M000100I43")
    assert "第16位不能是“I”" in info.value.message("zh")


@pytest.mark.parametrize("authority", ["0", "J", "K", "M", "P", "X"])
def test_unknown_registration_authority(authority: str) -> None:
    first17 = authority + "1350100M000100Y4"
    with pytest.raises(
        InvalidCreditCodeError, match="is not a registration authority code"
    ) as info:
        validate_uscc(first17 + check_character(first17))
    assert f"第1位登记管理部门代码“{authority}”不存在" in info.value.message("zh")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("94", "expected one of 1, 2, 3$"),
        ("99", "expected one of 1, 2, 3$"),
        ("54", "expected one of 1, 2, 3, 9$"),
        ("1A", "expected one of 1, 2, 3, 9$"),
        ("Y2", "expected one of 1$"),
    ],
)
def test_organization_type_not_valid_for_authority(head: str, expected: str) -> None:
    first17 = head + "350100M000100Y4"
    with pytest.raises(InvalidCreditCodeError, match=f"organization type '{head[1]}'.*{expected}"):
        validate_uscc(first17 + check_character(first17))


def test_authorities_outside_the_published_table_take_any_type() -> None:
    for head in ("BX", "H0"):
        first17 = head + "350100M000100Y4"
        assert validate_uscc(first17 + check_character(first17)).org_type == head[1]


@pytest.mark.parametrize("region", ["990100", "000000", "200000", "720000"])
def test_region_not_in_gb_t_2260(region: str) -> None:
    first17 = "91" + region + "M000100Y4"
    with pytest.raises(InvalidCreditCodeError, match=f"region code '{region}'.*GB/T 2260") as info:
        validate_uscc(first17 + check_character(first17))
    assert "不是有效的 GB/T 2260 代码" in info.value.message("zh")


def test_region_below_the_province_need_not_be_in_the_table() -> None:
    first17 = "91659999M000100Y4"  # Xinjiang: the province is checked, the county is not
    assert validate_uscc(first17 + check_character(first17)).region_code == "659999"


def test_wrong_check_character() -> None:
    with pytest.raises(
        InvalidCreditCodeError, match=r"check character \(position 18\) should be 3, found 4"
    ) as info:
        validate_uscc("91350100M000100Y44")
    assert info.value.message("zh").endswith("第18位校验码应为 3，实为 4")
    assert info.value.code == "invalid_credit_code"


def test_error_is_part_of_the_tree() -> None:
    with pytest.raises(RegistryError) as info:
        validate_uscc("nonsense")
    assert isinstance(info.value, GimarkError)
    assert "nonsense".upper() in info.value.bilingual()


def test_long_input_is_cut_short_in_the_message() -> None:
    with pytest.raises(InvalidCreditCodeError) as info:
        validate_uscc("9" * 500)
    assert len(str(info.value)) < 200


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("91350100M000100Y", "needs the first 17 characters, got 16"),
        ("91350100M000100Y43", "needs the first 17 characters, got 18"),
        ("91350100M000100I4", "character 'I' is not allowed at position 16"),
    ],
)
def test_check_character_refuses_bad_input(prefix: str, message: str) -> None:
    with pytest.raises(InvalidCreditCodeError, match=message):
        check_character(prefix)
