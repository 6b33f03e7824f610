"""What every dialog shares: a modal frame, Escape to cancel, and sending a command with its rejection
shown in place (code and sentence), never a traceback."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from engine.errors import Rejected
from engine.money import parse_decimal


class Dialog(ModalScreen[bool]):
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > .frame { width: 76; height: auto; max-height: 90%; border: thick $accent; background: $surface;
                      padding: 1 2; }
    Dialog .row { height: auto; }
    Dialog .row > Input, Dialog .row > Select { width: 1fr; }
    Dialog .label { width: 16; padding: 1 1 0 0; color: $text-muted; }
    Dialog .preview { height: auto; padding: 1 0 0 0; }
    Dialog .error { color: $error; height: auto; }
    Dialog .buttons { height: auto; padding-top: 1; }
    Dialog .buttons > Button { margin-right: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(False)

    def buttons(self, confirm: str, *, confirm_id: str = "confirm", variant: str = "primary",
                cancel: str = "Cancel", extra: Iterable[Button] = ()) -> ComposeResult:
        """The error line and the button row every dialog ends with: confirm, extras, cancel."""
        yield Static(classes="error")
        with Horizontal(classes="buttons"):
            yield Button(confirm, variant=variant, id=confirm_id)
            yield from extra
            yield Button(cancel, id="cancel")

    async def submit_line(self, build: Callable[[], dict]) -> None:
        """Build the command from the form (a Rejected shows in place) and send it."""
        try:
            line = build()
        except Rejected as rejection:
            self.show_error(f"{rejection.code}: {rejection.message}")
            return
        await self.send(line)

    async def send(self, line: dict) -> bool:
        """Execute a command; on rejection show its code and sentence and keep the dialog open."""
        outcome = await self.app.link.execute(line)
        error = self.query_one(".error", Static)
        if outcome.accepted:
            self.app.notify(self.success_text(line, outcome.result), title=line["do"].replace("_", " ").title())
            self.dismiss(True)
            return True
        error.update(Text(f"{outcome.code}: {outcome.message}"))
        self.app.notify(outcome.message, title=outcome.code, severity="error")
        return False

    def success_text(self, line: dict, result) -> str:
        return "Done."

    def show_error(self, text: str) -> None:
        self.query_one(".error", Static).update(Text(text))


class PositionDialog(Dialog):
    """A dialog about one position of one account (close, TP/SL, margin)."""

    def __init__(self, account: str, position: dict) -> None:
        super().__init__()
        self.account, self.position = account, position


def decimal_field(raw: str, name: str, *, required: bool = True) -> Decimal | None:
    """Parse what the trader typed: blank (when optional) or a plain decimal, else a clear rejection."""
    text = raw.strip().replace(",", "")
    if not text:
        if required:
            raise Rejected("BAD_FIELD", f"enter {name}")
        return None
    # The engine's own parser: a number it would refuse (beyond 10^15, more than 8 places) is refused here
    # too, and one such as "1e9999999", which no Decimal context can even show or preview, never gets further.
    return parse_decimal(text, name, code="BAD_FIELD", allow_zero=True, allow_negative=True)
