"""Cell-value parsers of the Excel importer (crm/excel/values.py)."""

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crm.excel.dates import parse_date
from crm.excel.matchers import (
    ChoiceMatcher,
    DistrictMatcher,
    DistrictRef,
    NamedRef,
    NameMatcher,
    parse_choice,
)
from crm.excel.values import (
    IP_KIND_SYNONYMS,
    CellError,
    Parsed,
    count_parser,
    money_parser,
    parse_bool,
    parse_decimal,
    parse_email,
    parse_int,
    parse_percent,
    parse_phone,
    parse_text,
    parse_uscc,
    show_value,
)
from crm.firms.rules import ACQUISITION_MODES, IP_KINDS
from crm.firms.uscc import ALPHABET, check_character
from crm.reference.cities import CITIES, TECH_FIELDS

D = Decimal


def refuse(parser, value, *args):
    """Return the message of the CellError the parser raises for value."""
    with pytest.raises(CellError) as caught:
        parser(value, *args)
    return caught.value.message


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("—", None),
        (date(2016, 5, 8), date(2016, 5, 8)),
        (datetime(2016, 5, 8, 14, 30), date(2016, 5, 8)),
        (43101, date(2018, 1, 1)),
        (43101.0, date(2018, 1, 1)),
        (43101.75, date(2018, 1, 1)),
        ("43101", date(2018, 1, 1)),
        (1, date(1900, 1, 1)),
        (59, date(1900, 2, 28)),
        (61, date(1900, 3, 1)),
        (2958465, date(9999, 12, 31)),
        ("2016年5月8日", date(2016, 5, 8)),
        ("2016年05月08日", date(2016, 5, 8)),
        ("2016 年 5 月 8 日", date(2016, 5, 8)),
        ("2016年5月8号", date(2016, 5, 8)),
        ("2016/5/8", date(2016, 5, 8)),
        ("2016-05-08", date(2016, 5, 8)),
        ("2016-5-8", date(2016, 5, 8)),
        ("2016.05.08", date(2016, 5, 8)),
        ("2016-5-8 00:00:00", date(2016, 5, 8)),
        ("2016/05/08 13:45", date(2016, 5, 8)),
        ("2016-05-08T00:00:00", date(2016, 5, 8)),
        ("20160508", date(2016, 5, 8)),
        (20160508, date(2016, 5, 8)),
        ("２０１６年５月８日", date(2016, 5, 8)),
        ("２０１６－０５－０８", date(2016, 5, 8)),
        ("  2016-05-08\u3000", date(2016, 5, 8)),
        ("2016-02-29", date(2016, 2, 29)),
    ],
)
def test_parse_date_reads_date_cells_serials_and_written_dates(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (60, "1900年2月29日"),
        ("60", "1900年2月29日"),
        (0, "无法识别的日期「0」"),
        (-3, "无法识别的日期「-3」"),
        (2958466, "无法识别的日期「2958466」"),
        ("2016-02-30", "日期「2016-02-30」不存在：2016年2月只有 29 天"),
        ("2015-02-29", "2015年2月只有 28 天"),
        ("2016年13月5日", "日期「2016年13月5日」不存在：月份应为 1 到 12"),
        ("20161301", "月份应为 1 到 12"),
        ("2016年5月", "缺少日"),
        ("2016-05", "缺少日"),
        ("2016.5", "缺少日"),
        ("201605", "缺少日"),
        (201605, "缺少日"),
        ("2016", "像是年份"),
        (2016, "像是年份"),
        (2016.5, "像是年份"),
        ("16-5-8", "无法识别的日期「16-5-8」"),
        ("08/05/2016", "无法识别的日期"),
        ("2016-05/08", "无法识别的日期"),
        ("下个月", "无法识别的日期「下个月」"),
        ("#VALUE!", "公式错误值「#VALUE!」"),
        (True, "无法识别的日期"),
        (time(8, 30), "是时间"),
    ],
)
def test_parse_date_refuses_impossible_and_ambiguous_dates(raw, message):
    assert message in refuse(parse_date, raw)


