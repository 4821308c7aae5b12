"""evalkit against lm-evaluation-harness 0.4.13 on the same MMLU 5-shot questions, same model, same machine.

lm-eval runs its ``gguf`` model against llama-cpp-python's OpenAI-compatible server
(``llama_cpp.server --logits_all true``; for SmolLM2 also the BOS overrides the issue
prescribes), one request per answer choice. The server is started through
``python -m evalkit.backends.llamacpp_server``, which applies evalkit's repacking guard
(stock, the server segfaults on its first multi-token batch on this project's AVX-512
machines) and, with ``--keep-eog``, returns a generated end-of-generation token instead of
dropping it, which otherwise makes lm-eval read some log-likelihoods as exactly 0.0. Its
MMLU task is lm-eval's own template pointed at the local CSVs
(benchmarks/lmeval/mmlu_local.yaml.in). evalkit evaluates the same questions in-process
through its choice task, twice per round:

* ``bos``: the model loaded with the server's overrides, so both see the same tokens
  (a BOS token first): predictions should agree exactly;
* ``native``: the model as shipped (no BOS), which is what ``evalkit run`` does.

Both use the same thread count. evalkit's rounds run before and after lm-eval; the
figures are medians. Model load is timed separately and not part of questions/s
(the server is started and warm before lm-eval's clock starts). lm-eval's
questions/s counts only the time inside its model's ``loglikelihood`` calls (its
start-up, task indexing and few-shot building are left out, in its favour); its
wall time is recorded too. evalkit's time includes building its prompts.

Usage:
    python benchmarks/bench_lmeval.py --model smollm2-135m \
        --subjects high_school_geography world_religions --limit 10 \
        --out benchmarks/results/lmeval-smollm2.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import BOS_OVERRIDES, DATA_DIR, ROOT, evaluate_mmlu, host, median, write_result

HERE = Path(__file__).resolve().parent


def local_mmlu_jsonl(data_dir: str, subjects: list[str], out: Path) -> None:
    """The original CSVs as JSON lines with the Hub's fields, strings untouched."""
    for subject in subjects:
        for split in ("test", "dev"):
            with open(Path(data_dir) / "mmlu" / split / f"{subject}_{split}.csv", newline="", encoding="utf-8") as fh:
                rows = list(csv.reader(fh))
            with open(out / f"{subject}_{split}.jsonl", "w", encoding="utf-8") as fh:
                for q, a, b, c, d, ans in rows:
                    fh.write(json.dumps({"question": q, "choices": [a, b, c, d], "answer": "ABCD".index(ans.strip())}) + "\n")


