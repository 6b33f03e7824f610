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
| `l` | leaderboard of elite traders · `e` your own trader profile |
| `g` | copy manager: the leads you copy, per-order view, margin syncs, settlements |
| `h` | history: orders, fills, funding, liquidations & ADL, ledger, statement export |
| `n` | notifications inbox |
| `1` `2` `3` | focus Futures, Copy, Elite |
| `d` | dark / light theme |
| `F1` | this help · `q` quit · `Esc` back from any screen |

On the **leaderboard**: `1`–`4` period (7D, 30D, 90D, all), `p` `n` `w` `d` `a` `c` sort by PnL %, PnL, win
rate, drawdown, AUM, copiers (again to reverse, or click a header), `f` protected portfolios only,
`Enter` the trader's profile. On a **profile**: `1`–`4` period, `f` follow or edit your copy settings.
In the **copy manager**: `Enter` profile, `e` edit settings, `u` unfollow, `U` upgrade a legacy account.
In **history**: `1`–`6` tabs, `x` export a statement (CSV and JSON) into the folder you choose.

**Liquidation price.** An isolated position is liquidated when its margin plus unrealized PnL falls to
its maintenance margin; the ticket and the margin dialog show the liquidation price *before* you act.

**Copy trading.** When an elite trader's order fills, every copier gets its own fill at its own price,
sized by a fixed margin or a ratio of the lead's order — or a failure with its reason
(`INSUFFICIENT_BALANCE`, `SLIPPAGE_EXCEEDED`, …). The mirror panel shows it live when you lead.

**Margin sync.** When a lead adds or removes isolated margin, copiers follow at the same *ratio*:
adding 50% of the lead's margin adds 50% of each copier's margin, funded from the copy account's
available balance (or not done).

**Copy settings.** *Fixed*: the margin each copied order uses (size = margin × leverage ÷ price).
*Ratio*: your size is the lead's size × the ratio. Leverage and margin mode follow the lead unless you fix
them; *max margin per order* and *max total margin* cap what you commit to that lead; TP and SL are a % of
each copy position's margin; slippage protection skips an open that would fill too far from the lead's
price. The dialog previews what the lead's last order would have copied as for you.

**Failed copies.** Failed opens count up and a success resets the count: at 15 in a row you are reminded;
from 20, if the lead is full and you hold none of their positions, a 3-day countdown to auto-unfollow
starts (shown in the copy manager).

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