def test_parse_date_error_quotes_the_value_as_typed():
    assert (
        refuse(parse_date, "２０１６年１３月５日")
        == "日期「２０１６年１３月５日」不存在：月份应为 1 到 12"
    )


# --- amounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("—", None),
        ("——", None),
        ("-", None),
        ("/", None),
        ("无", None),
        ("－", None),
        (1234, D("1234.00")),
        (1234.5, D("1234.50")),
        (0.1 + 0.2, D("0.30")),
        (1234.5649999999998, D("1234.57")),
        (12345678901.23, D("12345678901.23")),
        (D("12.345"), D("12.35")),
        ("1234.56", D("1234.56")),
        ("1,234.56", D("1234.56")),
        ("1,234,567", D("1234567.00")),
        ("１，２３４．５", D("1234.50")),
        ("１２３４", D("1234.00")),
        ("-12.5", D("-12.50")),
        ("(12.5)", D("-12.50")),
        ("（12.5）", D("-12.50")),
        ("(1,234.50)", D("-1234.50")),
        ("+3", D("3.00")),
        ("¥1,234", D("1234.00")),
        ("￥1,234", D("1234.00")),
        (".5", D("0.50")),
        ("1.2E+07", D("12000000.00")),
        ("123.4万元", D("1234000.00")),
        ("123.4 万元", D("1234000.00")),
        ("12 万", D("120000.00")),
        ("5000元", D("5000.00")),
        ("1.5亿元", D("150000000.00")),
        ("2亿", D("200000000.00")),
        ("30千元", D("30000.00")),
        ("-0.001", D("0.00")),
    ],
)
def test_parse_decimal_reads_amounts_in_yuan(raw, expected):
    result = parse_decimal(raw)
    assert result == expected
    if result is not None:
        assert result.as_tuple().exponent == -2
        assert str(result) == str(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12, D("120000.00")),
        (12.5, D("125000.00")),
        ("12.5", D("125000.00")),
        ("1,234.5678", D("12345678.00")),
        ("5000元", D("5000.00")),
        ("12万元", D("120000.00")),
        ("1亿", D("100000000.00")),
        ("—", None),
    ],
)
def test_parse_decimal_applies_the_header_scale_unless_the_cell_names_a_unit(raw, expected):
    assert parse_decimal(raw, Decimal(10000)) == expected
    assert parse_decimal(raw, 10000) == expected


def _outcome(parse, *args):
    """Return what a parser gives: the value with its exponent, or the error's message."""
    try:
        result = parse(*args)
    except CellError as error:
        return "error", error.message
    return result, None if result is None else result.as_tuple().exponent


SCALES = [D(1), D(10), D(1000), D(10000), D(100000000), D("0.001"), D("1.5")]


@given(
    raw=st.one_of(
        st.floats(),
        st.floats(min_value=-1e9, max_value=1e9).map(lambda v: round(v, 4)),
        st.integers(min_value=-(10**16), max_value=10**16),
        st.decimals(places=3, min_value=-(10**9), max_value=10**9).map(str),
    ),
    scale=st.sampled_from(SCALES),
)
@example(raw=1234.565, scale=D(1))  # stored as 1234.5649999999998: Excel's 15 digits round up
@example(raw=0.125, scale=D(1))  # a half fen exactly: half up
@example(raw=-0.125, scale=D(1))
@example(raw=0.00125, scale=D(10000))
@example(raw=-0.001, scale=D(1))  # no "-0.00"
@example(raw=99999999.99, scale=D(10000))  # past the fast path's reach
@example(raw=10**12, scale=D(10000))
def test_money_parser_gives_exactly_what_parse_decimal_gives(raw, scale):
    assert _outcome(money_parser(scale), raw) == _outcome(parse_decimal, raw, scale)
    # With a label, the same, except that a negative amount is refused.
    expected = _outcome(parse_decimal, raw, scale)
    if expected[0] != "error" and expected[0] is not None and expected[0] < 0:
        expected = ("error", f"「{show_value(raw)}」是负数，研发费用不能为负")
    assert _outcome(money_parser(scale, "研发费用"), raw) == expected


