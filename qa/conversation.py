"""Follow-up questions: a short or elliptical question read against the earlier turns.

«ومتى حدث ذلك؟» after «من التقى وزير الخارجية اليمني؟» cannot be answered alone:
it names nobody. `resolve` decides whether a question follows up (rules below)
and, if it does, what the earlier turns add: the key words of the last
self-contained question, the entities of the answers since (the short answer a
reply puts on its first line), and the articles those answers cited, which
retrieval then prefers. A self-contained question ignores the history.

A question follows up when (on normalised words):
- it has fewer than two content words of its own («ماذا ناقشا؟», "and when?"),
  unless a question word and a copula name its one word as the subject
  («من هو حيدان؟», "where is Aden?" stand alone);
- or at most three, and it opens like a continuation («و»/«ف» joined to a
  question or function word: «ومتى», «وفي», «فأين»; "and", "so", "also",
  "then", "what about"), or one of its words points back: a demonstrative or
  pronoun («ذلك», «هذا», «هناك», «عنه», «هو» unless it is the copula of «من هو ...»;
  "he", "it", "that", "there").
A follow-up that switches the subject ("what about the interior minister?",
«وماذا عن ...», or a full «ومن هو وزير الداخلية؟») takes only the earlier
question's frame («من هو», "who is"): the earlier article would mislead it.

A question cannot be understood at all (`needs_context`) when it has no
content word, or fewer than two and it opens like a continuation («ومتى حدث
ذلك؟») or points back, and there is no earlier turn.

The rules are written by hand: no maintained library resolves Arabic ellipsis
offline, and an LLM (when one is configured) is the better tool for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from qa import arabic
from qa.errors import BadInput
from qa.types import Answer, Citation

_AR_QUESTION = {arabic.normalize(w) for w in "من ما ماذا متى أين كم هل كيف لماذا أي مين شو ايش وين ليش".split()}
_AR_REFER = {arabic.normalize(w) for w in """
ذلك هذا هذه تلك ذاك هؤلاء أولئك هناك هنالك حينها حينئذ عندها آنذاك
هو هي هم هما هن عنه عنها عنهم عنهما معه معها معهم معهما له لها لهم لهما فيه فيها منه منها
عليه عليها عليهم عليهما به بها بهم بهما إليه إليها إليهم
""".split()}
_AR_COPULA = {arabic.normalize(w) for w in "هو هي هم هما هن".split()}
_EN_COPULA = {"is", "are", "was", "were"}
_EN_QUESTION = {"who", "what", "where", "when", "which", "how"}
_EN_OPEN = ("and", "so", "also", "then", "but")
_EN_ABOUT = ("what about", "how about", "and what about")
_SWITCH = (*_EN_ABOUT, *(arabic.normalize(p) for p in ("وماذا عن", "وما عن", "ماذا عن", "فماذا عن")))
_EN_REFER = set("he she it they him her them his hers its their theirs that this those these there then else"
                .split())
_MARKER = re.compile(r"\s*\[\d+\]")
_LETTER = re.compile(r"[a-z\u0621-\u064a]")  # on normalised (casefolded) text
MAX_ENTITY_WORDS = 12  # a first line this short is the reply's short answer


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: the question and the reply text the assistant gave
    (its first line the short answer, when it had one); `doc_ids`: the articles
    the reply cited, when the caller knows them."""

    question: str
    answer: str
    doc_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    """What the earlier turns add to a follow-up question."""

    question: str  # the earlier self-contained question it follows
    added: str  # text added for retrieval and reading: that question's key words and the answers' entities
    doc_ids: tuple[str, ...]  # articles the earlier answers cited: retrieval prefers them


def reply_text(answer: Answer) -> str:
    """A reply as a person sees it: the short answer on the first line (when
    there is one), then the quotes, or an LLM's checked reply when it was
    shown instead; what a history turn's "answer" holds."""
    if answer.checked is not None:
        return answer.checked.text
    if answer.short_answer is None:
        return answer.text
    return f"{answer.short_answer.text} [{answer.short_answer.n}]\n{answer.text}"