def write_tasks(subjects: list[str], data: Path, out: Path) -> list[str]:
    template = (HERE / "lmeval" / "mmlu_local.yaml.in").read_text()
    for s in subjects:
        (out / f"{s}.yaml").write_text(template.format(subject=s, title=s.replace("_", " "), data=data))
    return [f"evalkit_bench_mmlu_{s}" for s in subjects]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_path: str, overrides: dict, threads: int, n_ctx: int, log: Path, keep_eog: bool = False):
    import httpx

    port = free_port()
    cmd = [sys.executable, "-m", "evalkit.backends.llamacpp_server", *(["--keep-eog"] if keep_eog else []),
           "--model", model_path, "--logits_all", "true", "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(threads), "--n_threads_batch", str(threads)]  # fmt: skip
    if overrides:
        cmd += ["--kv_overrides"] + [f"{k}={type(v).__name__}:{str(v).lower()}" for k, v in overrides.items()]
    proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if proc.poll() is not None:
            sys.exit(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/v1/models", timeout=2).status_code == 200:
                return proc, url, cmd
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    sys.exit("llama_cpp.server did not come up in 5 minutes")


def run_lmeval(url: str, tasks: list[str], task_dir: Path, limit: int) -> tuple[float, float, dict]:
    """Run lm-eval; return (wall seconds, seconds inside the model's loglikelihood calls, predictions)."""
    from lm_eval import simple_evaluate
    from lm_eval.models.gguf import GGUFLM
    from lm_eval.tasks import TaskManager

    in_model = [0.0]
    original = GGUFLM.loglikelihood

    def timed(self, requests, disable_tqdm: bool = False):
        t = time.perf_counter()
        try:
            return original(self, requests, disable_tqdm)
        finally:
            in_model[0] += time.perf_counter() - t

    GGUFLM.loglikelihood = timed
    order: list[str] = []  # the requests in the order the server saw them (its prefix cache depends on it)
    original_completion = GGUFLM.gguf_completion

    def logged(self, context, continuation=None, *a, **kw):
        order.append(f"{len(context)}:{context[-60:]!r}+{continuation!r}")
        return original_completion(self, context, continuation, *a, **kw)

    GGUFLM.gguf_completion = logged
    t0 = time.perf_counter()
    out = simple_evaluate(model="gguf", model_args=f"base_url={url}", tasks=tasks, num_fewshot=5, limit=limit,
                          log_samples=True, task_manager=TaskManager(include_path=str(task_dir)), batch_size=1)  # fmt: skip
    seconds = time.perf_counter() - t0
    GGUFLM.loglikelihood = original
    GGUFLM.gguf_completion = original_completion
    preds = {}
    for task, samples in out["samples"].items():
        subject = task.removeprefix("evalkit_bench_mmlu_")
        for s in samples:
            lls = [float(r[0]) for r in s["filtered_resps"]]
            preds[(subject, int(s["doc_id"]))] = (lls, "ABCD"[max(range(4), key=lambda j: lls[j])])
    preds["__order__"] = order
    return seconds, in_model[0], preds


def evalkit_round(model: str, path: str, subjects, limit, threads: int, overrides: dict | None) -> dict:
    from evalkit.backends.llamacpp import LlamaCppBackend

    b = LlamaCppBackend(path, threads=threads, kv_overrides=overrides or None)
    try:
        seconds, rows = evaluate_mmlu(b, model, subjects, limit)
        return {"load_s": b.load_seconds, "eval_s": seconds, "tokens": b.tokens_decoded, "rows": rows}
    finally:
        b.close()


def key_rows(rows, subjects, limit) -> dict:
    out, per = {}, {}
    for r in rows:
        i = per.get(r.subset, 0)
        per[r.subset] = i + 1
        out[(r.subset, i)] = (r.logprobs, r.prediction)
    return out


def agreement(per_question: list[dict], tol: float = 1e-3) -> dict:
    """How far evalkit and lm-eval agree, question by question and log-likelihood by log-likelihood.

    A log-likelihood of exactly 0.0 (probability 1) for one of four letters is impossible while the other
    three have probability left; lm-eval reads it when its text-offset arithmetic finds no continuation
    token in the server's echo (the issue's "every log-likelihood comes back 0.0" without the BOS
    overrides, here on single requests). Such questions are counted separately.
    """
    pairs = [(a, b) for q in per_question for a, b in zip(q["lmeval"], q["evalkit"])]
    broken = [q for q in per_question if any(x == 0.0 for x in q["lmeval"])]
    valid = [q for q in per_question if q not in broken]
    return {
        "identical_predictions": sum(q["lmeval_pred"] == q["evalkit_pred"] for q in per_question),
        "questions": len(per_question),
        "loglikelihoods_equal_within": tol,
        "loglikelihoods_equal": sum(abs(a - b) <= tol for a, b in pairs),
        "loglikelihoods": len(pairs),
        "lmeval_zero_loglikelihoods": sum(a == 0.0 for a, _ in pairs),
        "questions_with_lmeval_zero": len(broken),
        "identical_predictions_where_lmeval_valid": f"{sum(q['lmeval_pred'] == q['evalkit_pred'] for q in valid)}/{len(valid)}",
    }


def rescore(path: Path) -> None:
    """Recompute the agreement summary of a recorded result from its per-question figures."""
    result = json.loads(path.read_text())
    for m in ("bos", "native"):
        result[f"evalkit_{m}"]["agreement"] = agreement(result[f"evalkit_{m}"]["per_question"])
    path.write_text(json.dumps(result, indent=1, default=str))
    print(json.dumps({m: result[f"evalkit_{m}"]["agreement"] for m in ("bos", "native")}, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--subjects", nargs="+", default=["high_school_geography", "world_religions"])
    ap.add_argument("--limit", type=int, default=10, help="questions per subject")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2, help="evalkit rounds before and again after lm-eval")
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--keep-eog", action="store_true",
                    help="the server returns a generated end-of-generation token, so lm-eval does not drop the "
                         "continuation's last token as the generated one (see evalkit/backends/llamacpp_server.py)")
    ap.add_argument("--rescore", action="store_true", help="only recompute the agreement summary of the recorded --out file")
    args = ap.parse_args()
    if args.rescore:
        return rescore(args.out)
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from evalkit.models import resolve_model

    path = str(resolve_model(args.model).path)
    overrides = BOS_OVERRIDES.get(args.model, {})
    n = args.limit * len(args.subjects)
    work = Path(tempfile.mkdtemp(prefix="evalkit-bench-lmeval-"))
    local_mmlu_jsonl(DATA_DIR, args.subjects, work)
    tasks = write_tasks(args.subjects, work, work)

    modes = {"bos": overrides, "native": None}
    rounds: dict[str, list[dict]] = {m: [] for m in modes}

    def evalkit_rounds():
        for _ in range(args.rounds):
            for m, ov in modes.items():
                rounds[m].append(evalkit_round(args.model, path, args.subjects, args.limit, args.threads, ov))
                print(f"evalkit {m}: {rounds[m][-1]['eval_s']:.1f} s", flush=True)

    evalkit_rounds()
    server, url, server_cmd = start_server(path, overrides, args.threads, args.n_ctx, work / "server.log", args.keep_eog)
    try:
        load_before = os.getloadavg()
        lm_wall, lm_seconds, lm_preds = run_lmeval(url, tasks, work, args.limit)
        request_order = lm_preds.pop("__order__")
        print(f"lm-eval: {lm_wall:.1f} s wall, {lm_seconds:.1f} s in requests", flush=True)
    finally:
        server.terminate()
        server.wait(30)
    evalkit_rounds()

    result = {"model": args.model, "subjects": args.subjects, "questions": n, "threads": args.threads, "host": host(),
              "loadavg_at_lmeval_start": load_before, "server_command": " ".join(server_cmd), "keep_eog": args.keep_eog,
              "lmeval": {"wall_seconds": round(lm_wall, 1), "request_seconds": round(lm_seconds, 1),
                         "questions_per_s": n / lm_seconds, "questions_per_s_wall": n / lm_wall}}  # fmt: skip
    for m in modes:
        rs = rounds[m]
        eval_s = median([r["eval_s"] for r in rs])
        ek = key_rows(rs[-1]["rows"], args.subjects, args.limit)
        same = sum(1 for k, (_, pred) in lm_preds.items() if ek.get(k, (None, None))[1] == pred)
        diffs = [abs(a - b) for k, (lls, _) in lm_preds.items() for a, b in zip(lls, ek[k][0])]
        result[f"evalkit_{m}"] = {
            "eval_seconds_median": round(eval_s, 2), "eval_seconds_all": [round(r["eval_s"], 2) for r in rs],
            "load_seconds_median": round(median([r["load_s"] for r in rs]), 2), "tokens_decoded": rs[-1]["tokens"],
            "questions_per_s": n / eval_s, "speedup_vs_lmeval": (n / eval_s) / (n / lm_seconds),
            "identical_predictions": f"{same}/{len(lm_preds)}", "identical_share": same / len(lm_preds),
            "max_abs_loglik_diff": max(diffs) if diffs else None,
            "per_question": [{"subject": k[0], "index": k[1], "lmeval": [round(x, 4) for x in lls], "lmeval_pred": pred,
                              "evalkit": [round(x, 4) for x in ek[k][0]], "evalkit_pred": ek[k][1]}
                             for k, (lls, pred) in sorted(lm_preds.items())],
        }  # fmt: skip
        result[f"evalkit_{m}"]["agreement"] = agreement(result[f"evalkit_{m}"]["per_question"])
    result["lmeval"]["request_order"] = request_order
    write_result(args.out, result)
    print(json.dumps({k: v for k, v in result.items() if k != "host"}, indent=1))


if __name__ == "__main__":
    main()