@pytest.mark.parametrize(
    ("raw", "scale"),
    [
        (-1, D(1)),
        (-0.01, D(1)),
        ("-5", D(10000)),
        ("(30)", D(1)),
        ("-3万元", D(1)),
        (-2.5, D("1.5")),
    ],
)
def test_money_parser_with_a_label_refuses_negative_amounts(raw, scale):
    message = refuse(money_parser(scale, "资产总额"), raw)
    assert message == f"「{show_value(raw)}」是负数，资产总额不能为负"


@pytest.mark.parametrize("raw", [0, 0.0, -0.0, "0", -0.001, "-0.004"])
def test_money_parser_with_a_label_reads_zero_and_what_rounds_to_zero(raw):
    assert money_parser(D(1), "资产总额")(raw) == D("0.00")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("12a.5", "「12a.5」不是数字"),
        ("十二", "「十二」不是数字"),
        ("12.5%", "是百分比"),
        ("12.5％", "是百分比"),
        ("1,2345", "千分位逗号位置不对"),
        ("12,5", "千分位逗号位置不对"),
        ("12美元", "不是数字"),
        ("万元", "不是数字"),
        ("1.2.3", "不是数字"),
        ("#DIV/0!", "公式错误值"),
        (True, "「TRUE」不是数字"),
        (float("nan"), "不是有效的数字"),
        (float("inf"), "不是有效的数字"),
        (date(2016, 5, 8), "不是数字"),
        ("1e400", "数值过大"),
    ],
)
def test_parse_decimal_refuses_what_is_not_an_amount(raw, message):
    assert message in refuse(parse_decimal, raw)


# --- integers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("—", None),
        (12, 12),
        (12.0, 12),
        ("12", 12),
        ("12.0", 12),
        ("１２", 12),
        ("12人", 12),
        ("12 人", 12),
        ("3项", 3),
        ("1,200", 1200),
        ("-3", -3),
        (D("7"), 7),
    ],
)
def test_parse_int_reads_whole_numbers_with_counting_units(raw, expected):
    result = parse_int(raw)
    assert result == expected
    assert result is None or type(result) is int


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (12.5, "「12.5」应为整数"),
        ("12.5", "「12.5」应为整数"),
        ("12.5人", "「12.5人」应为整数"),
        ("十二人", "不是数字"),
        ("1.2万", "不是数字"),
        ("12a", "「12a」不是数字"),
        (True, "不是数字"),
        (float("nan"), "不是有效的数字"),
        ("1e30", "数值过大"),
    ],
)
def test_parse_int_refuses_fractions_and_text(raw, message):
    assert message in refuse(parse_int, raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, None), (0, 0), (12, 12), ("12人", 12), ("—", None), (D("3"), 3)],
)
def test_count_parser_reads_what_parse_int_reads(raw, expected):
    assert count_parser("职工总数")(raw) == expected


@pytest.mark.parametrize("raw", [-3, -3.0, "-3", "-3人", "(3)", D("-1")])
def test_count_parser_refuses_a_negative_count(raw):
    message = refuse(count_parser("职工总数"), raw)
    assert message == f"「{show_value(raw)}」是负数，职工总数不能为负"


# --- percentages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.5%", D("0.125")),
        ("12.5％", D("0.125")),
        ("１２．５％", D("0.125")),
        ("12.5 %", D("0.125")),
        ("-3%", D("-0.03")),
        ("150%", D("1.5")),
        ("5‰", D("0.005")),
        (0.125, D("0.125")),
        (0.05, D("0.05")),
        (0, D("0")),
        ("0.125", D("0.125")),
        (-0.2, D("-0.2")),
    ],
)
def test_parse_percent_returns_a_ratio_without_warning(raw, expected):
    assert parse_percent(raw) == Parsed(expected, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(12.5, D("0.125")), (12, D("0.12")), ("12.5", D("0.125")), (-35, D("-0.35"))],
)
def test_parse_percent_reads_a_number_above_one_as_percent_with_a_warning(raw, expected):
    value, warning = parse_percent(raw)
    assert value == expected
    assert warning == f"「{raw}」已按 {raw}% 理解，请核对"


