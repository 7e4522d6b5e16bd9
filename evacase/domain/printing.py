"""Where receipts are printed: a command that takes the PDF on its standard input (`lp -d frontdesk`), the default
one (EVACASE_PRINT_COMMAND) or a station's (EVACASE_PRINT_COMMAND_<StationID>), run without a shell."""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass, field

from evacase.errors import PrintFailed, PrintNoTarget

PRINT_SECONDS = 4.0  # within the request's own deadline: a print command only hands the job to a spooler


@dataclass(frozen=True, slots=True)
class PrintTargets:
    default: str | None = None
    stations: dict[int, str] = field(default_factory=dict)

    def command(self, station_id: int | None) -> list[str]:
        """The command for `station_id` (its own, else the default one); a 400 when there is none."""
        text = self.stations.get(station_id, self.default) if station_id is not None else self.default
        if not text:
            where = f" for station {station_id}" if station_id is not None else ""
            raise PrintNoTarget(
                f"No printer is configured{where}: set EVACASE_PRINT_COMMAND (or EVACASE_PRINT_COMMAND_<StationID>)."
            )
        return shlex.split(text)


async def print_pdf(command: list[str], pdf: bytes) -> None:
    """Hand `pdf` to the print command; a 502 when it fails or does not finish in time."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise PrintFailed(f"The print command could not be started: {exc.strerror or exc}.") from None
    try:
        _, err = await asyncio.wait_for(proc.communicate(pdf), PRINT_SECONDS)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise PrintFailed(f"The print command did not finish within {PRINT_SECONDS:g} seconds.") from None
    if proc.returncode != 0:
        detail = err.decode(errors="replace").strip()[:200]
        raise PrintFailed(f"The print command failed (exit status {proc.returncode}): {detail}")
