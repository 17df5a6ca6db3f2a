from django.urls import path

from . import cost_views, edit_views, provenance_views, views

app_name = "gallery"

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("create/", views.create, name="create"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/visibility", views.job_visibility, name="job-visibility"),
    path("images/<int:pk>/", views.image_detail, name="image-detail"),
    path("images/<int:pk>/visibility", views.image_visibility, name="image-visibility"),
    path("images/<int:pk>/original", views.image_original, name="image-original"),
    path(
        "images/<int:pk>/thumbnail/<int:width>.webp", views.image_thumbnail, name="image-thumbnail"
    ),
    path("edit/", edit_views.edit, name="edit"),
    path("edit/upload", edit_views.upload, name="edit-upload"),
    path("images/<int:pk>/lineage/", edit_views.image_lineage, name="image-lineage"),
    path("create/estimate", cost_views.estimate, name="estimate"),
    path("verify/", provenance_views.verify, name="verify"),
    path("verify/add", provenance_views.verify_add, name="verify-add"),
    path("images/<int:pk>/manifest.json", provenance_views.image_manifest, name="image-manifest"),
    path(
        "images/<int:pk>/ingredients/<str:path>/thumbnail",
        provenance_views.ingredient_thumbnail,
        name="image-ingredient-thumbnail",
    ),
]