def test_parse_percent_warns_that_one_is_read_as_a_whole():
    value, warning = parse_percent(1)
    assert value == 1
    assert "100%" in warning
    assert "「1%」" in warning


@pytest.mark.parametrize("raw", [None, "", "—", "无"])
def test_parse_percent_reads_empty_cells_as_none(raw):
    assert parse_percent(raw) == (None, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("高", "「高」不是百分比"),
        ("12a%", "不是数字"),
        (True, "不是百分比"),
        ("#N/A", "公式错误值"),
    ],
)
def test_parse_percent_refuses_text(raw, message):
    assert message in refuse(parse_percent, raw)


# --- booleans ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["是", "是的", "有", "√", "✓", "✔", "Y", "y", "Ｙ", "yes", "YES", "1", 1, 1.0, "true", True],
)
def test_parse_bool_reads_yes(raw):
    assert parse_bool(raw) is True


@pytest.mark.parametrize(
    "raw", ["否", "不是", "无", "没有", "×", "✗", "N", "n", "no", "No", "0", 0, 0.0, "FALSE", False]
)
def test_parse_bool_reads_no(raw):
    assert parse_bool(raw) is False


@pytest.mark.parametrize("raw", [None, "", "—", "/"])
def test_parse_bool_reads_empty_cells_as_none(raw):
    assert parse_bool(raw) is None


@pytest.mark.parametrize("raw", ["可能", "X", 2, 0.5, "是否"])
def test_parse_bool_refuses_anything_else(raw):
    assert "请填写 是 或 否" in refuse(parse_bool, raw)


# --- text --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("梧州市某某科技有限公司", "梧州市某某科技有限公司"),
        ("（梧州）科技", "（梧州）科技"),
        ("  前后空格 ", "前后空格"),
        ("—", "—"),
        (13800138000, "13800138000"),
        (13800138000.0, "13800138000"),
        (7745123.0, "7745123"),
        (12.5, "12.5"),
        (0.1 + 0.2, "0.3"),
        (date(2016, 5, 8), "2016-05-08"),
        (datetime(2016, 5, 8), "2016-05-08"),
        (datetime(2016, 5, 8, 9, 30), "2016-05-08 09:30:00"),
        (True, "TRUE"),
    ],
)
def test_parse_text_renders_numbers_without_a_trailing_point_zero(raw, expected):
    assert parse_text(raw, 50) == expected


def test_parse_text_refuses_text_over_the_limit_naming_it():
    assert parse_text("一" * 10, 10) == "一" * 10
    assert refuse(parse_text, "一" * 11, 10) == "内容过长：共 11 个字，最多 10 个字"


def test_parse_text_refuses_a_long_number_excel_has_already_truncated():
    assert "超过 15 位" in refuse(parse_text, 4.50403199001011e17, 50)


