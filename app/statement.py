"""Account statements on disk: a CSV with one row per ledger entry, fill, funding payment and liquidation
followed by the totals, and a JSON document with the same content. Money is written as exact decimal
text (never a float), so the files add up to the cent of the ledger they came from."""
from __future__ import annotations

import csv
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from engine.clock import DAY, parse_time
from engine.errors import Rejected
from engine.money import fmt

CSV_COLUMNS = ("section", "id", "time", "type", "symbol", "side", "qty", "price", "amount", "fee", "realized_pnl",
               "balance", "counterparty", "ref")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def period(first_day: str, last_day: str) -> tuple[int, int]:
    """Two YYYY-MM-DD dates (both included) → [since, until) in engine milliseconds."""
    bounds = []
    for name, text in (("from", first_day), ("to", last_day)):
        if not _DAY.match(text.strip()):
            raise Rejected("BAD_FIELD", f"'{name}' must be a date such as 2026-01-31, got {text!r}")
        bounds.append(parse_time(f"{text.strip()}T00:00:00Z", name))
    if bounds[1] < bounds[0]:
        raise Rejected("BAD_FIELD", "the period ends before it starts: pick a 'to' date on or after 'from'")
    return bounds[0], bounds[1] + DAY


def default_days(now: date) -> tuple[str, str]:
    """The last 30 days up to today (engine time)."""
    return (now - timedelta(days=30)).isoformat(), now.isoformat()


def _plain(value):
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def csv_rows(data: dict) -> list[dict]:
    rows = [{"section": "ledger", "id": e["id"], "time": e["at"], "type": e["type"], "amount": e["amount"],
             "balance": e["balance"], "counterparty": e["counterparty"], "ref": e["ref"]} for e in data["entries"]]
    rows += [{"section": "fill", "id": f["seq"], "time": f["at"], "type": f["kind"], "symbol": f["symbol"],
              "side": f["side"], "qty": f["qty"], "price": f["price"], "fee": f["fee"],
              "realized_pnl": f["realized_pnl"], "ref": f["order"]} for f in data["fills"]]
    rows += [{"section": "funding", "id": p["seq"], "time": p["at"], "type": "funding", "symbol": p["symbol"],
              "qty": p["qty"], "price": p["mark"], "amount": p["amount"], "ref": f"rate {fmt(p['rate'])}"}
             for p in data["funding"]]
    rows += [{"section": "liquidation", "id": c["seq"], "time": c["at"], "type": c["kind"], "symbol": c["symbol"],
              "side": c["side"], "qty": c["qty"], "price": c["price"], "amount": c["insurance"], "fee": c["fee"],
              "ref": "insurance fund"} for c in data["liquidations"]]
    totals = data["totals"]
    for name, value in totals.items():
        if name == "by_type":
            rows += [{"section": "total", "type": f"net {kind}", "amount": amount} for kind, amount in value.items()]
        else:
            rows.append({"section": "total", "type": name, "amount": value})
    return [{column: _plain(row.get(column, "")) for column in CSV_COLUMNS} for row in rows]


def write_statement(data: dict, folder: Path, first_day: str, last_day: str) -> tuple[Path, Path]:
    """Write `statement-USER-ACCOUNT-FROM-TO.csv` and `.json` into `folder` (created if missing)."""
    folder = folder.expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"statement-{data['user']}-{data['account']}-{first_day}-{last_day}"
    csv_path, json_path = folder / f"{stem}.csv", folder / f"{stem}.json"
    with csv_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(csv_rows(data))
    json_path.write_text(json.dumps(_plain(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return csv_path, json_path
