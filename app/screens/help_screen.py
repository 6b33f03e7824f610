"""F1 help: the keys, and how the accounts and copy trading work here."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """
# Copydesk

**Three isolated accounts.** *Futures* is your own trading, *Copy* holds copies of the elite traders
you follow, *Elite* is where you lead. Each has its own wallet, margin, risk and PnL: a loss in Copy can
never touch Futures or Elite, and a liquidation in one account never reaches another.

**Keys** (every one is also in the command palette, `ctrl+p`)

| key | action |
|---|---|
| `o` / `s` | order ticket: buy / sell in the focused account |
| `m` | adjust isolated margin of the selected position |
| `c` | close the selected position (all or part) |
| `r` | reverse the selected position |
| `p` | take-profit / stop-loss of the selected position |
| `t` | transfer between your wallets |
| `1` `2` `3` | focus Futures, Copy, Elite |
| `d` | dark / light theme |
| `F1` | this help · `q` quit |

**Liquidation price.** An isolated position is liquidated when its margin plus unrealized PnL falls to
its maintenance margin; the ticket and the margin dialog show the liquidation price *before* you act.

**Copy trading.** When an elite trader's order fills, every copier gets its own fill at its own price,
sized by a fixed margin or a ratio of the lead's order — or a failure with its reason
(`INSUFFICIENT_BALANCE`, `SLIPPAGE_EXCEEDED`, …). The mirror panel shows it live when you lead.

**Margin sync.** When a lead adds or removes isolated margin, copiers follow at the same *ratio*:
adding 50% of the lead's margin adds 50% of each copier's margin, funded from the copy account's
available balance (or not done).

**Capital protection.** A protected portfolio's lead locks collateral; a copier's weekly loss is paid
from it, and weekly profit is shared with the lead at 60–80%.

**Why does my copy PnL differ from the lead's?** You fill at your own price, pay your own fees and
funding, and your size is rounded to the contract step; the per-order view keeps each copied order
at its own entry while the position view averages them.
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; height: 85%; border: thick $accent; background: $surface; padding: 0 2; }
    """
    BINDINGS = [Binding("escape,f1,q", "close", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