# --- phones and e-mail addresses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("—", None),
        ("0774-3821234", "0774-3821234"),
        ("０７７４－３８２１２３４", "0774-3821234"),
        (" 138 0000 0000 ", "138 0000 0000"),
        ("0774-3821234转8012", "0774-3821234转8012"),
        ("0774-3821234、13800000000", "0774-3821234、13800000000"),
        (13800000000, "13800000000"),
        (13800000000.0, "13800000000"),
        ("13800000000", "13800000000"),
        (3821234, "3821234"),  # a local number: nothing was lost
        (38212345, "38212345"),
        # A Guangxi landline (0770–0779) whose leading 0 Excel dropped gets it back.
        (7743821234, "07743821234"),
        (77138212345, "077138212345"),
        ("7743821234", "07743821234"),
    ],
)
def test_parse_phone_keeps_the_digits_and_restores_a_guangxi_area_codes_zero(raw, expected):
    assert parse_phone(raw) == Parsed(expected, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (2085551234, "2085551234"),  # 10 digits, not 077…: which 0 or code is missing is unknown
        (108888888, "108888888"),
        (123456, None),
    ],
)
def test_parse_phone_warns_about_a_number_cell_it_cannot_vouch_for(raw, expected):
    if expected is None:
        assert refuse(parse_phone, raw) == "「123456」不是电话号码"
        return
    value, warning = parse_phone(raw)
    assert value == expected
    assert warning == (
        f"「{raw}」以数字形式存储，开头的 0 可能已丢失，请核对；电话列请设为文本格式后填写"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("同上", "「同上」不是电话号码"),
        ("12345", "「12345」不是电话号码"),
        ("zhang@example.com", "「zhang@example.com」像是电子邮箱，请填在邮箱列"),
        (-7743821234, "「-7743821234」不是电话号码"),
        (7743821.5, "「7743821.5」不是电话号码"),
        (True, "「TRUE」不是电话号码"),
        ("0774-3821234、0774-3821235、0774-3821236", "内容过长：共 38 个字，最多 32 个字"),
        ("#N/A", "公式错误值"),
    ],
)
def test_parse_phone_refuses_what_is_not_a_phone_number(raw, message):
    assert message in refuse(parse_phone, raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("无", None),
        ("zhang@example.com", "zhang@example.com"),
        (" Zhang.San@Example.COM ", "Zhang.San@Example.COM"),
        ("zhang＠example．com", "zhang@example.com"),
    ],
)
def test_parse_email_reads_an_address(raw, expected):
    assert parse_email(raw) == expected


@pytest.mark.parametrize(
    "raw", ["zhang", "zhang@", "zhang@example", "a b@example.com", 12, "a@@b.cn"]
)
def test_parse_email_refuses_what_is_not_an_address(raw):
    assert refuse(parse_email, raw) == f"「{show_value(raw)}」不是有效的电子邮箱"


# --- unified social credit codes ---------------------------------------------------------------


def make_code(body17: str = "91450400MA5K0000A") -> str:
    """Return a valid code built from 17 characters and their check character."""
    return body17 + check_character(body17)


def test_parse_uscc_accepts_a_good_code_without_warning():
    code = make_code()
    assert parse_uscc(code) == Parsed(code, None)


@pytest.mark.parametrize(
    "raw",
    [
        " 91350100M000100Y43 ",
        "91350100m000100y43",
        "９１３５０１００Ｍ０００１００Ｙ４３",
        "9135 0100 M000 100Y43",
    ],
)
def test_parse_uscc_normalises_spaces_case_and_full_width(raw):
    assert parse_uscc(raw) == ("91350100M000100Y43", None)


def test_parse_uscc_accepts_a_wrong_check_character_with_a_warning():
    good = make_code()
    wrong = "0" if good[-1] != "0" else "1"
    code, warning = parse_uscc(good[:17] + wrong)
    assert code == good[:17] + wrong
    assert f"应为 {good[-1]}" in warning
    assert warning.startswith("统一社会信用代码校验位不符")
    assert warning.endswith("请核对")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("91350100M000100Y4", "应为 18 位，当前为 17 位"),
        ("91350100M000100Y433", "应为 18 位，当前为 19 位"),
        ("91350100M000100I43", "不允许的字符：I"),
        ("91350100O000100S43", "不允许的字符：O、S"),
        (914403001922038216, "被当作数字"),
        (9.14403001922038e17, "被当作数字"),
    ],
)
def test_parse_uscc_refuses_a_bad_length_or_character(raw, message):
    error = refuse(parse_uscc, raw)
    assert message in error
    assert error.startswith("「")


