"""An lm-eval task file over the shared MMLU CSVs (helper, not a test).

Its prompt is evalkit's MMLU prompt (header, "Q\\nA. ..\\nAnswer:", " A" .. " D", few-shot from
dev in file order), so lm-eval through the bridge and evalkit's own suite score the same text.
"""

from __future__ import annotations

import json
from pathlib import Path

TASK = "evalkit_mmlu_geo"
SUBJECT = "high_school_geography"


def write_task(data_dir: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    mmlu = Path(data_dir) / "mmlu"
    lines = [
        f"task: {TASK}",
        "dataset_path: csv",
        "dataset_kwargs:",
        "  data_files:",
        f"    test: {json.dumps(str(mmlu / 'test' / f'{SUBJECT}_test.csv'))}",
        f"    dev: {json.dumps(str(mmlu / 'dev' / f'{SUBJECT}_dev.csv'))}",
        "  column_names: [question, A, B, C, D, answer]",
        "test_split: test",
        "fewshot_split: dev",
        "fewshot_config:",
        "  sampler: first_n",
        "output_type: multiple_choice",
        'description: "The following are multiple choice questions (with answers) about high school geography.\\n\\n"',
        'doc_to_text: "{{question.strip()}}\\nA. {{A}}\\nB. {{B}}\\nC. {{C}}\\nD. {{D}}\\nAnswer:"',
        'doc_to_choice: ["A", "B", "C", "D"]',
        "doc_to_target: \"{{['A','B','C','D'].index(answer)}}\"",
        "metric_list:",
        "  - metric: acc",
        "    aggregation: mean",
        "    higher_is_better: true",
        "metadata:",
        "  version: 1.0",
    ]
    (folder / f"{TASK}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def offline_env(tmp: Path) -> dict:
    """Environment for lm-eval/datasets: no network, caches in *tmp*."""
    return {"HF_DATASETS_CACHE": str(tmp / "hf-datasets"), "HF_HOME": str(tmp / "hf-home"), "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}  # fmt: skip
