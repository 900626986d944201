"""``hotline campaign``: outbound campaigns from the command line.

* ``list [--json]`` -- every campaign with its status, mode and progress;
* ``start | pause | resume | stop NAME`` -- a status change through
  ``crm_core.services.campaigns.change_campaign_status`` (audited, the actor
  ``cli:<user>``); a running engine's dialer picks it up on its next tick
  (a pause stops new claims at once; calls in flight end as they do);
* ``status NAME [--json]`` -- the database figures (contacts, attempts by
  result, answered, connected, abandoned %, remaining) and the live figures
  the running engines store every few seconds (``dialer_status``); a row
  not refreshed lately is reported as "engine not running".

``NAME`` is the campaign's name or its id. An unknown campaign exits 1, a
change the life cycle does not allow (or a campaign that cannot run yet)
exits 2, each with one line saying why.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any, Callable

from hotline.settings import Settings, database_url

#: CLI verb -> target status.
VERBS = {"start": "running", "pause": "paused", "resume": "running", "stop": "stopped"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="campaign_action", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser("list", help="every campaign with its status and progress")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    for verb, target in VERBS.items():
        action = actions.add_parser(verb, help=f"move the campaign to {target}")
        action.add_argument("name", metavar="NAME", help="campaign name or id")
        action.add_argument("--reason", help="why (kept in the audit log)")
    status = actions.add_parser("status", help="progress, results and the live dialer figures")
    status.add_argument("name", metavar="NAME", help="campaign name or id")
    status.add_argument("--json", action="store_true", help="one JSON object")


def main(settings: Settings, args: argparse.Namespace, out: Any = None, err: Any = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    action = args.campaign_action
    if action == "list":
        return _with_session(settings, lambda s: list_campaigns(s, args.json, out), err)
    if action == "status":
        return _with_session(settings, lambda s: show_status(s, args.name, args.json, out, err), err)
    return _with_session(settings, lambda s: change_status(s, args.name, action, out, err,
                                                           reason=getattr(args, "reason", None)), err)


def _with_session(settings: Settings, work: Callable[[Any], int], err: Any) -> int:
    from sqlalchemy.exc import DBAPIError

    from crm_core.db import make_engine, session_factory, transaction

    engine = make_engine(database_url(settings))
    try:
        with transaction(session_factory(engine)) as session:
            code = work(session)
            if code:
                session.rollback()
            return code
    except DBAPIError as exc:
        print(f"hotline campaign: cannot read the campaigns: {' '.join(str(exc.orig or exc).split())[:300]}",
              file=err)
        return 1
    finally:
        engine.dispose()


def _campaign_key(name: str) -> int | str:
    return int(name) if name.strip().isdigit() else name.strip()


def _find(session: Any, name: str) -> Any:
    """The campaign by id or name (a name made of digits is tried as a name when no id matches)."""
    from crm_core.services.campaigns import UnknownCampaign, get_campaign

    key = _campaign_key(name)
    try:
        return get_campaign(session, key)
    except UnknownCampaign:
        if isinstance(key, int):
            return get_campaign(session, name.strip())
        raise


def cli_actor() -> Any:
    """Who acts from the command line, for the audit log."""
    from crm_core.services.campaigns import Actor

    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment
        user = "unknown"
    return Actor(f"cli:{user}"[:40], remote_addr="cli")


def change_status(session: Any, name: str, verb: str, out: Any, err: Any, *, reason: str | None = None) -> int:
    """``start`` / ``pause`` / ``resume`` / ``stop`` one campaign; 0, or 1 (unknown) / 2 (not allowed)."""
    from crm_core.exceptions import IllegalTransition, InvalidInput
    from crm_core.services.campaigns import UnknownCampaign, change_campaign_status

    try:
        campaign = _find(session, name)
        if verb == "resume" and campaign.status != "paused":
            print(f"hotline campaign: campaign {campaign.name} is {campaign.status}, not paused", file=err)
            return 2
        if verb == "start" and campaign.status == "paused":
            print(f"hotline campaign: campaign {campaign.name} is paused: use resume", file=err)
            return 2
        change = change_campaign_status(session, campaign.id, VERBS[verb], actor=cli_actor(),
                                        reason=reason or f"hotline campaign {verb}")
    except UnknownCampaign:
        print(f"hotline campaign: no campaign {name!r} (a name or an id; see hotline campaign list)", file=err)
        return 1
    except IllegalTransition as exc:
        print(f"hotline campaign: {exc.message}", file=err)
        return 2
    except InvalidInput as exc:
        print(f"hotline campaign: campaign {name}: {exc.message}", file=err)
        return 2
    added = f" ({sum(change.contacts_added.values())} contacts from its segment)" if change.contacts_added else ""
    print(f"campaign {campaign.name}: {change.from_status} -> {change.to_status}{added}", file=out)
    if verb == "pause":
        print("  no new calls from the next dialer tick; calls in flight run to their end", file=out)
    return 0


def list_campaigns(session: Any, as_json: bool, out: Any) -> int:
    from sqlalchemy import select

    from crm_core.models import Campaign
    from crm_core.services.campaign_figures import campaign_summary

    rows = []
    for campaign in session.scalars(select(Campaign).order_by(Campaign.id)):
        summary = campaign_summary(session, campaign.id)
        rows.append({"id": campaign.id, "name": campaign.name, "status": campaign.status, "mode": campaign.mode,
                     "contacts": sum(summary["contacts"].values()), "remaining": summary["remaining"],
                     "answered": summary["answered"], "abandon_percent": summary["abandon_percent"]})
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2), file=out)
        return 0
    if not rows:
        print("no campaigns", file=out)
        return 0
    print(f"{'id':>5}  {'name':30}  {'status':10}  {'mode':11}  {'contacts':>8}  {'left':>6}  {'answered':>8}  "
          f"{'aband.%':>7}", file=out)
    for r in rows:
        print(f"{r['id']:>5}  {r['name'][:30]:30}  {r['status']:10}  {r['mode']:11}  {r['contacts']:>8}  "
              f"{r['remaining']:>6}  {r['answered']:>8}  {r['abandon_percent']:>7.2f}", file=out)
    return 0


def show_status(session: Any, name: str, as_json: bool, out: Any, err: Any) -> int:
    from crm_core.services.campaigns import UnknownCampaign
    from crm_core.services.dialer_status import campaign_report

    try:
        report = campaign_report(session, _find(session, name).id)
    except UnknownCampaign:
        print(f"hotline campaign: no campaign {name!r} (a name or an id; see hotline campaign list)", file=err)
        return 1
    if as_json:
        print(json.dumps(report, ensure_ascii=False, default=str), file=out)
        return 0
    p = lambda text="": print(text, file=out)  # noqa: E731
    p(f"campaign {report['name']} (id {report['id']}): {report['status']}, mode {report['mode']}")
    p(f"  contacts   {report['contacts_total']} total: {report['contacts_pending']} pending, "
      f"{report['contacts_dialing']} dialling, {report['contacts_done']} done, {report['contacts_failed']} failed, "
      f"{report['contacts_skipped']} skipped; {report['remaining']} remaining")
    results = ", ".join(f"{k} {v}" for k, v in sorted(report["results"].items())) or "none yet"
    p(f"  attempts   {results}; {report['in_flight']} in flight")
    p(f"  answered   {report['answered']} (live), connected to an agent {report['connected']}, "
      f"abandoned {report['abandon_percent']:.2f} %")
    if not report["engines"]:
        p("  live       engine not running (no dialer has reported this campaign)")
    for live in report["engines"]:
        if live["stale"]:
            p(f"  live       engine not running ({live['engine_id']} last reported {live['age_seconds']:.0f} s ago)")
            continue
        p(f"  live       {live['engine_id']}: {live.get('in_flight', 0)} in flight, {live.get('ringing', 0)} ringing, "
          f"last pace {live.get('last_decision', 0)} calls, {live.get('agents', 0)} agents free, "
          f"abandon rate {100.0 * float(live.get('abandon_rate') or 0.0):.2f} % "
          f"({live['age_seconds']:.0f} s ago)")
    return 0
