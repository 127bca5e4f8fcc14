"""The answer stage: grounded composition without an LLM.

- `compose`: reads the sentences of the top hits and quotes the best, cited;
- `refusal`: the evidence and the per-model calibrated rule that decide
  whether to answer at all;
- `bridge`: the cross-lingual word bridge (English questions, Arabic articles);
- `cues`: answer-type cues («كم» wants a number, «متى» a date);
- `calibrations/`: the fitted refusal rules, written by `qa eval calibrate`.

This package imports nothing at package level, so `qa.query` can use `cues`.
"""
