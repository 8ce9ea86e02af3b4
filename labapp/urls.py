from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("labapp.classroom.urls")),
    path("", include("labapp.web.urls")),
]
