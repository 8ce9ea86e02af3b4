"""How well answer-blind strategies score on a question bank: a bank where "always the longest choice"
or "always the first choice" beats chance measures test-taking tricks, not knowledge.

Used by tests/courses/test_questions.py (which holds the course bank under a target) and by
bench/question_strategies.py (which prints the figures). Works on the loader's QuestionData or on
Question rows: anything with `uuid`, `answers` and `choices` ([{"id", "html", "correct"}]).
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass
from itertools import combinations, permutations
from math import comb
from types import SimpleNamespace

from .choice_order import ordered_choices

TAG = re.compile(r"<[^>]+>")


def visible_length(choice_html: str) -> int:
    """Characters a learner sees (markup removed, entities decoded, spaces collapsed)."""
    return len(" ".join(html.unescape(TAG.sub("", choice_html)).split()))


def _rows(question) -> list[dict]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [{**c, "id": c.get("id") or letters[i]} for i, c in enumerate(question.choices)]


def longest_score(question) -> float:
    """Chance that "pick the `answers` longest choices" (ties broken at random) is exactly right."""
    rows = _rows(question)
    n = question.answers
    lengths = sorted((visible_length(c["html"]) for c in rows), reverse=True)
    cut = lengths[n - 1]
    sure = [c for c in rows if visible_length(c["html"]) > cut]
    tied = [c for c in rows if visible_length(c["html"]) == cut]
    need = n - len(sure)
    if not all(c["correct"] for c in sure):
        return 0.0
    keys_tied = sum(1 for c in tied if c["correct"])
    if keys_tied != need:  # the remaining keys are not all among the tied lengths
        return 0.0
    return 1 / comb(len(tied), need)


def length_rank_score(question, ranks: tuple[int, ...]) -> float:
    """Chance that picking the choices at these length ranks (0 = longest; ties broken at random) is
    exactly right. ("always the longest" is ranks=(0,); "the two longest" is (0, 1).)"""
    rows = _rows(question)
    if max(ranks) >= len(rows) or len(ranks) != question.answers:
        return 0.0
    groups: dict[int, list[dict]] = {}
    for choice in rows:
        groups.setdefault(visible_length(choice["html"]), []).append(choice)
    # Every tie-break order is equally likely: count the orders in which the ranks hold exactly the keys.
    orders = [[]]
    for length in sorted(groups, reverse=True):
        orders = [order + list(tied) for order in orders for tied in permutations(groups[length])]
    hits = sum(all(order[r]["correct"] for r in ranks) for order in orders)
    return hits / len(orders)


def best_length_rank(questions) -> tuple[tuple[int, ...], float]:
    """The length-rank strategy that scores best over these questions (all of one `answers` count),
    with its mean score: a bank that gives nothing away by length keeps this near chance."""
    questions = list(questions)
    if not questions:
        return (), 0.0
    size = max(len(q.choices) for q in questions)
    scores = {ranks: sum(length_rank_score(q, ranks) for q in questions) / len(questions)
              for ranks in combinations(range(size), questions[0].answers)}
    best = max(scores, key=scores.get)
    return best, scores[best]


def shortest_score(question) -> float:
    """Chance that "pick the `answers` shortest choices" (ties broken at random) is exactly right."""
    count = len(question.choices)
    return length_rank_score(question, tuple(range(count - question.answers, count)))


def authored_first_score(question) -> float:
    """1 if the first `answers` choices in the file are the keys."""
    return float(all(c["correct"] for c in _rows(question)[: question.answers]))


def shown_first_score(question, seeds) -> float:
    """Share of attempts (one per seed) where the first `answers` choices shown are the keys."""
    shown = SimpleNamespace(uuid=question.uuid, choice_rows=_rows(question))
    hits = sum(all(c["correct"] for c in ordered_choices(shown, seed)[: question.answers]) for seed in seeds)
    return hits / len(seeds)


def chance_score(question) -> float:
    return 1 / comb(len(question.choices), question.answers)


@dataclass
class Strategies:
    questions: int
    longest: float
    shortest: float
    authored_first: float
    shown_first: float
    chance: float
    best_rank: tuple[int, ...] = ()
    best_rank_score: float = 0.0


def measure(questions, attempts: int = 200, rng_seed: int = 1) -> Strategies:
    """Mean scores (0..1) per question over `questions`; shown_first over `attempts` random seeds."""
    questions = list(questions)
    rng = random.Random(rng_seed)
    seeds = [f"{rng.getrandbits(64):016x}" for _ in range(attempts)]
    count = len(questions) or 1

    def mean(score):
        return sum(score(q) for q in questions) / count

    answers = {q.answers for q in questions}
    best = best_length_rank(questions) if len(answers) == 1 else ((), 0.0)
    return Strategies(len(questions), mean(longest_score), mean(shortest_score), mean(authored_first_score),
                      mean(lambda q: shown_first_score(q, seeds)), mean(chance_score), *best)
