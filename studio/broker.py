"""kombu's filesystem transport, with message files written whole.

The stock transport opens `<time>_<uuid>.<queue>.msg` and writes into it; a worker polling
the folder can move and read the file before the write ends and then dies on a
JSONDecodeError. Here the message is written under a name the reader ignores (it does not
end in `.<queue>.msg`) and renamed into place, which is atomic on one filesystem.
"""

import os
import tempfile
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        folder = self.data_folder_out
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".writing-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(str_to_bytes(dumps(payload)))
                os.chmod(tmp, 0o644)  # as the stock transport leaves it (mkstemp gives 0600)
                os.replace(tmp, os.path.join(folder, name))
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
