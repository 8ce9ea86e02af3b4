"""The order a learner sees a question's choices in, and how a form names a choice.

Authors often write the right answer first, so the authored order must never reach the page. Each
attempt (module quiz or practice exam) has a seed, stored on it; a question's order is a shuffle seeded
by that seed and the question's uuid, so a reload shows the same order, another attempt another one, and
two questions of one attempt are shuffled independently.

Answers are stored as choice ids, never as displayed positions. Forms do not carry the ids either:
ids of older questions are letters by authored position ("a" was the key everywhere), so a form value
would tell. They carry an opaque token per choice (an HMAC of the question's uuid and the choice id).
"""

from __future__ import annotations

import random
import secrets

from django.utils.crypto import salted_hmac


def new_seed() -> str:
    return secrets.token_hex(8)


def quiz_seed(user_id: int, module_id: int, attempt_number: int) -> str:
    """The seed of a learner's n-th attempt (counting from 0) at a module quiz.

    Known before the attempt exists: the quiz page shows the questions before the first answer creates
    the attempt, and the attempt created then must keep the order the learner was looking at. Secret
    (keyed by SECRET_KEY), so the order cannot be predicted from outside."""
    key = f"{user_id}:{module_id}:{attempt_number}"
    return salted_hmac("quiz-choice-order", key, algorithm="sha256").hexdigest()[:16]


def ordered_choices(question, seed: str) -> list[dict]:
    """The question's choices (dicts with id, html, correct) in the order this attempt shows them.

    Without a seed (attempts from before shuffling) the ids' order, which is the authored order those
    learners saw. The shuffle starts from the ids' order, so moving choices around in a file does not
    change what an attempt in progress shows."""
    choices = sorted(question.choice_rows, key=lambda choice: choice["id"])
    if seed:
        random.Random(f"{seed}:{question.uuid}").shuffle(choices)
    return choices


def token(question, choice_id: str) -> str:
    """The form value that names this choice."""
    return salted_hmac("quiz-choice", f"{question.uuid}:{choice_id}", algorithm="sha256").hexdigest()[:12]


def ids_by_token(question) -> dict[str, str]:
    return {token(question, choice["id"]): choice["id"] for choice in question.choice_rows}