def shown_citations(answer: Answer) -> tuple[Citation, ...]:
    """The citations of the reply shown: an LLM's checked reply, else the quotes."""
    return answer.checked.citations if answer.checked is not None else answer.citations


def follow_up_note(answer: Answer) -> str | None:
    """The line that says which earlier question a follow-up was read against."""
    if answer.follows is None:
        return None
    if answer.language == "ar":
        return f"فهمتُ سؤالك متابعةً لـ«{answer.follows}»"
    return f"Read as a follow-up to “{answer.follows}”"


def turns(history: Iterable[object] | None) -> tuple[Turn, ...]:
    """The history as Turns: each item a Turn, an Answer (the question and
    reply it holds) or a {"question", "answer"} mapping (optionally "doc_ids")."""
    if history is not None and (isinstance(history, str | bytes | dict) or not isinstance(history, Iterable)):
        raise BadInput(f"history must be a list of earlier turns, oldest first, got {type(history).__name__}")
    out = []
    for i, item in enumerate(history or ()):
        if isinstance(item, Turn):
            out.append(item)
        elif isinstance(item, Answer):
            cites = shown_citations(item)
            out.append(Turn(item.question, reply_text(item), tuple(dict.fromkeys(c.doc_id for c in cites))))
        elif isinstance(item, dict) and isinstance(item.get("question"), str) and isinstance(item.get("answer"), str):
            docs = item.get("doc_ids") or ()
            if not isinstance(docs, list | tuple) or not all(isinstance(d, str) for d in docs):
                raise BadInput(f"history turn {i + 1}: doc_ids must be a list of article ids (strings), "
                               f"got {docs!r:.80}")
            out.append(Turn(item["question"], item["answer"], tuple(docs)))
        else:
            shown = json.dumps(item, ensure_ascii=False, default=str)[:80]
            raise BadInput(f'history turn {i + 1}: expected {{"question": "...", "answer": "..."}}, got {shown}')
    return tuple(out)


def content_words(question: str) -> list[str]:
    """The question's own content words, normalised: stop and question words
    dropped, also with «و»/«ف» joined to them («وماذا», «فأين»)."""
    return [w for w in arabic.words(question) if len(w) > 1 and w not in arabic.STOPWORDS
            and not (w[0] in "وف" and w[1:] in arabic.STOPWORDS)]


def is_follow_up(question: str) -> bool:
    """Whether `question` leans on an earlier turn (the rules of this module)."""
    own = content_words(question)
    if len(own) == 1 and _names_subject(question):
        return False
    return bool(arabic.words(question)) and (
        len(own) < 2 or (len(own) <= 3 and (_opens(question) or _points_back(question))))


def _names_subject(question: str) -> bool:
    """A question word and a copula before its one content word: «من هو حيدان؟»,
    "where is Aden?" name what they ask about."""
    words = [_bare(w) for w in arabic.words(question)]
    for i in range(1, len(words) - 1):
        if words[i] in _AR_COPULA | _EN_COPULA and (words[i - 1] in _AR_QUESTION or words[i - 1] in _EN_QUESTION):
            return not _points_back(" ".join(words[i + 1 :]))
    return False


def switches_subject(question: str) -> bool:
    """A follow-up that asks the earlier question of a new subject: "what
    about X", «وماذا عن X», or «ومن هو X» / "and who is X" naming X."""
    words = arabic.words(question)
    low = " ".join(words)
    if any(low.startswith(p) for p in _SWITCH):
        return True
    if not _opens(question):
        return False
    copula = any(w in _AR_COPULA and i > 0 and _bare(words[i - 1]) in _AR_QUESTION for i, w in enumerate(words))
    return (copula or any(w in ("is", "are", "was") for w in words[1:3])) and len(content_words(question)) >= 2


