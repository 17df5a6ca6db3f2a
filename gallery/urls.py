from django.urls import path

from . import cost_views, edit_views, gallery_views, live_views, provenance_views, views

app_name = "gallery"

urlpatterns = [
    path("", gallery_views.gallery, name="gallery"),
    path("images/<int:pk>/star", gallery_views.star, name="image-star"),
    path("boards/", gallery_views.board_list, name="boards"),
    path("boards/add", gallery_views.board_add, name="board-add"),
    path("boards/remove", gallery_views.board_remove, name="board-remove"),
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
    path("queue/", live_views.queue, name="queue"),
    path("spending/", live_views.spending_page, name="spending"),
    path("jobs/<int:pk>/cancel", live_views.job_cancel, name="job-cancel"),
    path("jobs/<int:pk>/retry", live_views.job_retry, name="job-retry"),
    path("jobs/<int:pk>/preview", live_views.job_partial, name="job-partial"),
    path("verify/", provenance_views.verify, name="verify"),
    path("verify/add", provenance_views.verify_add, name="verify-add"),
    path("images/<int:pk>/manifest.json", provenance_views.image_manifest, name="image-manifest"),
    path(
        "images/<int:pk>/ingredients/<str:path>/thumbnail",
        provenance_views.ingredient_thumbnail,
        name="image-ingredient-thumbnail",
    ),
]
