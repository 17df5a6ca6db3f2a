import io
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from PIL import Image

from gallery.imagesapi.standin import StandinServer
from gallery.imagesapi.standin.faults import FAULTS


def _names(values: list[str] | None) -> list[str]:
    """Flags that may repeat and may hold comma-separated lists: --faults 429,500 --faults 503."""
    return [name.strip() for value in values or [] for name in value.split(",") if name.strip()]


class Command(BaseCommand):
    help = (
        "Run the stand-in OpenAI Images API in the foreground until SIGINT or SIGTERM, logging "
        "one line per request. Fault names: " + ", ".join(FAULTS) + "."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port",
            type=int,
            default=getattr(settings, "STUDIO_STANDIN_PORT", 8001),
            help="0: any",
        )
        parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
        parser.add_argument("--jitter", type=float, default=0.0, help="+/- seconds of latency")
        parser.add_argument("--faults", action="append", help="e.g. 429,500,reset")
        parser.add_argument("--fault-rate", type=float, default=0.0, help="0..1")
        parser.add_argument(
            "--retired", action="append", help="models answered with model_not_found"
        )
        parser.add_argument("--slow-seconds", type=float, default=5.0)
        parser.add_argument("--hang-seconds", type=float, default=3600.0)
        parser.add_argument("--retry-after", type=float, default=1.5)
        parser.add_argument(
            "--key", default=None, help="the only accepted API key (default: any non-empty key)"
        )
        parser.add_argument("--no-sign", action="store_true", help="skip C2PA signing")
        parser.add_argument("--seed", type=int, default=None, help="repeatable random faults")

    def handle(self, *args, **options):
        sign = not options["no_sign"]
        if sign:
            self._check_signing()
        try:
            server = StandinServer(
                options["host"],
                options["port"],
                latency=options["latency"],
                jitter=options["jitter"],
                faults=_names(options["faults"]),
                fault_rate=options["fault_rate"],
                retired_models=_names(options["retired"]),
                slow_seconds=options["slow_seconds"],
                hang_seconds=options["hang_seconds"],
                retry_after=options["retry_after"],
                key=options["key"],
                sign=sign,
                seed=options["seed"],
            )
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc

        stopping = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stopping.set())
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        server.start()
        self.stdout.write(f"Stand-in image API listening on {server.url}", ending="\n")
        self.stdout.flush()
        stopping.wait()
        server.stop()
        self.stdout.write("Stand-in image API stopped.")

    def _check_signing(self) -> None:
        """Sign one tiny image now, so a broken signing credential stops the command at once
        instead of failing every request (this also creates the development credential)."""
        from gallery import provenance

        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, "PNG")
        try:
            provenance.sign_generated(buffer.getvalue(), output_format="png", model="gpt-image-1")
        except Exception as exc:
            raise CommandError(
                f"C2PA signing does not work ({exc}); use --no-sign to skip."
            ) from exc