@given(st.text(alphabet=ALPHABET + ALPHABET.lower() + "IOSVZ-", min_size=17, max_size=19))
def test_parse_uscc_gives_clean_codes_what_the_full_check_gives(raw):
    # A leading space takes the code past the fast path for clean 18-character text.
    assert _uscc_outcome(raw) == _uscc_outcome(" " + raw)


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
def test_parse_uscc_checks_every_character_on_the_fast_path(body17):
    code = body17 + check_character(body17)
    assert parse_uscc(code) == Parsed(code, None)
    wrong = ALPHABET[(ALPHABET.index(code[-1]) + 1) % len(ALPHABET)]
    assert parse_uscc(code[:17] + wrong).warning is not None


def _uscc_outcome(raw):
    try:
        return parse_uscc(raw)
    except CellError as error:
        return error.message.replace(" ", "")


@pytest.mark.parametrize("raw", [None, "", "—", "无"])
def test_parse_uscc_reads_empty_cells_as_none(raw):
    assert parse_uscc(raw) == (None, None)


# --- choices -----------------------------------------------------------------------------------

IP_LABELS = {code: label for code, (label, _) in IP_KINDS.items()}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("发明专利", "invention"),
        ("发明", "invention"),
        ("invention", "invention"),
        ("INVENTION", "invention"),
        ("实用新型", "utility_model"),
        ("实用新型专利", "utility_model"),
        ("外观设计", "design"),
        ("外观设计专利", "design"),
        ("软件著作权", "software"),
        ("软著", "software"),
        ("计算机软件著作权", "software"),
        (" 软 著 ", "software"),
        ("集成电路布图设计专有权", "ic_layout"),
        (None, None),
        ("", None),
        ("—", None),
    ],
)
def test_parse_choice_maps_labels_codes_and_synonyms_to_codes(raw, expected):
    assert parse_choice(raw, IP_LABELS, IP_KIND_SYNONYMS) == expected


def test_parse_choice_refuses_unknown_values_listing_the_accepted_labels():
    message = refuse(parse_choice, "商标", IP_LABELS, IP_KIND_SYNONYMS)
    assert message.startswith("无法识别的「商标」，可填：发明专利、")
    assert "软件著作权" in message


def test_parse_choice_works_without_synonyms():
    assert parse_choice("受让", ACQUISITION_MODES) == "transfer"
    assert "自主研发" in refuse(parse_choice, "自研", ACQUISITION_MODES)


def test_choice_matcher_rejects_synonyms_for_unknown_or_conflicting_choices():
    with pytest.raises(ValueError, match="unknown choice"):
        ChoiceMatcher(IP_LABELS, {"商标": "trademark"})
    with pytest.raises(ValueError, match="ambiguous"):
        ChoiceMatcher(IP_LABELS, {"发明专利": "design"})


def test_choice_matcher_accepts_synonyms_pointing_at_labels():
    assert ChoiceMatcher(ACQUISITION_MODES, {"自研": "自主研发"}).match("自研") == "own"


# --- districts ---------------------------------------------------------------------------------


def city_districts(city: str) -> list[DistrictRef]:
    """Return the seeded districts of a city, numbered from 1 in seed order."""
    return [
        DistrictRef(number, name, code, legacy, aliases)
        for number, (code, name, legacy, aliases) in enumerate(CITIES[city]["districts"], 1)
    ]


def district_id(city: str, name: str) -> int:
    return next(d.id for d in city_districts(city) if d.name == name)


@pytest.fixture(scope="module")
def wuzhou():
    return DistrictMatcher(city_districts("wuzhou"), "梧州市")


