from django.urls import path

from gallery.views import create, edit, gallery, gateway, images, jobs, provenance, spending

app_name = "gallery"

urlpatterns = [
    path("", gallery.gallery, name="gallery"),
    path("images/<int:pk>/star", gallery.star, name="image-star"),
    path("boards/", gallery.board_list, name="boards"),
    path("boards/add", gallery.board_add, name="board-add"),
    path("boards/remove", gallery.board_remove, name="board-remove"),
    path("create/", create.create, name="create"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job-detail"),
    path("jobs/<int:pk>/visibility", jobs.job_visibility, name="job-visibility"),
    path("images/<int:pk>/", images.image_detail, name="image-detail"),
    path("images/<int:pk>/visibility", images.image_visibility, name="image-visibility"),
    path("images/<int:pk>/original", images.image_original, name="image-original"),
    path(
        "images/<int:pk>/thumbnail/<int:width>.webp", images.image_thumbnail, name="image-thumbnail"
    ),
    path("edit/", edit.edit, name="edit"),
    path("edit/upload", edit.upload, name="edit-upload"),
    path("jobs/<int:pk>/mask.png", edit.job_layer, {"layer": "mask"}, name="job-mask"),
    path("jobs/<int:pk>/markup.png", edit.job_layer, {"layer": "markup"}, name="job-markup"),
    path("images/<int:pk>/lineage/", edit.image_lineage, name="image-lineage"),
    path("create/estimate", create.estimate, name="estimate"),
    path("queue/", jobs.queue, name="queue"),
    path("spending/", spending.spending_page, name="spending"),
    path("jobs/<int:pk>/cancel", jobs.job_cancel, name="job-cancel"),
    path("jobs/<int:pk>/retry", jobs.job_retry, name="job-retry"),
    path("jobs/<int:pk>/preview", jobs.job_partial, name="job-partial"),
    path("verify/", provenance.verify, name="verify"),
    path("verify/add", provenance.verify_add, name="verify-add"),
    path("images/<int:pk>/manifest.json", provenance.image_manifest, name="image-manifest"),
    path(
        "images/<int:pk>/ingredients/<str:path>/thumbnail",
        provenance.ingredient_thumbnail,
        name="image-ingredient-thumbnail",
    ),
    path("v1/images/generations", gateway.generate_images, name="gateway-generations"),
    path("v1/images/edits", gateway.edit_images, name="gateway-edits"),
    path("v1/models", gateway.models, name="gateway-models"),
    path("v1/images/files/<str:token>", gateway.image_file, name="gateway-image"),
]
