"""Module quizzes: every question of the module, immediate feedback (right/wrong, the explanation, links to
the lesson section and the lab), the score remembered, retakes."""

import pytest
from django.test import Client

from labapp.quizzes.models import Question, QuizAttempt

from .conftest import HTMX, right, tokens, wrong

pytestmark = pytest.mark.django_db

QUIZ = "/courses/practice/network/quiz/"


def answer_url(question):
    return f"/courses/practice/{question.module.slug}/quiz/{question.uuid}/"


def network_questions():
    return list(Question.objects.filter(module__slug="network").order_by("order"))


def test_quiz_page_shows_every_question_of_the_module(practice, alice_client):
    page = alice_client.get(QUIZ).content.decode()
    assert page.count('class="question"') == 15
    assert "Networking question 1: which statement is true?" in page
    assert "Networking question 15:" in page
    assert "(Choose two.)" in page  # question 5 is a multiple-answer question
    assert page.count("Check answer") == 15
    assert "Answered 0 of 15" in page


def test_right_answer_gets_immediate_feedback_with_links(practice, alice_client):
    question = Question.objects.get(module__slug="storage", order=0)
    response = alice_client.post(answer_url(question), {"choice": right(question)}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-verdict="right"' in html and "Correct." in html
    assert "Explanation for storage question 1" in html
    assert 'href="/courses/practice/storage/lessons/basics/#key-facts"' in html
    assert 'href="/labs/practice-lab/"' in html
    assert "Answered 1 of 30 · 1 correct so far." in html  # the score, swapped out of band
    assert 'hx-swap-oob="true"' in html


def test_wrong_answer_shows_the_right_one(practice, alice_client):
    question = network_questions()[0]
    html = alice_client.post(answer_url(question), {"choice": wrong(question)}, **HTMX).content.decode()
    assert 'data-verdict="wrong"' in html and "Not quite." in html
    assert "Explanation for network question 1" in html
    assert html.count("choice-correct") == 1
    assert "badge-bad" in html  # the learner's wrong choice is marked


def test_first_answer_counts_and_the_count_of_choices_is_checked(practice, alice_client):
    questions = network_questions()
    multiple = questions[4]
    html = alice_client.post(answer_url(multiple), {"choice": tokens(multiple, ["a"])}, **HTMX).content.decode()
    assert "Choose 2 answers; you chose 1." in html
    assert not QuizAttempt.objects.filter(answers__question=multiple).exists()
    alice_client.post(answer_url(multiple), {"choice": tokens(multiple, ["a", "c"])}, **HTMX)
    html = alice_client.post(answer_url(multiple), {"choice": tokens(multiple, ["b", "d"])}, **HTMX).content.decode()
    assert 'data-verdict="right"' in html  # the second post does not change the first answer


def test_without_javascript_the_form_posts_and_the_page_shows_the_feedback(practice, alice_client):
    question = network_questions()[1]
    response = alice_client.post(answer_url(question), {"choice": right(question)})
    assert response.status_code == 302 and response["Location"] == f"{QUIZ}#q-{question.uuid}"
    page = alice_client.get(QUIZ).content.decode()
    assert "Correct." in page and "Answered 1 of 15 · 1 correct so far." in page


def test_score_is_remembered_and_a_retake_starts_over(practice, alice_client):
    questions = network_questions()
    for n, question in enumerate(questions):
        choice = wrong(question) if n < 3 else right(question)
        alice_client.post(answer_url(question), {"choice": choice}, **HTMX)
    page = alice_client.get(QUIZ).content.decode()
    assert "You scored 12 of 15" in page and "(80%)" in page
    assert "Your best score: 12 of 15 (80%)" in page
    # The course page remembers it too.
    course_page = alice_client.get("/courses/practice/").content.decode()
    assert "12/15 (80%)" in course_page

    alice_client.post(f"{QUIZ}retake/")
    page = alice_client.get(QUIZ).content.decode()
    assert "Answered 0 of 15" in page and page.count("Check answer") == 15
    assert "Your best score: 12 of 15 (80%)" in page
    alice_client.post(answer_url(questions[0]), {"choice": right(questions[0])}, **HTMX)
    assert "Your best score: 12 of 15 (80%)" in alice_client.get(QUIZ).content.decode()


def test_learners_do_not_share_quiz_attempts(practice, alice_client, bob_client):
    question = network_questions()[0]
    alice_client.post(answer_url(question), {"choice": right(question)}, **HTMX)
    page = bob_client.get(QUIZ).content.decode()
    assert "Answered 0 of 15" in page and "Correct." not in page


def test_a_question_of_another_module_is_not_found(practice, alice_client):
    question = Question.objects.filter(module__slug="storage").first()
    url = f"/courses/practice/network/quiz/{question.uuid}/"
    assert alice_client.post(url, {"choice": right(question)}).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(practice):
    response = Client().get(QUIZ)
    assert response.status_code == 302 and "/login/" in response["Location"]


def wrong_but_complete(question):
    """A wrong answer with as many choices as the question asks for (so that it is recorded)."""
    ids = [c["id"] for c in question.choice_rows if not c["correct"]][:1] + question.correct_ids[1:]
    return tokens(question, ids)


def test_an_attempt_in_progress_shows_no_best_score(practice, alice_client):
    """A quiz is finished when every question has an answer; until then "1 of 15" is not a score."""
    questions = network_questions()
    alice_client.post(answer_url(questions[0]), {"choice": right(questions[0])}, **HTMX)
    page = alice_client.get(QUIZ).content.decode()
    assert "Answered 1 of 15 · 1 correct so far." in page
    assert "Your best score" not in page
    assert "not taken" in alice_client.get("/courses/practice/").content.decode()
    assert "your best score" not in alice_client.get("/courses/practice/network/").content.decode()

    for question in questions[1:]:
        alice_client.post(answer_url(question), {"choice": wrong_but_complete(question)}, **HTMX)
    page = alice_client.get(QUIZ).content.decode()
    assert "You scored 1 of 15" in page and "Your best score: 1 of 15 (7%)" in page

    # A better retake counts only once it is finished too.
    alice_client.post(f"{QUIZ}retake/")
    for question in questions[:5]:
        alice_client.post(answer_url(question), {"choice": right(question)}, **HTMX)
    assert "Your best score: 1 of 15 (7%)" in alice_client.get(QUIZ).content.decode()
    for question in questions[5:]:
        alice_client.post(answer_url(question), {"choice": right(question)}, **HTMX)
    assert "Your best score: 15 of 15 (100%)" in alice_client.get(QUIZ).content.decode()
