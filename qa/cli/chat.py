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
  /help     this list
  /quit     leave (or Ctrl+D)"""


def sources_text(answer: Answer | None) -> str:
    """The passages the answer cited, whole, with the quote's place."""
    cites = shown_citations(answer) if answer is not None else ()
    if not cites:
        return "no sources yet: the last reply cited nothing"
    out = []
    for chunk_id in dict.fromkeys(c.chunk.chunk_id for c in cites):  # each passage once, with its quotes
        group = [c for c in cites if c.chunk.chunk_id == chunk_id]
        first = group[0]
        meta = ", ".join(x for x in (first.source, first.date, first.url) if x)
        quotes = "".join(f"\n    [{c.n}] quote: chars {c.start}-{c.end} of the article" for c in group)
        out.append(f"{' '.join(f'[{c.n}]' for c in group)} {first.title} ({first.doc_id}{', ' + meta if meta else ''})"
                   f"{quotes}\n{first.chunk.text}")
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
    piped = not sys.stdin.isatty()  # input() then echoes no newline after the question
    while True:
        try:
            if as_json:
                print("? ", end="", file=sys.stderr, flush=True)
            line = read("" if as_json else "? ").strip()
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
            if as_json:
                write(output.json_line(output.answer_dict(answer)))
            else:
                write(("\n" if piped else "") + output.answer_text(answer) + "\n")