@pytest.fixture(scope="module")
def baise():
    return DistrictMatcher(city_districts("baise"), "百色市")


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("岑溪", "岑溪市"),
        ("岑溪市", "岑溪市"),
        ("梧州市岑溪市", "岑溪市"),
        ("梧州岑溪", "岑溪市"),
        ("梧州市 岑溪市", "岑溪市"),
        ("广西壮族自治区梧州市万秀区", "万秀区"),
        ("广西梧州市万秀区", "万秀区"),
        ("万秀", "万秀区"),
        ("万秀区", "万秀区"),
        (" 万秀区 ", "万秀区"),
        ("450403", "万秀区"),
        (450403, "万秀区"),
        ("苍梧县", "苍梧县"),
        ("苍梧", "苍梧县"),
        ("梧州市苍梧县", "苍梧县"),
        ("藤县", "藤县"),
        ("梧州市藤县", "藤县"),
        ("龙圩区", "龙圩区"),
        ("蒙山", "蒙山县"),
        ("长洲区", "长洲区"),
    ],
)
def test_wuzhou_districts_match_by_name_short_name_prefix_and_code(wuzhou, raw, name):
    assert wuzhou.match(raw) == district_id("wuzhou", name)


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("田阳区", "田阳区"),
        ("田阳县", "田阳区"),
        ("百色市田阳县", "田阳区"),
        ("451003", "田阳区"),
        ("451021", "田阳区"),
        ("平果县", "平果市"),
        ("平果市", "平果市"),
        ("451023", "平果市"),
        ("451082", "平果市"),
        ("靖西县", "靖西市"),
        ("451025", "靖西市"),
        ("隆林", "隆林各族自治县"),
        ("隆林县", "隆林各族自治县"),
        ("广西壮族自治区百色市隆林各族自治县", "隆林各族自治县"),
        ("右江", "右江区"),
        ("百色右江区", "右江区"),
        ("德保县", "德保县"),
    ],
)
def test_baise_districts_match_including_legacy_names_and_codes(baise, raw, name):
    assert baise.match(raw) == district_id("baise", name)


@pytest.mark.parametrize("raw", [None, "", "—"])
def test_district_matcher_reads_empty_cells_as_none(wuzhou, raw):
    assert wuzhou.match(raw) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("南宁市青秀区", "「南宁市青秀区」不是本市的县（市、区）"),
        ("青秀区", "「青秀区」不是本市的县（市、区）"),
        ("百色市右江区", "不是本市的县（市、区）"),
        ("藤", "不是本市的县（市、区）"),
        ("梧", "不是本市的县（市、区）"),
        ("岑溪县", "不是本市的县（市、区）"),
        ("万秀区城东镇", "不是本市的县（市、区）"),
        ("梧州市", "缺少县（市、区）名称"),
        ("广西壮族自治区梧州市", "缺少县（市、区）名称"),
        ("梧州", "缺少县（市、区）名称"),
        ("450103", "「450103」不是本市的县（市、区）代码"),
        ("4504", "不是本市的县（市、区）代码"),
    ],
)
def test_wuzhou_district_matcher_refuses_other_places(wuzhou, raw, message):
    assert message in refuse(wuzhou.match, raw)
    assert message in refuse(wuzhou.match, raw)  # also when the answer comes from the cache


def test_baise_district_matcher_refuses_wuzhou_districts(baise):
    assert refuse(baise.match, "岑溪市") == "「岑溪市」不是本市的县（市、区）"
    assert "代码" in refuse(baise.match, "450481")


def test_district_matcher_refuses_an_ambiguous_short_name():
    matcher = DistrictMatcher([(1, "新城区", "450001"), (2, "新城县", "450002")], "某市")
    assert matcher.match("新城区") == 1
    assert refuse(matcher.match, "新城") == "「新城」可能指 新城区、新城县，请填写全称"


def test_district_matcher_takes_models_and_tuples():
    class Model:
        id, name, code, legacy_codes, aliases = 7, "田阳区", "451003", ["451021"], ["田阳县"]

    matcher = DistrictMatcher([Model(), (8, "右江区", "451002")], "百色市")
    assert matcher.match("451021") == 7
    assert matcher.match("田阳县") == 7
    assert matcher.match("右江") == 8


# --- parks, industries, tech fields ------------------------------------------------------------


