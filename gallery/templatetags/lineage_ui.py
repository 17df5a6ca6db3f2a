from django import template

from gallery import access
from gallery.browse import lineage

register = template.Library()


@register.inclusion_tag("gallery/lineage_panel.html", takes_context=True)
def lineage_panel(context, image):
    """Parents and children of `image`, as far as the viewer may see them."""
    return {
        "image": image,
        **lineage.neighbours(image, access.visible_images(context["request"].user)),
    }
