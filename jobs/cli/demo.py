"""`gpuscout demo`: the whole pipeline against a local, fictional marketplace, offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gpuscout.jobs.cli.output import emit, format_option, jsonable

if TYPE_CHECKING:
    from gpuscout.jobs.demo import DemoResult

SUMMARY_COLUMNS = ("search", "source", "outcome", "pages", "listings", "new", "error")
DEAL_TABLE = ("id", "score", "unit_price", "title", "source", "notes")


@click.command("demo")
@click.option("--keep", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the demo's database and configuration in DIR to explore them afterwards.")
@format_option(choices=("table", "json"))
def demo_cmd(keep: Path | None, fmt: str) -> None:
    """Run the whole pipeline offline: a local marketplace serves fictional [DEMO] listings in
    the real markup of eBay, r/hardwareswap and Craigslist; they are scanned into a temporary
    database and scored, then the best deals and the alert email that would have been sent are
    shown. Nothing is configured, sent, or fetched from the internet; your own configuration and
    database are not touched."""
    import tempfile

    from gpuscout.jobs.demo import CONFIG_NAME, DB_NAME, run_demo

    if keep is not None:
        taken = [name for name in (CONFIG_NAME, DB_NAME) if (keep / name).exists()]
        if taken:
            raise click.UsageError(f"{keep / taken[0]} already exists; --keep needs a folder "
                                   "without a gpuscout database or configuration")
        try:
            keep.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise click.ClickException(f"cannot create {keep}: {exc.strerror or exc}") from None
        result = run_demo(keep, progress=_progress(fmt))
        _show(result, fmt, kept=True)
        return
    with tempfile.TemporaryDirectory(prefix="gpuscout-demo-") as tmp:
        result = run_demo(Path(tmp), progress=_progress(fmt))
        _show(result, fmt, kept=False)


def _progress(fmt: str) -> Any:
    if fmt != "table":
        return None

    def progress(search: str, what: str) -> None:
        click.echo(f"  {search}: {what}", err=True)

    return progress


def _show(result: DemoResult, fmt: str, *, kept: bool) -> None:
    from gpuscout.jobs.demo import message_text

    searches = [{k: getattr(s, k) for k in SUMMARY_COLUMNS} for s in result.summary.searches]
    if fmt == "json":
        email = result.emails[0] if result.emails else None
        doc = {
            "market_url": result.market_url, "searches": searches, "listings": result.counts,
            "deals": list(result.deals), "not_deals": list(result.not_deals),
            "alerts": len(result.emails) if result.alerts_qualified else 0,
            "email": None if email is None else {
                "headers": {k: str(v) for k, v in email.items()
                            if k.lower() not in ("content-type", "mime-version")},
                "text": message_text(email)},
            "kept": str(result.workdir) if kept else None,
            "reference": result.reference,
        }
        sys.stdout.write(json.dumps(jsonable(doc), ensure_ascii=False) + "\n")
        return
    click.echo(f"\nA local marketplace at {result.market_url} served fictional [DEMO] listings "
               "in the real markup of eBay, r/hardwareswap and Craigslist.\n")
    emit(searches, "table", SUMMARY_COLUMNS, title="1. Scan: fetched, parsed, identified, stored")
    stored = ", ".join(f"{n} from {src}" for src, n in result.counts.items())
    click.echo(f"Stored: {stored}.\n")
    if result.reference:
        click.echo(f"The market: {result.reference['explanation']} (`gpuscout market` shows it "
                   "week by week).\n")
    if result.deals:
        w = result.watch
        emit(list(result.deals), "table", list(result.deals[0]), table_columns=DEAL_TABLE,
             title=f"2. Best deals for {w.name} ({w.model} {w.variant}, {w.price_low}-"
                   f"{w.price_high} {w.currency}), best first")
    else:
        click.echo("2. No listing fits the watch.")
    if result.not_deals:
        emit(list(result.not_deals), "table", ("id", "source", "title", "why"),
             title="Kept, but never ranked as deals")
    _show_email(result)
    if kept:
        cfg = result.config_path
        click.echo(f"\nThe demo's database and configuration are in {result.workdir}. Try:\n"
                   f"  gpuscout --config {cfg} deals\n"
                   f"  gpuscout --config {cfg} explain {_top_id(result)}\n"
                   f"  gpuscout --config {cfg} show {_top_id(result)}\n"
                   f"  gpuscout --config {cfg} market --chart\n"
                   f"  gpuscout --config {cfg} market --png market.png\n"
                   f"  gpuscout --config {cfg} status\n"
                   "(The demo marketplace has stopped: a `scan` with this configuration finds "
                   "nothing to connect to.)")
    else:
        click.echo("\nThe demo's database was temporary. `gpuscout demo --keep DIR` keeps it to "
                   "explore; `gpuscout config init` writes a configuration for the real sites.")


def _top_id(result: DemoResult) -> str:
    return str(result.deals[0]["id"]) if result.deals else "1"


def _show_email(result: DemoResult) -> None:
    from gpuscout.jobs.demo import format_message

    rule = result.rule
    if not result.emails:
        click.echo("\n3. No alert email: no listing fits the watch.")
        return
    if result.alerts_qualified:
        others = len(result.emails) - 1
        click.echo(f"\n3. No [email] is configured, so nothing was sent. With an instant alert rule "
                   f"(new listings scoring {rule.min_score} or more) {len(result.emails)} "
                   f"email{'s' if len(result.emails) != 1 else ''} would have gone out; the first:\n")
    else:
        others = 0
        click.echo(f"\n3. No deal scored {rule.min_score} or more, so an instant alert rule would "
                   "have sent nothing. This is the top deal's email as it would look:\n")
    click.echo(_indent(format_message(result.emails[0])))
    if others:
        click.echo("and, one email each:")
        for msg in result.emails[1:]:
            click.echo(f"  {msg['Subject']}")
    click.echo("Set up [email] and [[alert]] (see README, \"Email alerts\") to receive them.")


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.splitlines()) + "\n"


COMMANDS: list[click.Command] = [demo_cmd]
