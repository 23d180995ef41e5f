"""The unified social credit code rules of GB 32100-2015 (domain.md §5)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.firms import uscc

VALID = ["91350100M000100Y43", "914403001922038216", "91110108551385082Q"]


@pytest.mark.parametrize("code", VALID)
def test_real_codes_pass(code):
    result = uscc.check(code)
    assert result.is_valid
    assert result.code == code


def test_weights_are_powers_of_three_mod_31():
    assert uscc.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  91350100M000100Y43\t", "91350100M000100Y43"),
        ("91350100m000100y43", "91350100M000100Y43"),
        ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),
        ("９１３５０１００ｍ０００１００ｙ４３", "91350100M000100Y43"),
        ("9135 0100 M000 100Y43", "91350100M000100Y43"),
        ("\u300091350100M000100Y43\u3000", "91350100M000100Y43"),
    ],
)
def test_normalise_trims_upper_cases_and_converts_full_width(raw, expected):
    assert uscc.normalise(raw) == expected
    assert uscc.check(raw).is_valid


@pytest.mark.parametrize(
    ("code", "expected"),
    [("91350100M000100Y44", "3"), ("914403001922038217", "6"), ("91110108551385082R", "Q")],
)
def test_a_wrong_check_character_is_a_warning_naming_the_expected_one(code, expected):
    result = uscc.check(code)
    assert result.error is None
    assert result.expected_check == expected
    assert f"应为 {expected}" in result.warning
    assert not result.is_valid


@pytest.mark.parametrize("code", ["", "9135010", "91350100M000100Y4", "91350100M000100Y430"])
def test_a_wrong_length_is_an_error(code):
    result = uscc.check(code)
    assert result.error == f"统一社会信用代码应为 18 位，当前为 {len(code)} 位"


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_letters_i_o_s_v_z_are_errors(letter):
    code = "91350100M000100Y4" + letter
    result = uscc.check(code)
    assert result.error is not None
    assert letter in result.error


def test_punctuation_is_an_error_not_a_warning():
    assert uscc.check("91350100M000100-43").error is not None


def test_none_normalises_to_empty():
    assert uscc.normalise(None) == ""
    assert uscc.check(None).error is not None


@given(st.text(alphabet=uscc.ALPHABET, min_size=17, max_size=17))
def test_the_computed_check_character_always_validates(first17):
    code = first17 + uscc.check_character(first17)
    assert uscc.check(code).is_valid


@given(
    st.text(alphabet=uscc.ALPHABET, min_size=17, max_size=17),
    st.integers(min_value=0, max_value=16),
    st.sampled_from(uscc.ALPHABET),
)
def test_changing_any_single_character_is_detected(first17, position, replacement):
    code = first17 + uscc.check_character(first17)
    changed = code[:position] + replacement + code[position + 1 :]
    if changed != code:
        assert not uscc.check(changed).is_valid
