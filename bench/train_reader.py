"""Train the reader (qa/answer/reader.py): fine-tune the project's multilingual-e5-small
into an extractive QA reader with a no-answer option (SQuAD 2.0 style) on CPU,
reproducibly (fixed seed; the same seed and thread count give a byte-identical file).

Data: XQuAD ar, XQuAD en questions over the ARABIC paragraphs (aligned by id), and the
ARCD articles not held out (ai % K == K-1 is held out, as `qa eval --holdout-every K`).
Each question also gets two no-answer pairs labelled [CLS]: another paragraph of its
article and a paragraph of another article. Only the top `--train-layers` layers and the
qa head train (the frozen part runs in bf16, eval mode); only they are saved.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/train_reader.py --xquad-ar PATH/TO/xquad.ar.json \
        --xquad-en PATH/TO/xquad.en.json --arcd PATH/TO/arcd-train.json --out qa/answer/models
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import time
from collections import Counter
from pathlib import Path

import torch
from reader_data import Example, Feature, build_examples, featurize, load_articles
from safetensors.torch import save_file
from transformers import AutoModelForQuestionAnswering, AutoTokenizer

from qa.answer.reader import BASE_WEIGHTS, Reader, sha256_file
from qa.e5convert import ensure_converted
from qa.embedding import cpu_has_fast_bf16
from qa.eval.metrics import exact_match, token_f1

log = logging.getLogger("train_reader")


def batches(feats: list[Feature], size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches, length-grouped within blocks of 8 batches (less padding)."""
    order = rng.sample(range(len(feats)), len(feats))
    out = []
    for i in range(0, len(order), size * 8):
        block = sorted(order[i : i + size * 8], key=lambda k: len(feats[k][0]))
        out += [block[j : j + size] for j in range(0, len(block), size)]
    rng.shuffle(out)
    return out


