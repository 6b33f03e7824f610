"""Who the trader is: nickname, protected badge, bio, lead symbols, capacity and profit share."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from .format import money


class LeadCard(Static):
    DEFAULT_CSS = """
    LeadCard { height: auto; width: 1fr; padding: 0 1; }
    """
    shown: Text | None = None

    def show(self, view: dict) -> None:
        text = self.card(view)
        if text != self.shown:  # an update re-lays out the screen: only when something changed
            self.shown = text
            self.update(text)

    @staticmethod
    def card(view: dict) -> Text:
        text = Text.assemble((view["nickname"], "bold"), (f"  @{view['lead']}", "dim"))
        if view["protected"]:
            text.append("  PROTECTED ", style="bold black on green")
        if view["is_me"]:
            text.append("  (you)", style="cyan")
        text.append(f"\n{view['bio'] or 'No bio yet.'}", style="italic")
        share = "protected share" if view["protected"] else "profit share"
        text.append_text(Text.assemble(
            ("\nLeads ", "dim"), ", ".join(view["symbols"]), ("   Copiers ", "dim"),
            f"{view['copier_count']}/{view['capacity']}", (f"   {share.capitalize()} ", "dim"),
            f"{money(view['profit_share'] * 100, 0)}%"))
        return text