@pytest.fixture(scope="module")
def industries():
    names = [*CITIES["wuzhou"]["key_industries"], *(n for _, n in TECH_FIELDS if n != "电子信息")]
    return NameMatcher(list(enumerate(names, 1)), {"不锈钢": "不锈钢制品"}, label="产业")


def test_name_matcher_matches_exact_names_suffixes_and_synonyms(industries):
    food = industries.match("食品")
    assert industries.match("食品行业") == food
    assert industries.match("食品产业") == food
    assert industries.match(" 食 品 ") == food
    assert industries.match("不锈钢") == industries.match("不锈钢制品")
    assert industries.match("新能源及节能") == industries.match("新能源与节能")
    assert industries.match("生物与新医药技术领域") == industries.match("生物与新医药")
    assert industries.match("—") is None


def test_name_matcher_refuses_unknown_names_listing_up_to_eight(industries):
    message = refuse(industries.match, "房地产")
    assert message.startswith("无法识别的产业「房地产」，可填：再生资源、不锈钢制品、")
    assert message.count("、") == 7
    assert message.endswith("等 19 项")


def test_a_lenient_name_matcher_leaves_what_it_cannot_tell_empty_with_a_warning():
    fields = NameMatcher(
        [(1, "电子信息"), (2, "新材料"), (3, "新能源与节能")], label="技术领域", leave_unknown=True
    )
    assert fields.match("电子信息领域") == 1
    assert fields.match("—") is None
    assert fields.match("时空穿梭") == Parsed(
        None,
        "无法识别的技术领域「时空穿梭」，已留空，请导入后补填；可填：电子信息、新材料、新能源与节能",
    )
    assert fields.match("时空穿梭").value is None  # the answer is cached
    assert fields.match(12) == Parsed(None, "无法识别的技术领域「12」，已留空，请导入后补填")
    loose = NameMatcher(
        [(1, "新城一区"), (2, "新城二区")], suffixes=("一区", "二区"), leave_unknown=True
    )
    assert loose.match("新城") == Parsed(
        None, "「新城」可能指 新城一区、新城二区，已留空，请导入后补填"
    )


def test_name_matcher_lists_every_name_when_there_are_few():
    parks = NameMatcher([(1, "梧州高新区")], label="园区")
    assert refuse(parks.match, "南宁高新区") == "无法识别的园区「南宁高新区」，可填：梧州高新区"


@pytest.mark.parametrize(
    "raw",
    ["梧州高新区", "梧州高新技术产业开发区", "梧州国家高新技术产业开发区", "梧州高新技术开发区"],
)
def test_name_matcher_reads_the_long_form_of_a_park(raw):
    assert NameMatcher([(1, "梧州高新区"), (2, "岑溪工业园")]).match(raw) == 1


def test_name_matcher_matches_tech_field_codes_as_aliases():
    class Field:
        def __init__(self, id, code, name):
            self.id, self.code, self.name = id, code, name

    fields = NameMatcher([Field(i, c, n) for i, (c, n) in enumerate(TECH_FIELDS, 1)])
    assert fields.match("new_materials") == 4
    assert fields.match("新材料领域") == 4


def test_name_matcher_matches_aliases_of_named_refs():
    parks = NameMatcher(
        [NamedRef(1, "梧州高新区", ("梧州国家高新区",)), (2, "岑溪工业园", ["岑溪园"])]
    )
    assert parks.match("梧州国家高新区") == 1
    assert parks.match("岑溪园") == 2


def test_name_matcher_refuses_an_ambiguous_loose_match():
    matcher = NameMatcher([(1, "食品"), (2, "食品类")])
    assert matcher.match("食品类") == 2
    assert matcher.match("食品") == 1
    assert "可能指 食品、食品类" in refuse(matcher.match, "食品行业")


def test_name_matcher_rejects_a_synonym_for_an_unknown_name():
    with pytest.raises(ValueError, match="unknown name"):
        NameMatcher([(1, "食品")], {"饮料": "酒水"})
