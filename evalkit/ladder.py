"""Quality loss of quantization levels against the source file, as llama.cpp's perplexity tool measures it.

A fixed text (evalkit/data/ladder_text.txt, original prose written for evalkit, or
your own) is tokenized and cut into chunks of ``n_ctx`` tokens; the first token of
each chunk is replaced by BOS when the model adds one. Each chunk is evaluated by
the reference (the source file: the highest precision you have; requantizing a
Q4 file to Q8_0 adds nothing back) and by the level, in lockstep, and only the
second half of each chunk is scored (so every scored token has at least n_ctx/2
tokens of context), as llama.cpp's ``perplexity`` does:

- perplexity: exp(mean negative log-likelihood of the actual next token);
- KL divergence: mean over positions of KL(P_ref || P_level) of the full next-token
  distributions, and its 99th percentile;
- top-1 agreement: share of positions where both models' most likely token is the same.

Memory: a Gemma 3 logit row is 262,144 floats (1 MB). Logits are requested for
at most ``SUB_BATCH`` positions per decode call and compared row by row, so
nothing near a full (positions × vocabulary) matrix is ever held.

Runs in a child process (``python -m evalkit.ladder SPEC.json``) that holds the
reference and one level at a time, streaming one JSON line per level.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from evalkit.procs import child_env, describe_exit, tail

SUB_BATCH = 16


@dataclass(frozen=True)
class LadderSpec:
    n_ctx: int = 512  # llama.cpp perplexity's default chunk size
    max_chunks: int = 3
    text_path: str | None = None  # None: the bundled sample

    def text(self) -> str:
        if self.text_path:
            return Path(self.text_path).read_text(encoding="utf-8")
        return resources.files("evalkit").joinpath("data/ladder_text.txt").read_text(encoding="utf-8")

    def text_hash(self) -> str:
        return hashlib.sha256(self.text().encode("utf-8")).hexdigest()[:16]

    def as_dict(self) -> dict:
        return asdict(self)


def _log_softmax(row: np.ndarray) -> np.ndarray:
    z = row.astype(np.float64)
    z -= z.max()
    return z - math.log(np.exp(z).sum())


class _Model:
    """A model loaded for scoring: decode a chunk, hand back logit rows of chosen positions."""

    def __init__(self, path: str, n_ctx: int, threads: int, repack: str):
        from llama_cpp import llama_cpp as C

        from evalkit.backends.llamacpp import load_llama
        from evalkit.backends.safety import repack_allowed

        self.C = C
        self.llm = load_llama(path, n_ctx=n_ctx, n_batch=n_ctx, threads=threads,
                              use_extra_bufts=repack_allowed(path, repack, threads))  # fmt: skip
        self.ctx = self.llm._ctx.ctx
        self.mem = C.llama_get_memory(self.ctx)
        self.n_vocab = self.llm.n_vocab()
        self.batch = C.llama_batch_init(n_ctx, 0, 1)
        vocab = C.llama_model_get_vocab(self.llm._model.model)
        self.add_bos = bool(C.llama_vocab_get_add_bos(vocab))
        self.bos = int(C.llama_vocab_bos(vocab))

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=self.add_bos, special=False)

    def _decode(self, tokens: list[int], start: int, logits: bool) -> None:
        b = self.batch
        b.n_tokens = len(tokens)
        for i, tok in enumerate(tokens):
            b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = tok, start + i, 1, logits
            b.seq_id[i][0] = 0
        rc = self.C.llama_decode(self.ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed with code {rc}")

    def rows(self, chunk: list[int], first: int):
        """Yield (position, logits row) for positions first .. len(chunk)-2, SUB_BATCH per decode call."""
        self.C.llama_memory_clear(self.mem, True)
        self._decode(chunk[:first], 0, False)
        last = len(chunk) - 1
        for lo in range(first, last, SUB_BATCH):
            part = chunk[lo : min(lo + SUB_BATCH, last)]
            self._decode(part, lo, True)
            for i in range(len(part)):
                ptr = self.C.llama_get_logits_ith(self.ctx, i)
                yield lo + i, np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()

    def close(self) -> None:
        self.C.llama_batch_free(self.batch)
        self.llm.close()


def chunks_of(model: _Model, text: str, n_ctx: int, max_chunks: int) -> list[list[int]]:
    tokens = model.tokenize(text)
    n = min(len(tokens) // n_ctx, max_chunks)
    if n < 1:
        raise ValueError(f"the ladder text has {len(tokens)} tokens, fewer than one chunk of {n_ctx}")
    out = []
    for c in range(n):
        chunk = tokens[c * n_ctx : (c + 1) * n_ctx]
        if model.add_bos:
            chunk[0] = model.bos
        out.append(chunk)
    return out


def compare(ref: _Model, level: _Model | None, chunks: list[list[int]]) -> dict:
    """Perplexity of ref (and level), KL(ref || level) and top-1 agreement over the chunks' second halves."""
    nll_ref, nll_lvl, kls, same = [], [], [], []
    for chunk in chunks:
        first = len(chunk) // 2
        lvl_rows = level.rows(chunk, first) if level is not None else None
        for pos, r_row in ref.rows(chunk, first):
            lp_r = _log_softmax(r_row)
            nxt = chunk[pos + 1]
            nll_ref.append(-lp_r[nxt])
            if lvl_rows is None:
                continue
            _, q_row = next(lvl_rows)
            lp_q = _log_softmax(q_row)
            nll_lvl.append(-lp_q[nxt])
            kls.append(float(np.sum(np.exp(lp_r) * (lp_r - lp_q))))
            same.append(int(np.argmax(r_row)) == int(np.argmax(q_row)))
    out = {"ref_perplexity": math.exp(float(np.mean(nll_ref))), "n_tokens": len(nll_ref), "n_chunks": len(chunks)}
    if level is None:
        return {**out, "perplexity": out["ref_perplexity"], "kl_divergence": 0.0, "kl_p99": 0.0,
                "top1_agreement": 1.0, "top1_agreement_ci": 0.0}  # fmt: skip
    p = float(np.mean(same))
    return {**out, "perplexity": math.exp(float(np.mean(nll_lvl))), "kl_divergence": float(np.mean(kls)),
            "kl_p99": float(np.percentile(kls, 99)), "top1_agreement": p,
            "top1_agreement_ci": 1.959964 * math.sqrt(p * (1 - p) / max(len(same) - 1, 1))}  # fmt: skip


