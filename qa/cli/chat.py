"""`qa chat`: a conversation in the terminal.

Each question is asked with the earlier answers as its history, so «ومتى حدث
ذلك؟» after a question is read against it. Line editing and the up-arrow
history come from `readline` where Python has it. Commands: /sources (the
last answer's passages in full), /clear (forget the conversation), /help,
/quit (or Ctrl+D).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from qa.assistant import Assistant
from qa.cli import output
from qa.conversation import shown_citations
from qa.errors import QAError
from qa.types import Answer

HELP = """Ask a question about the articles, then follow up («ومتى حدث ذلك؟», "and who else attended?").
  /sources  the last answer's passages in full
  /clear    start a new conversation
  /quit     leave (or Ctrl+D)"""


def sources_text(answer: Answer | None) -> str:
    """The passages the answer cited, whole, with the quote's place."""
    cites = shown_citations(answer) if answer is not None else ()
    if not cites:
        return "no sources yet: the last reply cited nothing"
    out = []
    for c in cites:
        meta = ", ".join(x for x in (c.source, c.date, c.url) if x)
        out.append(f"[{c.n}] {c.title} ({c.doc_id}{', ' + meta if meta else ''})\n"
                   f"    quote: chars {c.start}-{c.end} of the article\n{c.chunk.text}")
    return "\n\n".join(out)


def chat(bot: Assistant, read: Callable[[str], str] = input, write: Callable[[str], None] = print,
         as_json: bool = False) -> int:
    """Run the conversation until /quit or end of input."""
    try:
        import readline  # noqa: F401  (line editing and history for input())
    except ImportError:
        pass
    history: list[Answer] = []
    say = (lambda text: print(text, file=sys.stderr)) if as_json else write  # stdout: one JSON object a line
    say(HELP)
    while True:
        try:
            line = read("? ").strip()
        except EOFError:
            say("")
            return 0
        if not line:
            continue
        if line in ("/quit", "/exit", "/q"):
            return 0
        if line == "/help":
            say(HELP)
        elif line == "/clear":
            history.clear()
            say("(new conversation · محادثة جديدة)")
        elif line == "/sources":
            say(sources_text(history[-1] if history else None))
        elif line.startswith("/"):
            say(f"unknown command {line.split()[0]}; /help lists them")
        else:
            try:
                bot = bot.refreshed()
                answer = bot.ask(line, history=history)
            except QAError as exc:
                print(f"qa: error: {exc}", file=sys.stderr)
                continue
            history.append(answer)
            write(output.json_line(output.answer_dict(answer)) if as_json else output.answer_text(answer) + "\n")
