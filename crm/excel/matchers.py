"""Match a cell to reference data: a choice, a district of the city, a park, industry or field.

Pure, like `crm.excel.values`: the reference rows are passed in. Each matcher caches its answers
by the cell's raw text, so a column of repeated names costs one match per distinct name.
"""

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crm.excel.values import CACHE_LIMIT, EMPTY_MARKERS, CellError, Parsed, show_value

_PROVINCE_PREFIXES = ("广西壮族自治区", "广西自治区", "广西省", "广西")
_DISTRICT_SUFFIXES = ("各族自治县", "自治县", "区", "县", "市")


def _key(text: str) -> str:
    """Return a matching key: half-width, no whitespace, case-folded."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()).casefold()


def _listing(names: list[str], limit: int = 8) -> str:
    shown = "、".join(names[:limit])
    return f"{shown} 等 {len(names)} 项" if len(names) > limit else shown


class _CachedMatcher:
    """Cache every answer (a result or an error message) by the raw text of the cell.

    Subclasses define `_match(value)`, which returns what the cell names or raises CellError.
    """

    def __init__(self):
        self._cache: dict[str, tuple[Any, str | None]] = {}

    def match(self, value):
        """Return what the cell names, None for an empty cell, or raise CellError."""
        if value is None:
            return None
        if value.__class__ is str:
            answer = self._cache.get(value)
            if answer is None:
                answer = self._answer(value)
                if len(self._cache) < CACHE_LIMIT:
                    self._cache[value] = answer
        else:
            answer = self._answer(value)
        if answer[1] is not None:
            raise CellError(answer[1])
        return answer[0]

    def _answer(self, value) -> tuple[Any, str | None]:
        try:
            return self._match(value), None
        except CellError as exc:
            return None, exc.message


class ChoiceMatcher(_CachedMatcher):
    """Map labels, codes and synonyms of a fixed vocabulary to its codes."""

    def __init__(self, choices: Mapping[str, str], synonyms: Mapping[str, str] | None = None):
        super().__init__()
        self.labels = list(choices.values())
        by_label = {label: code for code, label in choices.items()}
        index: dict[str, str] = {}
        for code, label in choices.items():
            index[_key(code)] = code
            index[_key(label)] = code
        for synonym, target in (synonyms or {}).items():
            code = target if target in choices else by_label.get(target)
            if code is None:
                raise ValueError(f"synonym {synonym!r} points to unknown choice {target!r}")
            if index.setdefault(_key(synonym), code) != code:
                raise ValueError(f"synonym {synonym!r} is ambiguous")
        self._index = index

    def _match(self, value):
        if value.__class__ is not str:
            if value.__class__ is bool or not isinstance(value, int | float):
                raise CellError(
                    f"无法识别的「{show_value(value)}」，可填：{_listing(self.labels, 12)}"
                )
            value = show_value(value)
        key = _key(value)
        if not key or key in EMPTY_MARKERS:
            return None
        code = self._index.get(key)
        if code is None:
            raise CellError(f"无法识别的「{show_value(value)}」，可填：{_listing(self.labels, 12)}")
        return code


_choice_matchers: dict[tuple[int, int], tuple[Any, Any, ChoiceMatcher]] = {}


def parse_choice(
    value, choices: Mapping[str, str], synonyms: Mapping[str, str] | None = None
) -> str | None:
    """Return the code of the choice whose code, label or synonym the cell names."""
    # One matcher per pair of vocabulary objects, so they must not be mutated once used.
    entry = _choice_matchers.get((id(choices), id(synonyms)))
    if entry is None or entry[0] is not choices or entry[1] is not synonyms:
        if len(_choice_matchers) >= 64:
            _choice_matchers.clear()
        entry = (choices, synonyms, ChoiceMatcher(choices, synonyms))
        _choice_matchers[(id(choices), id(synonyms))] = entry
    return entry[2].match(value)


@dataclass(frozen=True)
class DistrictRef:
    """A county-level unit as the matcher needs it (from `crm.reference.models.District`)."""

    id: int
    name: str
    code: str
    legacy_codes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @classmethod
    def of(cls, item) -> "DistrictRef":
        """Return a DistrictRef from (id, name, code[, legacy_codes[, aliases]]) or a District."""
        if isinstance(item, cls):
            return item
        if isinstance(item, tuple):
            return cls(*item)
        return cls(
            item.id,
            item.name,
            item.code,
            tuple(getattr(item, "legacy_codes", None) or ()),
            tuple(getattr(item, "aliases", None) or ()),
        )


def _district_stem(name: str) -> str | None:
    for suffix in _DISTRICT_SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return stem if len(stem) >= 2 else None
    return None


class DistrictMatcher(_CachedMatcher):
    """Find the district a cell names by name, short name, alias, or current or legacy code."""

    # The province and then the city are stripped from the front before the remainder is
    # compared with full names, aliases and names without 区/县/市 (at least two characters
    # left, so 藤县 never becomes 藤), never by substring: 苍梧县 stays clear of 梧州市.

    def __init__(
        self,
        districts: Iterable,
        city_name: str,
        province_prefixes: tuple[str, ...] = _PROVINCE_PREFIXES,
    ):
        super().__init__()
        self.city_name = city_name
        self.districts = [DistrictRef.of(item) for item in districts]
        self._codes: dict[str, int] = {}
        self._names: dict[str, set[int]] = {}
        self._stems: dict[str, set[int]] = {}
        for district in self.districts:
            for code in (district.code, *district.legacy_codes):
                self._codes[code] = district.id
            for name in (district.name, *district.aliases):
                self._names.setdefault(_key(name), set()).add(district.id)
            stem = _district_stem(_key(district.name))
            if stem:
                self._stems.setdefault(stem, set()).add(district.id)
        self._names_by_id = {d.id: d.name for d in self.districts}
        city = _key(city_name)
        short = city.removesuffix("市")
        self._city_prefixes = (city, short) if len(short) >= 2 and short != city else (city,)
        self._province_prefixes = tuple(_key(p) for p in province_prefixes)

    def _refuse(self, shown: str):
        return CellError(f"「{shown}」不是本市的县（市、区）")

    def _one(self, ids: set[int], shown: str) -> int:
        if len(ids) > 1:
            names = "、".join(sorted(self._names_by_id[i] for i in ids))
            raise CellError(f"「{shown}」可能指 {names}，请填写全称")
        return next(iter(ids))

    def _match(self, value):
        if value.__class__ is int:
            value = str(value)
        elif value.__class__ is float and value.is_integer():
            value = str(int(value))
        elif value.__class__ is not str:
            raise self._refuse(show_value(value))
        shown = show_value(value)
        key = _key(value)
        if not key or key in EMPTY_MARKERS:
            return None
        if key.isdigit():
            if len(key) == 6 and key in self._codes:
                return self._codes[key]
            raise CellError(f"「{shown}」不是本市的县（市、区）代码")
        ids = self._names.get(key)
        if ids:
            return self._one(ids, shown)
        rest = key
        for prefix in self._province_prefixes:
            if rest.startswith(prefix):
                rest = rest[len(prefix) :]
                break
        for prefix in self._city_prefixes:
            if rest.startswith(prefix):
                rest = rest[len(prefix) :]
                break
        if not rest:
            raise CellError(f"「{shown}」缺少县（市、区）名称")
        ids = self._names.get(rest) or self._stems.get(rest)
        if not ids:
            raise self._refuse(shown)
        return self._one(ids, shown)


@dataclass(frozen=True)
class NamedRef:
    """A park, industry or tech field as the matcher needs it: id, name and other names."""

    id: Any
    name: str
    aliases: tuple[str, ...] = ()

    @classmethod
    def of(cls, item) -> "NamedRef":
        """Return a NamedRef from (id, name[, aliases]) or a model (a `code` counts as an alias)."""
        if isinstance(item, cls):
            return item
        if isinstance(item, tuple):
            return cls(item[0], item[1], tuple(item[2]) if len(item) > 2 else ())
        aliases = tuple(getattr(item, "aliases", None) or ())
        code = getattr(item, "code", None)
        return cls(item.id, item.name, (*aliases, code) if code else aliases)


#: Long forms people write, rewritten to the short form before a loose comparison.
NAME_REWRITES = (
    ("国家级高新技术产业开发区", "高新区"),
    ("国家高新技术产业开发区", "高新区"),
    ("高新技术产业开发区", "高新区"),
    ("高新技术开发区", "高新区"),
    ("高新开发区", "高新区"),
    ("经济技术开发区", "经开区"),
    ("及", "与"),
    ("和", "与"),
)
#: Trailing words that do not change which item is meant.
NAME_SUFFIXES = ("产业集群", "产业", "行业", "技术领域", "领域", "类")


class NameMatcher(_CachedMatcher):
    """Find the park, industry or tech field a cell names (电子信息产业 → 电子信息).

    With `leave_unknown`, a name it cannot tell is no error: the cell gives
    `Parsed(None, warning)`, the warning quoting the text, so the row goes in without it.
    """

    # Exact names, aliases and synonyms first; then both sides loosened by NAME_REWRITES and
    # one of NAME_SUFFIXES, an ambiguous loose match being refused.

    def __init__(
        self,
        items: Iterable,
        synonyms: Mapping[str, str] | None = None,
        label: str = "名称",
        suffixes: tuple[str, ...] = NAME_SUFFIXES,
        rewrites: tuple[tuple[str, str], ...] = NAME_REWRITES,
        *,
        leave_unknown: bool = False,
    ):
        super().__init__()
        self.label = label
        self.leave_unknown = leave_unknown
        self.items = [NamedRef.of(item) for item in items]
        self._suffixes = suffixes
        self._rewrites = rewrites
        self.names = [item.name for item in self.items]
        by_name = {item.name: item.id for item in self.items}
        self._exact: dict[str, set] = {}
        self._loose: dict[str, set] = {}
        for item in self.items:
            for name in (item.name, *item.aliases):
                self._exact.setdefault(_key(name), set()).add(item.id)
                self._loose.setdefault(self._loosen(_key(name)), set()).add(item.id)
        for synonym, target in (synonyms or {}).items():
            if target not in by_name:
                raise ValueError(f"synonym {synonym!r} points to unknown name {target!r}")
            self._exact.setdefault(_key(synonym), set()).add(by_name[target])
        self._names_by_id = {item.id: item.name for item in self.items}

    def _loosen(self, key: str) -> str:
        for long, short in self._rewrites:
            key = key.replace(long, short)
        for suffix in self._suffixes:
            if key.endswith(suffix) and len(key) > len(suffix) + 1:
                return key[: -len(suffix)]
        return key

    def _match(self, value):
        shown = show_value(value)
        if value.__class__ is not str:
            return self._unknown(f"无法识别的{self.label}「{shown}」", "", "")
        key = _key(value)
        if not key or key in EMPTY_MARKERS:
            return None
        ids = self._exact.get(key) or self._loose.get(self._loosen(key))
        if not ids:
            listing = f"可填：{_listing(self.names)}"
            return self._unknown(f"无法识别的{self.label}「{shown}」", listing, listing)
        if len(ids) > 1:
            names = "、".join(sorted(self._names_by_id[i] for i in ids))
            return self._unknown(f"「{shown}」可能指 {names}", "请填写全称", "")
        return next(iter(ids))

    def _unknown(self, what: str, advice: str, left_advice: str):
        """Refuse the cell, or with `leave_unknown` leave it empty with a warning."""
        if self.leave_unknown:
            left = f"{what}，已留空，请导入后补填"
            return Parsed(None, f"{left}；{left_advice}" if left_advice else left)
        raise CellError(f"{what}，{advice}" if advice else what)
