"""Answer-type cues: a «كم» question wants a number, a «متى» question a date
(also after a joined «و»/«ف» or "and": «ومتى», "and when").

Patterns are matched against normalised text (`qa.arabic.normalize`); the
composer gives a sentence that holds what the question wants a bonus.
"""

from __future__ import annotations

import re
from typing import Literal

from qa import arabic

AnswerType = Literal["number", "date"]

_MONTHS = ("يناير فبراير مارس ابريل مايو يونيو يوليو اغسطس سبتمبر اكتوبر نوفمبر ديسمبر "
           "كانون شباط اذار نيسان ايار حزيران تموز اب ايلول تشرين محرم صفر ربيع جمادي رجب شعبان رمضان شوال "
           "ذو القعده الحجه january february march april may june july august september october november december")
_NUMBER_WORDS = ("واحد اثنان اثنين ثلاث ثلاثه ثلاثين ثلاثون اربع اربعه اربعين اربعون خمس خمسه خمسين خمسون "
                 "ست سته ستين ستون سبع سبعه سبعين سبعون ثماني ثمانيه ثمانين ثمانون تسع تسعه تسعين تسعون "
                 "عشر عشره عشرين عشرون مئه مائه مئات الف الاف مليون ملايين مليار مليارات")
# kind -> (the question asks for it, a text holds one)
_CUES: dict[AnswerType, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "number": (re.compile(r"^\W*(?:[وف]|and )?(كم|بكم|how many|how much)\b"),
               re.compile(r"\d|\b(" + "|".join(_NUMBER_WORDS.split()) + r")\b")),
    "date": (re.compile(r"^\W*(?:[وف]|and )?(متي|في اي عام|في اي سنه|when)\b"),
             re.compile(r"\b\d{3,4}\b|\b(" + "|".join(_MONTHS.split()) + r")\b|\b(عام|سنه|القرن)\b")),
}


def wanted_type(question: str) -> AnswerType | None:
    """'number' or 'date' when the question asks for one, else None."""
    q = arabic.normalize(question)
    return next((kind for kind, (ask, _) in _CUES.items() if ask.search(q)), None)


def holds(kind: AnswerType, normalised_text: str) -> bool:
    """True when normalised text holds an answer of `kind` (a number, a date)."""
    return bool(_CUES[kind][1].search(normalised_text))
