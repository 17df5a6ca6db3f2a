"""Show the Content Credentials of image files, as the studio's provenance panel sees them.

python manage.py provenance IMAGE [IMAGE ...]           readable summary
python manage.py provenance IMAGE --json                the summary as JSON (one object per
                                                        line, one line per file)
python manage.py provenance IMAGE --manifest            the full manifest store JSON
python manage.py provenance IMAGE --thumbnail 0 -o t.jpg   save ingredient 0's thumbnail
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gallery import provenance


class Command(BaseCommand):
    help = "Read and validate the C2PA Content Credentials of image files (never fetches)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--mime", help="MIME type hint (the format is sniffed anyway)")
        output = parser.add_mutually_exclusive_group()
        output.add_argument("--json", action="store_true", help="print the summary as JSON")
        output.add_argument(
            "--manifest", action="store_true", help="print the full manifest store JSON"
        )
        output.add_argument(
            "--thumbnail",
            metavar="PATH",
            help="write a thumbnail to --output: '' for the image's own claim thumbnail, "
            "'0' for the first ingredient's, '0.1' for that ingredient's second ingredient",
        )
        parser.add_argument("-o", "--output", type=Path, help="file for --thumbnail")

    def handle(self, *args, files, mime, manifest, thumbnail, output, **options):
        if thumbnail is not None and (output is None or len(files) != 1):
            raise CommandError("--thumbnail needs exactly one FILE and --output.")
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc}") from exc
            if thumbnail is not None:
                self._save_thumbnail(data, mime, thumbnail, output)
                continue
            result = provenance.read(data, mime=mime)
            if options["json"]:
                self.stdout.write(json.dumps({"file": str(path), **result.summary}))
            elif manifest:
                self.stdout.write(result.manifest_json or "null")
            else:
                self.stdout.write(format_summary(str(path), result.summary))

    def _save_thumbnail(self, data, mime, path_text, output):
        try:
            index_path = tuple(int(part) for part in path_text.split(".") if part != "")
        except ValueError as exc:
            raise CommandError(
                f"--thumbnail takes indexes like 0 or 0.1, not {path_text!r}"
            ) from exc
        found = provenance.ingredient_thumbnail(data, index_path, mime=mime)
        if found is None:
            raise CommandError("No thumbnail at that position.")
        image, image_mime = found
        output.write_bytes(image)
        self.stdout.write(f"Wrote {len(image)} bytes ({image_mime}) to {output}")


def format_summary(name: str, summary: dict) -> str:
    """The summary as indented text (what the UI panel shows, in the same order)."""
    lines = [name]

    def add(label: str, value) -> None:
        if value not in (None, "", []):
            lines.append(f"  {label + ':' if label else '':<22}{value}")

    state = summary["state_label"]
    if summary["validation_state"]:
        state += f" (validation state {summary['validation_state']})"
    add("State", state)
    add("Meaning", summary["explanation"])
    add("Error", summary["error"])
    add("Signer", _signer_text(summary["signer"]))
    if summary["signed_at"]:
        trust = "trusted timestamp" if summary["timestamp_trusted"] else "timestamp not trusted"
        add("Signed at", f"{summary['signed_at']} ({trust})")
    elif summary["signer"]:
        add("Signed at", "no timestamp")
    add("Claim generator", summary["claim_generator"])
    add("Title", summary["title"])
    add("Format", summary["format"])
    add("AI-generated", _ai_text(summary) if summary["ai_generated"] else None)
    add("Software agents", ", ".join(summary["software_agents"]))
    add("Actions", "; ".join(_action_text(a) for a in summary["actions"]))
    for label, key in (("Failures", "failures"), ("Informational", "informational")):
        for index, entry in enumerate(summary[key]):
            add(label if index == 0 else "", f"{entry['code']}: {entry['explanation']}")
    for index, entry in enumerate(summary["ingredient_failures"]):
        add(
            "Ingredient failures" if index == 0 else "",
            f"{entry['ingredient']}: {entry['code']}: {entry['explanation']}",
        )
    for index, ingredient in enumerate(summary["ingredients"]):
        add("Ingredients" if index == 0 else "", _ingredient_text(ingredient))
        indent = "  " * ingredient["depth"]
        detail = [
            ("signer", _signer_text(ingredient["signer"])),
            ("claim generator", ingredient["claim_generator"]),
            ("actions", "; ".join(_action_text(a) for a in ingredient["actions"])),
            ("failures", ", ".join(f["code"] for f in ingredient["failures"])),
            ("new since added", ", ".join(f["code"] for f in ingredient["new_failures"])),
        ]
        for label, value in detail:
            if value:
                lines.append(f"  {'':<22}{indent}  {label}: {value}")
    if summary["manifests_count"]:
        add("Manifests", summary["manifests_count"])
    return "\n".join(lines)


def _signer_text(signer: dict | None) -> str | None:
    if not signer:
        return None
    text = " / ".join(v for v in (signer["common_name"], signer["organisation"]) if v)
    if signer["issuer"]:
        text += f", issued by {signer['issuer']}"
    if signer["not_before"] or signer["not_after"]:
        text += f", certificate valid {signer['not_before']} .. {signer['not_after']}"
    return text


def _ai_text(summary: dict) -> str:
    source = summary["ai_source"]
    text = f"yes: {source['action']} [{source['digital_source_type']}]"
    if source["software_agent"]:
        text += f" by {source['software_agent']}"
    where = f"ingredient {source['ingredient_title']}" if source["in_ingredient"] else "this image"
    return f"{text} (declared in {where}, {source['claim_generator']})"


def _action_text(action: dict) -> str:
    text = action["action"] or "?"
    if action["digital_source_type"]:
        text += f" [{action['digital_source_type']}]"
    if action["software_agent"]:
        text += f" by {action['software_agent']}"
    if action["description"]:
        text += f" ({action['description']})"
    return text


def _ingredient_text(ingredient: dict) -> str:
    position = ".".join(str(i) for i in ingredient["path"])
    text = f"{'  ' * (ingredient['depth'] - 1)}[{position}] {ingredient['title']}"
    text += f" ({ingredient['format']}, {ingredient['relationship']})"
    if ingredient["has_manifest"]:
        text += f", credentials {ingredient['validation_state']}"
    else:
        text += ", no credentials"
    if ingredient["thumbnail"]:
        text += ", thumbnail"
    return text
