"""Scores of answer-blind strategies on the course's question bank (no database needed).

    .venv/bin/python bench/question_strategies.py [courses-dir]

"always the longest" picks the longest choice (the N longest for a choose-N question, ties at random),
"always the shortest" the shortest;
"always first in file" picks the first N choices as authored; "always first shown" picks the first N
choices as an attempt shows them (the real per-attempt shuffle, averaged over 200 attempts); "best
length rank" is the best "always the k-th longest" strategy (for choose-two, the best pair of ranks,
1 = longest), with its score. A question counts as right only when exactly the keys are picked, as the
quiz grades it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labapp.settings")


def main() -> None:
    import django

    django.setup()
    from labapp.courses.loader import scan
    from labapp.quizzes.guessing import measure

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "courses"
    result = scan(root)
    if result.errors:
        print(f"{len(result.errors)} load errors (questions with errors are left out); first: {result.errors[0]}")
    bank = [q for c in result.courses for m in c.modules for q in m.questions]
    groups = {
        "single-answer": [q for q in bank if q.type == "single"],
        "multiple-answer": [q for q in bank if q.type == "multiple"],
        "all": bank,
    }
    print(f"{'questions':<16}{'count':>6}{'chance':>9}{'longest':>9}{'shortest':>10}{'1st file':>10}{'1st shown':>11}"
          f"{'best length rank':>22}")
    for name, questions in groups.items():
        s = measure(questions)
        rank = f"{'+'.join(str(r + 1) for r in s.best_rank)}: {s.best_rank_score:.1%}" if s.best_rank else "-"
        print(f"{name:<16}{s.questions:>6}{s.chance:>9.1%}{s.longest:>9.1%}{s.shortest:>10.1%}{s.authored_first:>10.1%}"
              f"{s.shown_first:>11.1%}{rank:>22}")


if __name__ == "__main__":
    main()
