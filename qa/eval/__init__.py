"""The evaluation harness, outside the product's hot path.

- `datasets`: SQuAD-format and JSONL question sets, overlays in other wording;
- `run`: index the articles, ask every question as `Assistant.ask` does, record;
- `metrics`: recall@k, MRR, containment, refusals, latency, and their table;
- `baselines`: the plain-BM25 baseline of `qa eval --compare`;
- `conversations`: follow-up questions asked after the turns before them;
- `calibrate`: fit the refusal rule from the records and write its file.

Use it from the command line (`qa eval`, `qa eval calibrate`) or from Python:

    from qa.eval import evaluate_squad, format_table
    print(format_table(evaluate_squad(Path("arcd-train.json"), Settings())))
"""

from qa.eval.conversations import evaluate_conversations, is_conversation_file
from qa.eval.metrics import EvalResult, format_table
from qa.eval.run import QuestionRecord, evaluate_jsonl, evaluate_squad

__all__ = ["EvalResult", "QuestionRecord", "evaluate_conversations", "evaluate_jsonl", "evaluate_squad",
           "format_table", "is_conversation_file"]