def _bare(word: str) -> str:
    """`word` without a joined «و»/«ف» («ومن» -> «من»)."""
    return word[1:] if word[:1] in ("و", "ف") and word[1:] in _AR_QUESTION else word


def needs_context(question: str) -> bool:
    """Whether `question` cannot be understood alone: it has no Arabic or
    Latin letter («؟؟», "123", emoji, Chinese: nothing the articles can
    match), no content word, or it leans back («ومتى حدث ذلك؟», "and when?")
    with fewer than two."""
    if not _LETTER.search(arabic.normalize(question)):  # only digits, punctuation, emoji, marks, or another script
        return True
    n_content = len(content_words(question))
    if n_content == 1 and _names_subject(question):
        return False
    return n_content == 0 or (n_content < 2 and (_opens(question) or _points_back(question)))


def _opens(question: str) -> bool:
    """It opens like a continuation: «و»/«ف» joined to a question or function
    word («ومتى», «وفي», «فأين»), or "and", "so", "what about" ..."""
    words = arabic.words(question)
    first, low = words[0] if words else "", " ".join(words)
    if first in _EN_OPEN or any(low.startswith(p) for p in _EN_ABOUT):
        return True
    return first[:1] in ("و", "ف") and (first[1:] in _AR_QUESTION or first[1:] in arabic.STOPWORDS)


def _points_back(question: str) -> bool:
    """It has a demonstrative or pronoun standing for something said before."""
    words = arabic.words(question)
    for i, w in enumerate(words):
        if w in _EN_REFER:
            return True
        if w in _AR_REFER:
            copula = w in _AR_COPULA and i > 0 and words[i - 1] in _AR_QUESTION and i < len(words) - 1
            if not copula:
                return True
    return False


def entity(answer: str) -> str:
    """The short answer on a reply's first line, without its [n]; '' if the
    first line is a quoted sentence rather than a short answer."""
    lines = [x.strip() for x in answer.strip().split("\n")]
    if lines and lines[0].startswith("(") and lines[0].endswith(")"):  # the note `qa ask` prints first
        lines = lines[1:]
    if len(lines) < 2:
        return ""
    first = _MARKER.sub("", lines[0]).strip()
    return first if 0 < len(first.split()) <= MAX_ENTITY_WORDS else ""


def quotes(answer: str) -> list[str]:
    """The quoted pieces of a reply: its text split at the [n] markers."""
    return [q.strip() for q in _MARKER.split(answer) for q in q.split("\n") if len(q.strip()) >= 15]


def resolve(question: str, history: Sequence[Turn], cited: Callable[[str], tuple[str, ...]]) -> Context | None:
    """The context a follow-up `question` needs from `history` (oldest first),
    or None when it is self-contained or there is no history. `cited(reply)`
    names the articles a reply quoted, for turns that do not say."""
    if not history or not (is_follow_up(question) or switches_subject(question)):
        return None
    if switches_subject(question):  # the earlier question's frame («من هو», "who is"), the new subject
        base = next((t.question for t in reversed(history) if not is_follow_up(t.question)), history[-1].question)
        frame = " ".join(w for w in re.findall(r"\w+", base) if not content_words(w))
        return Context(base, frame, ())
    base, entities, docs = None, [], []
    for turn in reversed(history):  # back to the last self-contained question
        entities.append(entity(turn.answer))
        docs.extend(turn.doc_ids or cited(turn.answer))
        base = turn.question
        if not is_follow_up(turn.question):
            break
    own = set(content_words(question))
    key = " ".join(w for w in _keywords(base) if arabic.normalize(w) not in own)
    added = " ".join(x for x in (key, *entities) if x)
    return Context(base, added, tuple(dict.fromkeys(docs)))


def _keywords(question: str) -> list[str]:
    """The words of `question` as written, minus stop and question words."""
    return [w for w in re.findall(r"\w+", question) if content_words(w)]