def collate(feats: list[Feature], idx: list[int], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a batch to its longest window."""
    width = max(len(feats[k][0]) for k in idx)
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for row, k in enumerate(idx):
        ids[row, : len(feats[k][0])] = torch.tensor(feats[k][0])
        mask[row, : len(feats[k][0])] = 1
    return {"input_ids": ids, "attention_mask": mask, "start_positions": torch.tensor([feats[k][1] for k in idx]),
            "end_positions": torch.tensor([feats[k][2] for k in idx])}


def train(model: torch.nn.Module, feats: list[Feature], args: argparse.Namespace, frozen: list[torch.nn.Module],
          bf16: bool, pad_id: int) -> None:
    """AdamW, linear warm-up (10%) and decay, grad clip 1.0; logs loss, examples/s, ETA."""
    rng = random.Random(args.seed)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    per_epoch = (len(feats) + args.batch_size - 1) // args.batch_size
    total, warm = per_epoch * args.epochs, max(1, per_epoch * args.epochs // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    model.train()
    for m in frozen:
        m.eval()
    step, seen, t0, losses = 0, 0, time.perf_counter(), []
    for epoch in range(args.epochs):
        for idx in batches(feats, args.batch_size, rng):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = model(**collate(feats, idx, pad_id)).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step, seen = step + 1, seen + len(idx)
            losses.append(loss.item())
            if step % args.log_every == 0 or step == total:
                rate = seen / (time.perf_counter() - t0)
                eta = (total * args.batch_size - seen) / rate
                log.info("epoch %d step %d/%d loss %.3f | %.2f examples/s | ETA %.1f min",
                         epoch + 1, step, total, sum(losses[-args.log_every :]) / len(losses[-args.log_every :]),
                         rate, max(0.0, eta) / 60)
    args.train_seconds = round(time.perf_counter() - t0, 1)
    args.train_examples_per_s = round(seen / max(args.train_seconds, 1e-9), 3)


def evaluate(reader: Reader, examples: list[Example]) -> dict[str, float]:
    """EM/F1 on positives (best span forced, and SQuAD 2.0 style with the
    no-answer option), and the no-answer accuracy on the negatives."""
    acc: Counter[str] = Counter()
    for ex in examples:
        (reading,) = reader.read(ex.question, [ex.context])
        answered = reading.margin > 0
        acc["n_" + ex.kind] += 1
        if ex.kind == "pos":
            pred, gold = ex.context[reading.start : reading.end], [ex.context[ex.start : ex.end]]
            em, f1 = exact_match(pred, gold), token_f1(pred, gold)
            acc.update({"em": em, "f1": f1, "answered": answered, "em2": em * answered, "f1_2": f1 * answered})
        else:
            acc["noans_" + ex.kind] += not answered
    npos, nneg = acc["n_pos"], acc["n_neg-same"] + acc["n_neg-other"]
    r = lambda x, n: round(100 * x / max(n, 1), 2)  # noqa: E731
    refused = acc["noans_neg-same"] + acc["noans_neg-other"]
    return {"n_pos": npos, "n_neg": nneg, "has_ans_em": r(acc["em"], npos), "has_ans_f1": r(acc["f1"], npos),
            "has_ans_answered": r(acc["answered"], npos), "no_ans_acc": r(refused, nneg),
            "no_ans_acc_same_article": r(acc["noans_neg-same"], acc["n_neg-same"]),
            "no_ans_acc_other_article": r(acc["noans_neg-other"], acc["n_neg-other"]),
            "squad2_em": r(acc["em2"] + refused, npos + nneg), "squad2_f1": r(acc["f1_2"] + refused, npos + nneg)}


OPTIONS: list[tuple[str, type, object, str]] = [
    ("--holdout-every", int, 5, "ARCD article ai is held out when ai %% K == K-1"),
    ("--train-layers", int, 6, "top encoder layers trained"), ("--log-every", int, 10, "steps"),
    ("--max-len", int, 256, "tokens per window"), ("--stride", int, 64, "tokens shared by consecutive windows"),
    ("--neg-windows", int, 1, "windows kept per no-answer pair"), ("--max-answer-tokens", int, 48, "at inference"),
    ("--epochs", int, 2, ""), ("--lr", float, 1e-4, ""), ("--batch-size", int, 16, ""), ("--seed", int, 13, ""),
    ("--threads", int, 2, "torch threads (set OMP_WAIT_POLICY=PASSIVE on a shared machine)"),
    ("--max-train", int, None, "cap on training windows (smoke runs)"), ("--out", Path, Path("reader_out"), ""),
]


def parse_args() -> argparse.Namespace:
    """Command line: data paths are required, the rest has the chosen defaults."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for flag in ("--xquad-ar", "--xquad-en", "--arcd"):
        ap.add_argument(flag, type=Path, required=True, help="SQuAD-format json")
    ap.add_argument("--base", type=Path, default=None, help="e5 folder (default: qa.e5convert.ensure_converted())")
    for flag, kind, default, text in OPTIONS:
        ap.add_argument(flag, type=kind, default=default, help=text or None)
    return ap.parse_args()


def main() -> None:
    """Build data, train, save, reload with `reader.Reader` and evaluate on held-out ARCD."""
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.threads > 1 and "OMP_WAIT_POLICY" not in os.environ:
        log.warning("OMP_WAIT_POLICY is unset: with other work on the CPU, spinning OpenMP threads made "
                    "training 2.5x slower here; run with OMP_WAIT_POLICY=PASSIVE")
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    base = args.base or ensure_converted()
    base_meta = {"folder": base.name, "sha256": sha256_file(base / BASE_WEIGHTS)}
    conv = base / "qa_conversion.json"
    base_meta["conversion"] = json.loads(conv.read_text(encoding="utf-8")) if conv.exists() else None

    rng = random.Random(args.seed)
    ar, en, arcd = load_articles(args.xquad_ar), load_articles(args.xquad_en), load_articles(args.arcd)
    en_q = {qa["id"]: qa["question"] for art in en for p in art for qa in p["qas"]}
    k = args.holdout_every
    held_ai = [ai for ai in range(len(arcd)) if k and ai % k == k - 1]
    train_ai = [ai for ai in range(len(arcd)) if ai not in held_ai]
    examples = (build_examples(ar, list(range(len(ar))), "xquad-ar", rng)
                + build_examples(ar, list(range(len(ar))), "xquad-en", rng, questions=en_q)
                + build_examples(arcd, train_ai, "arcd", rng))
    held = build_examples(arcd, held_ai, "arcd-heldout", random.Random(0))  # the same set for every seed
    tok = AutoTokenizer.from_pretrained(str(base))
    feats = featurize(tok, examples, args.max_len, args.stride, args.neg_windows)
    counts = {f"{s}/{kd}": c for (s, kd), c in sorted(Counter((e.source, e.kind) for e in examples).items())}
    log.info("examples %s; training windows: %d (%d hold the answer); held-out pairs: %d", counts, len(feats),
             sum(f[1] > 0 for f in feats), len(held))
    rng.shuffle(feats)
    feats = feats[: args.max_train] if args.max_train else feats

    model = AutoModelForQuestionAnswering.from_pretrained(str(base), attention_probs_dropout_prob=0.0)
    n = model.config.num_hidden_layers
    layers = list(range(n - args.train_layers, n))
    prefixes = (*(f"bert.encoder.layer.{i}." for i in layers), "qa_outputs.")
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith(prefixes)
    frozen = [model.bert.embeddings, *model.bert.encoder.layer[: n - args.train_layers]]
    bf16 = cpu_has_fast_bf16()
    for m in frozen if bf16 else []:
        m.to(torch.bfloat16)
    log.info("training layers %s + qa head: %d parameters, bf16=%s, %d windows x %d epochs",
             layers, sum(p.numel() for p in model.parameters() if p.requires_grad), bf16, len(feats), args.epochs)
    train(model, feats, args, frozen, bf16, tok.pad_token_id)

    args.out.mkdir(parents=True, exist_ok=True)
    tensors = {name: (t.detach().half() if name.startswith("bert.") else t.detach().float()).contiguous()
               for name, t in model.state_dict().items() if name.startswith(prefixes)}
    config = {"train_layers": layers, "max_len": args.max_len, "stride": args.stride, "neg_windows": args.neg_windows,
              "max_answer_tokens": args.max_answer_tokens, "seed": args.seed, "epochs": args.epochs, "lr": args.lr,
              "batch_size": args.batch_size, "threads": args.threads, "bf16": bf16, "max_train": args.max_train,
              "attention_dropout": 0.0, "layers_dtype": "float16", "head_dtype": "float32"}
    path = args.out / "reader.safetensors"
    header = {"base_sha256": base_meta["sha256"], "base_folder": base.name, "config": config}
    save_file(tensors, str(path), metadata={"reader": json.dumps(header, sort_keys=True)})  # one key: stable bytes
    files = {"xquad_ar": args.xquad_ar, "xquad_en_questions": args.xquad_en, "arcd": args.arcd}
    data = {key: {"file": p.name, "sha256": sha256_file(p)} for key, p in files.items()}
    data.update(arcd_holdout_every=k, arcd_train_articles=len(train_ai), arcd_heldout_articles=len(held_ai),
                examples=counts, train_windows=len(feats))
    meta = {"adapter_sha256": sha256_file(path), "adapter_bytes": path.stat().st_size, "base": base_meta,
            "config": config, "data": data, "train_seconds": args.train_seconds,
            "train_examples_per_s": args.train_examples_per_s}
    (args.out / "reader.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")

    log.info("evaluating the saved adapter on %d held-out ARCD pairs", len(held))
    t0 = time.perf_counter()
    meta["metrics"] = evaluate(Reader(base, path, threads=args.threads), held)
    meta["eval_seconds"] = round(time.perf_counter() - t0, 1)
    (args.out / "reader.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(meta["metrics"], ensure_ascii=False))
    print(f"{path}: {meta['adapter_bytes'] / 1e6:.1f} MB, sha256 {meta['adapter_sha256']}")


if __name__ == "__main__":
    main()