def _child(spec_path: str) -> None:
    """Child side: load the reference once, then each level in turn; one JSON line per level."""
    spec = json.loads(Path(spec_path).read_text())
    text = Path(spec["text_path"]).read_text(encoding="utf-8")
    ref = _Model(spec["ref"], spec["n_ctx"], spec["threads"], spec["repack"])
    chunks = chunks_of(ref, text, spec["n_ctx"], spec["max_chunks"])
    source = [lv for lv in spec["levels"] if lv["path"] == spec["ref"]]
    first = None
    for level in (lv for lv in spec["levels"] if lv["path"] != spec["ref"]):
        model = _Model(level["path"], spec["n_ctx"], spec["threads"], spec["repack"])
        result = compare(ref, model, chunks)
        model.close()
        first = first or result
        print(json.dumps({"model_id": level["model_id"], **result}), flush=True)
    for level in source:  # the reference against itself: its perplexity came with every comparison
        result = compare(ref, None, chunks) if first is None else {
            **{k: first[k] for k in ("ref_perplexity", "n_tokens", "n_chunks")}, "perplexity": first["ref_perplexity"],
            "kl_divergence": 0.0, "kl_p99": 0.0, "top1_agreement": 1.0, "top1_agreement_ci": 0.0}  # fmt: skip
        print(json.dumps({"model_id": level["model_id"], **result}), flush=True)
    ref.close()


def run_child(ref_path: str, levels: list[dict], spec: LadderSpec, threads: int, repack: str):
    """Measure *levels* ([{model_id, path}]) against *ref_path* in a child process; yield result dicts.

    Raises RuntimeError with the child's exit reason if it dies (e.g. out of memory)."""
    from evalkit.backends.llamacpp import default_threads

    with tempfile.TemporaryDirectory(prefix="evalkit-ladder-") as tmp:
        text_file, spec_file, log_file = Path(tmp) / "text.txt", Path(tmp) / "spec.json", Path(tmp) / "stderr.log"
        text_file.write_text(spec.text(), encoding="utf-8")
        spec_file.write_text(json.dumps({"ref": ref_path, "levels": levels, "text_path": str(text_file),
                                         "n_ctx": spec.n_ctx, "max_chunks": spec.max_chunks,
                                         "threads": threads or default_threads(), "repack": repack}))  # fmt: skip
        with open(log_file, "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "evalkit.ladder", str(spec_file)], stdout=subprocess.PIPE,
                                    stderr=log, text=True, env=child_env())  # fmt: skip
            for line in proc.stdout:
                yield json.loads(line)
            rc = proc.wait()
        if rc != 0:
            raise RuntimeError(f"ladder measurement {describe_exit(rc)}: {tail(log_file, 2)}")


