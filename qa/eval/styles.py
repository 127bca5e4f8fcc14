"""Questions grouped by style (their question word), to see whether the
refusal rule holds across styles (`qa eval calibrate` prints the table)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa import arabic

# Question styles by their question word (normalised): MSA and colloquial forms,
# and «مادا», a common misspelling of «ماذا» in ARCD.
STYLES = {
    "who (من)": "من مين منو", "what (ما/ماذا)": "ما ماذا مادا ماهو ماهي شو ايش وش", "when (متى)": "متي امتي",
    "where (أين)": "اين وين فين", "how many (كم)": "كم قديش", "yes/no (هل)": "هل",
    "why (لماذا)": "لماذا لمادا ليش ليه", "how (كيف)": "كيف ازاي شلون اشلون", "which (أي)": "اي",
}
_OPENERS = {w: style for style, ws in STYLES.items() for w in ws.split()}
_PREPOSITIONS = {"الي", "علي", "في", "عن", "مع", "ضد", "تحت", "حتي"}


def style(question: str) -> str:
    """The style a question is asked in: its question word, which may carry a
    preposition («بماذا», «لمن», «ممن») or follow one («إلى كم», «في أي»)."""
    if not arabic.is_arabic(question):
        return "English"
    for w in arabic.words(question)[:2]:
        if w in _OPENERS:
            return _OPENERS[w]
        if w[:1] in "بلم" and w[1:] in _OPENERS:
            return _OPENERS[w[1:]]
        if w not in _PREPOSITIONS:
            break
    return "other"


def by_style(recs: Sequence[dict]) -> list[tuple[str, int, float | None, int, float | None]]:
    """The run's own refusals by question style: (style, answerable, their
    false-refusal rate, out of scope, their refusal rate), largest first."""
    groups: dict[str, list[dict]] = {}
    for r in recs:
        if "question" in r:
            groups.setdefault(style(r["question"]), []).append(r)
    rows = []
    for name, rs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        ans = [r["refused"] for r in rs if r["in_scope"]]
        oos = [r["refused"] for r in rs if not r["in_scope"]]
        rows.append((name, len(ans), float(np.mean(ans)) if ans else None, len(oos),
                     float(np.mean(oos)) if oos else None))
    return rows
