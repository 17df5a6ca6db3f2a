"""How the studio writes sizes for people, in one place: file sizes in decimal KB and MB
(1 MB = 1,000,000 bytes, the unit upload limits are set in) and pixel dimensions as W×H px."""

from gallery.imagesapi import registry


def file_size(byte_count: int | None) -> str:
    """'512 bytes', '84 KB', '3.2 MB'."""
    count = int(byte_count or 0)
    if count < 1000:
        return f"{count} byte{'' if count == 1 else 's'}"
    if count < 999_500:
        return f"{count / 1000:.0f} KB"
    return f"{count / 1_000_000:.1f} MB"


def dimensions(width: int, height: int) -> str:
    """'1024×1536 px'."""
    return f"{width}×{height} px"


def size_label(size: str) -> str:
    """An API size parameter for people: '1024x1536' as '1024×1536 px'; 'auto' and other
    words as they are."""
    parsed = registry.parse_size(size) if size else None
    return dimensions(*parsed) if parsed else (size or "")
