"""Answers name choices by id instead of by position, so that choices can be shown in a shuffled order.

Until now every choice was known by its index in the authored order. The loader now gives each choice an
id, by default its letter by authored position (index 0 -> "a"), and course files that reorder their
choices keep those letters as explicit ids. So a stored index i becomes LETTERS[i]: the same choice, and
old answers grade as before. Attempts keep an empty choice_seed, which shows the authored order they saw.
"""

from django.db import migrations, models

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def indexes_to_ids(selected):
    return [LETTERS[value] if isinstance(value, int) else value for value in selected]


def ids_to_indexes(selected):
    return [LETTERS.index(value) if isinstance(value, str) and value in LETTERS else value for value in selected]


def convert(apps, to):
    Question = apps.get_model("quizzes", "Question")
    QuizAnswer = apps.get_model("quizzes", "QuizAnswer")
    ExamAttempt = apps.get_model("quizzes", "ExamAttempt")
    for question in Question.objects.all():
        if to is indexes_to_ids:
            question.choices = [{**choice, "id": choice.get("id") or LETTERS[i]}
                                for i, choice in enumerate(question.choices)]
            question.save(update_fields=["choices"])
    for answer in QuizAnswer.objects.all():
        answer.selected = to(answer.selected)
        answer.save(update_fields=["selected"])
    for attempt in ExamAttempt.objects.all():
        attempt.answers = {pk: to(selected) for pk, selected in attempt.answers.items()}
        attempt.save(update_fields=["answers"])


def forwards(apps, schema_editor):
    convert(apps, indexes_to_ids)


def backwards(apps, schema_editor):
    convert(apps, ids_to_indexes)


class Migration(migrations.Migration):

    dependencies = [
        ('quizzes', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='examattempt',
            name='choice_seed',
            field=models.CharField(blank=True, default='', help_text="Orders each question's choices for this attempt; empty: authored order", max_length=32),
        ),
        migrations.AddField(
            model_name='quizattempt',
            name='choice_seed',
            field=models.CharField(blank=True, default='', help_text="Orders each question's choices for this attempt; empty: authored order", max_length=32),
        ),
        migrations.AlterField(
            model_name='quizanswer',
            name='selected',
            field=models.JSONField(help_text='Ids of the chosen choices'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
