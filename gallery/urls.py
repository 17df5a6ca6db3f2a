from django.urls import path

from . import cost_views, views

app_name = "gallery"

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("create/", views.create, name="create"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("images/<int:pk>/", views.image_detail, name="image-detail"),
    path("images/<int:pk>/original", views.image_original, name="image-original"),
    path(
        "images/<int:pk>/thumbnail/<int:width>.webp", views.image_thumbnail, name="image-thumbnail"
    ),
    path("create/estimate", cost_views.estimate, name="estimate"),
]
