from django.contrib import admin

from .models import ExamAttempt, Question, QuizAttempt


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "module", "type", "answers", "lesson", "anchor", "lab")
    list_filter = ("module__course", "module", "type")
    readonly_fields = ("uuid", "source_path")


@admin.register(QuizAttempt)
class QuizAttemptAdmin(admin.ModelAdmin):
    list_display = ("user", "module", "started_at", "finished_at", "correct", "total")
    list_filter = ("module",)


@admin.register(ExamAttempt)
class ExamAttemptAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "course", "started_at", "deadline", "finished_at", "score", "max_score", "timed_out")
    list_filter = ("course", "timed_out")