LADDER_COLUMNS = ("source_model_id model_id quant_type bits_per_weight kl_divergence top1_agreement perplexity n_tokens "
                  "text_hash created_at n_ctx n_chunks kl_p99 top1_agreement_ci ref_perplexity details").split()


def measure_into(store, source_id: str, source_path: str, levels: list[dict], spec: LadderSpec, threads: int | None,
                 repack: str, force: bool = False) -> list[dict]:  # fmt: skip
    """Measure the source and each level ({model_id, path, quant_type, bits_per_weight}) and store `ladder` rows.

    Levels already measured with the same text, chunk size and chunk limit are read back, not recomputed."""
    from evalkit.gguf_info import read_gguf_info
    from evalkit.store import utcnow

    src_info = read_gguf_info(source_path)
    wanted = [{"model_id": source_id, "path": source_path, "quant_type": src_info.quant_type,
               "bits_per_weight": src_info.bits_per_weight}] + [lv for lv in levels if lv["model_id"] != source_id]  # fmt: skip
    key = [source_id, spec.text_hash(), spec.n_ctx, spec.max_chunks]
    have = set() if force else {r[0] for r in store.con.execute(
        "SELECT model_id FROM ladder WHERE source_model_id = ? AND text_hash = ? AND n_ctx = ? "
        "AND CAST(json_extract(details, '$.max_chunks') AS INTEGER) = ?", key).fetchall()}  # fmt: skip
    todo = [lv for lv in wanted if lv["model_id"] not in have]
    by_id = {lv["model_id"]: lv for lv in todo}
    for result in run_child(source_path, [{"model_id": lv["model_id"], "path": lv["path"]} for lv in todo], spec, threads, repack):
        lv = by_id[result["model_id"]]
        row = {**result, "source_model_id": source_id, "quant_type": lv["quant_type"], "bits_per_weight": lv["bits_per_weight"],
               "text_hash": key[1], "created_at": utcnow(), "n_ctx": spec.n_ctx,
               "details": json.dumps({"max_chunks": spec.max_chunks, "text": spec.text_path or "bundled", "path": lv["path"]})}  # fmt: skip
        store.con.execute("DELETE FROM ladder WHERE source_model_id = ? AND model_id = ? AND text_hash = ? AND n_ctx = ?",
                          [source_id, lv["model_id"], key[1], spec.n_ctx])  # fmt: skip
        store.con.execute(f"INSERT INTO ladder ({', '.join(LADDER_COLUMNS)}) VALUES ({', '.join('?' * len(LADDER_COLUMNS))})",
                          [row[c] for c in LADDER_COLUMNS])  # fmt: skip
    ids = [lv["model_id"] for lv in wanted]
    df = store.query(
        f"SELECT * FROM ladder WHERE source_model_id = ? AND text_hash = ? AND n_ctx = ? AND model_id IN ({', '.join('?' * len(ids))}) "
        "QUALIFY row_number() OVER (PARTITION BY model_id ORDER BY created_at DESC) = 1 ORDER BY bits_per_weight DESC",
        [source_id, key[1], spec.n_ctx, *ids],
    )
    return df.to_dict("records")


def measure_ladders(store, cells, spec: LadderSpec, config) -> list[str]:
    """Ladder rows for every source whose derived levels are in the matrix; failures become warnings."""
    groups: dict[str, list] = {}
    for cell in cells:
        if cell.source_model_id and cell.model_id:
            groups.setdefault(cell.source_model_id, []).append(cell)
    warnings = []
    for source_id, group in groups.items():
        levels = [{"model_id": c.model_id, "path": str(c.ref.path), "quant_type": c.info.get("quant_type"),
                   "bits_per_weight": c.info.get("bits_per_weight")} for c in group]  # fmt: skip
        try:
            measure_into(store, source_id, group[0].info["source_path"], levels, spec, config.threads, config.repack, config.force)
        except (RuntimeError, ValueError) as exc:
            warnings.append(f"quality ladder of {group[0].ref.name} not measured: {exc}")
    return warnings


if __name__ == "__main__":
    _child(sys.argv[1])
