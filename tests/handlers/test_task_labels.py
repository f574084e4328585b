"""The labels of the /nhiemvu choices: a long conclusion is cut at a word, never mid-word."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handlers.tasks import LABEL_CHARS, short_label


def test_a_long_conclusion_is_cut_at_a_word_with_an_ellipsis() -> None:
    text = "Hoàn thành báo cáo kết quả rà soát hộ nghèo và báo cáo kế hoạch năm 2027 gửi Đảng ủy xã"
    label = short_label(text)
    assert label == "Hoàn thành báo cáo kết quả rà soát hộ nghèo và…"
    assert len(label) <= LABEL_CHARS and text.startswith(label[:-1])


def test_a_short_conclusion_is_whole() -> None:
    assert short_label("Tăng cường tuần tra dịp Tết") == "Tăng cường tuần tra dịp Tết"


@given(st.lists(st.text(alphabet="abcđêơưáàạ", min_size=1, max_size=12), min_size=1, max_size=20))
def test_every_word_of_a_label_is_a_whole_word_of_the_text(words: list[str]) -> None:
    text = " ".join(words)
    label = short_label(text)
    assert len(label) <= LABEL_CHARS
    shown = label.removesuffix("…").split()
    if label.endswith("…") and len(words[0]) < LABEL_CHARS:
        assert shown == words[: len(shown)]  # whole words, in order
    elif not label.endswith("…"):
        assert label == text
