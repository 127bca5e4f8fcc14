"""What the SaudiNewsNet benchmarks share: the questions they ask, and a slice of the data read by path."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

QUESTIONS = [
    "ما هي أسعار النفط؟", "من هو وزير الخارجية السعودي؟", "كم عدد الحجاج هذا العام؟",
    "ماذا قال ولي العهد عن الاقتصاد؟", "أين وقع الحادث المروري؟", "متى يبدأ العام الدراسي؟",
    "ما نتيجة مباراة الهلال؟", "ما هي توقعات الطقس في الرياض؟", "من فاز بالانتخابات البلدية؟",
    "ما أخبار سوق الأسهم السعودية؟", "What did the Saudi foreign minister say about Yemen?",
    "كم بلغ عدد الإصابات بفيروس كورونا؟",
]


def first_day(data: Path, n: int) -> tuple[str, list[dict]]:
    """The name of the first day file in `data` and its first `n` records."""
    day = sorted(data.glob("*.zip"))[0]
    with zipfile.ZipFile(day) as zf:
        return day.stem, json.loads(zf.read(zf.namelist()[0]))[:n]
