"""Store text shown on a terminal: terminal_safe (human output) and json_safe (--json lines).

Pure functions, tested alone; what reaches a real terminal from the CLI and the TUI is tested against the
local stack in tests/integration/test_hostile_names.py.
"""

from __future__ import annotations

import json
import sys
import time
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.display import json_safe, terminal_safe

BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
KEPT_FORMAT = {0x200C, 0x200D} | set(range(0xE0020, 0xE0080))  # kept only after U+1F3F4; tested below


def _dangerous(character: str) -> bool:
    code = ord(character)
    category = unicodedata.category(character)
    if category in {"Cc", "Cs", "Zl", "Zp"}:
        return True
    return category == "Cf" and code not in {0x200C, 0x200D}


def _no_dangerous(shown: str) -> bool:
    flagless = shown
    # a subdivision flag (black flag + tags) is the one place tag characters are kept
    while "\U0001F3F4" in flagless:
        start = flagless.index("\U0001F3F4")
        end = start + 1
        while end < len(flagless) and 0xE0020 <= ord(flagless[end]) <= 0xE007F:
            end += 1
        flagless = flagless[:start] + flagless[end:]
    return not any(_dangerous(c) for c in flagless)


def test_the_attacks_of_the_issue_are_shown_not_played():
    assert terminal_safe("\x1b]0;owned\x07") == "\\x1b]0;owned\\x07"
    assert terminal_safe("\x1b[2Jgone") == "\\x1b[2Jgone"
    assert terminal_safe("\x1b]52;c;ZXZpbA==\x07") == "\\x1b]52;c;ZXZpbA==\\x07"  # clipboard write
    assert terminal_safe("\u009b2J") == "\\x9b2J"
    assert terminal_safe("invoice\u202efdp.exe") == "invoice\\u202efdp.exe"
    assert terminal_safe("one\ntwo") == "one⏎two"
    assert terminal_safe("a\r\nb\tc") == "a\\r⏎b\\tc"
    assert terminal_safe("\x7f\x00") == "\\x7f\\x00"
    assert terminal_safe("x\udc80y\ud83d") == "x\\udc80y\\ud83d"
    assert terminal_safe("line\u2028para\u2029") == "line\\u2028para\\u2029"
    assert terminal_safe("zero\u200bwidth\ufeff") == "zero\\u200bwidth\\ufeff"
    assert terminal_safe("tag\U000e0041\U000e0001") == "tag\\U000e0041\\U000e0001"


def test_every_control_bidi_and_separator_character_is_shown_visibly():
    for code in [*range(0x20), *range(0x7F, 0xA0), *map(ord, BIDI), 0x2028, 0x2029, 0xD800, 0xDBFF, 0xDC00, 0xDFFF]:
        shown = terminal_safe(f"a{chr(code)}b")
        assert chr(code) not in shown, hex(code)
        assert shown.startswith("a") and shown.endswith("b") and len(shown) >= 3
        shown.encode("utf-8")  # never raises: no surrogate left


def test_every_format_character_of_this_python_is_covered():
    """The list in display.py was written from Unicode 14; a newer Python's Unicode must not add one unseen."""
    missed = [f"U+{code:04X}" for code in range(sys.maxunicode + 1)
              if _dangerous(chr(code)) and code not in KEPT_FORMAT and chr(code) in terminal_safe(chr(code))]
    assert missed == []


def test_ordinary_text_and_emoji_stay_as_they_are():
    for text in ["orders/42", "naïve café", "日本語のキー", "ключ", "مفتاح", "עברית", "👍🏽", "👨‍👩‍👧", "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
                 "a\\x1b literal backslash", "[bold red]x[/]", "e\u0301", "क्‍ष", "\u00a0nbsp", "⏎"]:
        assert terminal_safe(text) == text


@given(st.text())
def test_the_output_never_holds_a_dangerous_character(text):
    shown = terminal_safe(text)
    assert _no_dangerous(shown)
    shown.encode("utf-8")
    assert "\n" not in shown and "\r" not in shown


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_printable_text_is_unchanged(text):
    assert terminal_safe(text) == text


@given(st.text(alphabet=st.characters(whitelist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), min_size=1))
def test_nothing_dangerous_is_dropped_silently(text):
    """Each dangerous character becomes something seen: the output is never shorter than the input."""
    assert len(terminal_safe(text)) >= len(text)


def test_it_is_cheap_for_long_text():
    plain = "k" * 1_000_000
    hostile = ("\x1b[2J\u202e日本\n" * 100_000)
    started = time.perf_counter()
    assert terminal_safe(plain) is plain
    shown = terminal_safe(hostile)
    elapsed = time.perf_counter() - started
    assert _no_dangerous(shown)
    assert elapsed < 2.0, f"{elapsed:.2f} s for 1.6 M characters"


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                    max_leaves=8))
@settings(max_examples=300)
def test_json_safe_keeps_the_exact_json_value_and_no_raw_control(value):
    line = json_safe(json.dumps(value, ensure_ascii=False))
    assert json.loads(line) == value
    assert _no_dangerous(line) or "\U0001F3F4" in line
    line.encode("utf-8")


def test_json_safe_writes_c1_bidi_and_lone_surrogates_as_escapes():
    line = json_safe(json.dumps({"k": "\u009b2J\u202e\udc80👍\u2028"}, ensure_ascii=False))
    assert line == '{"k": "\\u009b2J\\u202e\\udc80👍\\u2028"}'
    assert json.loads(line) == {"k": "\u009b2J\u202e\udc80👍\u2028"}
    assert json_safe('"\U000e0001"') == '"\\udb40\\udc01"' and json.loads('"\\udb40\\udc01"') == "\U000e0001"


def test_json_safe_keeps_the_whitespace_of_indented_json():
    text = json.dumps({"k": ["\u009b", "\t"]}, indent=2, ensure_ascii=False)
    assert json_safe(text) == text.replace("\u009b", "\\u009b")


def test_the_editor_shows_a_hostile_value_as_escapes_and_saves_it_back_unchanged():
    """The key editor's text (pretty_json) holds no raw C1 or bidi character, and saving it as shown
    sends the same value."""
    from explorer.core.display import parse_json_edit, pretty_json

    value = {"v": "\u009b2J\u202eabc\u2028end \U0001F600", "\u202ekey": 1}
    shown = pretty_json(value)
    assert "\u009b" not in shown and "\u202e" not in shown and "\u2028" not in shown and "\U0001F600" in shown
    assert "\\u009b2J\\u202eabc\\u2028end" in shown
    assert json.loads(parse_json_edit(shown)) == value


def test_json_safe_writes_a_raw_del_as_an_escape():
    """DEL is ASCII, and json.dumps leaves it raw: the all-ASCII shortcut used to let it through."""
    import json

    from explorer.core.display import json_safe

    line = json.dumps({"k": "a\x7fb"}, ensure_ascii=False)
    assert json_safe(line) == '{"k": "a\\u007fb"}' and json.loads(json_safe(line)) == {"k": "a\x7fb"}
