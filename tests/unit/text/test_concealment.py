from semtalk.records import Word
from semtalk.text.concealment import TextConcealer
from semtalk.text.lm import Gap, NGramPredictor

SENTENCE = ["we", "visited", "the", "united", "states", "of", "america", "last", "year"]


def _words(texts: list[str]) -> list[Word]:
    return [Word(t, 0.4 * i, 0.4 * i + 0.3, 120.0, -20.0) for i, t in enumerate(texts)]


def test_lm_predicts_states_between_united_and_of_america():
    assert NGramPredictor().rank(["the", "united"], ["of", "america"], 3)[0] == "states"


def test_right_context_changes_the_ranking():
    p = NGramPredictor()
    assert p.rank(["the", "united"], ["of", "america"], 1) != p.rank(["the", "united"], ["airlines", "flight"], 1) \
        or p.rank(["the"], ["kingdom"], 1) == ["united"]


def test_fill_uses_the_top_ranked_word_and_estimates_timing():
    words = _words(SENTENCE)
    slots: list[Word | None] = list(words)
    slots[4] = None
    p = NGramPredictor()
    filled = TextConcealer(p).fill(slots)
    assert [w.text for w in filled] == SENTENCE
    assert filled[4].text == p.rank(["the", "united"], ["of", "america"], 1)[0]
    gap = filled[4]
    assert gap.concealed and not gap.timed and gap.f0 is None
    assert gap.start == words[3].end and gap.end == words[5].start
    assert not any(w.concealed for i, w in enumerate(filled) if i != 4)


def test_fill_handles_runs_and_edges():
    words = _words(SENTENCE)
    slots: list[Word | None] = [None, *words[1:3], None, None, *words[5:8], None]
    filled = TextConcealer(NGramPredictor()).fill(slots)
    assert len(filled) == len(SENTENCE)
    assert [i for i, w in enumerate(filled) if w.concealed] == [0, 3, 4, 8]
    assert all(w.text for w in filled)
    starts = [w.start for w in filled]
    assert starts == sorted(starts)
    assert filled[3].start == words[2].end and filled[4].end == words[5].start
    assert filled[8].start == words[7].end and filled[8].end > filled[8].start
    assert TextConcealer(NGramPredictor()).fill([None, None])[1].start >= 0.0
    assert TextConcealer(NGramPredictor()).fill([]) == []


def test_a_custom_predictor_plugs_in():
    class Fixed:
        def predict(self, gap: Gap) -> list[str]:
            return [f"{gap.left[-1]}-{gap.right[0]}"] * gap.n

    slots: list[Word | None] = _words(["a", "b", "c"])
    slots[1] = None
    assert TextConcealer(Fixed()).fill(slots)[1].text == "a-c"
