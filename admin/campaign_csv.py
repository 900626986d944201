"""Streamed CSV exports of a campaign: its attempt log and its survey answers.

A campaign can have hundreds of thousands of attempts, so nothing here
holds a whole file: rows are read in id order, ``BATCH`` at a time (keyset
pages, plain column tuples that never fill the session's identity map), and
written out as they come. Every cell goes through
:func:`admin.exports.safe_row`, so a number or merge field typed as
``=HYPERLINK(...)`` reaches the spreadsheet as text; the file starts with a
UTF-8 BOM so Chinese Excel reads the Chinese as Chinese.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.exports import safe_row
from crm_core.models import Agent, CampaignAnswer, CampaignAttempt, CampaignContact, CampaignQuestion

BATCH = 500
BOM = "\ufeff"
#: Rows written per chunk handed to the WSGI server.
CHUNK_ROWS = 200


def _when(value: dt.datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite gives naive UTC
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def survey_questions(session: Session, campaign_id: int) -> list[tuple[int, str]]:
    """(id, key) of the campaign's questions in their order."""
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        select(CampaignQuestion.id, CampaignQuestion.key).where(CampaignQuestion.campaign_id == campaign_id)
        .order_by(CampaignQuestion.position)).all()]


def attempt_rows(session: Session, campaign_id: int, zone: ZoneInfo,
                 questions: list[tuple[int, str]], batch: int = BATCH) -> Iterator[list[Any]]:
    """One row per attempt, oldest first: contact, number, time, mode, result, hang-up cause, agent, wait to
    agent, talk time, then one answer per survey question."""
    position = {qid: i for i, (qid, _key) in enumerate(questions)}
    last = 0
    while True:
        page = session.execute(
            select(CampaignAttempt.id, CampaignAttempt.contact_id, CampaignAttempt.number, CampaignAttempt.started_at,
                   CampaignAttempt.mode, CampaignAttempt.result, CampaignAttempt.hangup_cause, Agent.login,
                   Agent.name, CampaignAttempt.wait_to_agent_seconds, CampaignAttempt.talk_seconds,
                   CampaignAttempt.call_uuid)
            .outerjoin(Agent, Agent.id == CampaignAttempt.agent_id)
            .where(CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.id > last)
            .order_by(CampaignAttempt.id).limit(batch)).all()
        if not page:
            return
        answers: dict[int, list[str]] = {}
        if questions:
            for attempt_id, question_id, answer in session.execute(
                    select(CampaignAnswer.attempt_id, CampaignAnswer.question_id, CampaignAnswer.answer)
                    .where(CampaignAnswer.attempt_id.in_([r[0] for r in page]))):
                if question_id in position:
                    answers.setdefault(attempt_id, [""] * len(questions))[position[question_id]] = answer
        for (attempt_id, contact_id, number, started, mode, result, cause, login, name, wait, talk,
             uuid) in page:
            agent = f"{name} ({login})" if login else ""
            yield [attempt_id, contact_id, number, _when(started, zone), mode, result or "", cause or "", agent,
                   _seconds(wait), _seconds(talk), uuid or "", *answers.get(attempt_id, [""] * len(questions))]
        last = page[-1][0]


def answer_rows(session: Session, campaign_id: int, zone: ZoneInfo, batch: int = BATCH) -> Iterator[list[Any]]:
    """One row per survey answer, in the order they were given: attempt, contact, number, question (key and
    prompt), answer, time."""
    last = 0
    while True:
        page = session.execute(
            select(CampaignAnswer.id, CampaignAnswer.attempt_id, CampaignAnswer.contact_id, CampaignContact.number,
                   CampaignQuestion.key, CampaignQuestion.prompt, CampaignAnswer.answer, CampaignAnswer.answered_at)
            .join(CampaignQuestion, CampaignQuestion.id == CampaignAnswer.question_id)
            .join(CampaignContact, CampaignContact.id == CampaignAnswer.contact_id)
            .where(CampaignQuestion.campaign_id == campaign_id, CampaignAnswer.id > last)
            .order_by(CampaignAnswer.id).limit(batch)).all()
        if not page:
            return
        for answer_id, attempt_id, contact_id, number, key, prompt, answer, at in page:
            yield [attempt_id, contact_id, number, key, prompt, answer, _when(at, zone)]
        last = page[-1][0]


def csv_stream(header: list[str], rows: Iterable[list[Any]], chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM, ``chunk_rows`` rows per chunk, every cell spreadsheet-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write(BOM)
    writer.writerow(safe_row(header))
    pending = 0
    for row in rows:
        writer.writerow(safe_row(row))
        pending += 1
        if pending >= chunk_rows:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
            pending = 0
    yield out.getvalue().encode("utf-8")


__all__ = ["BOM", "answer_rows", "attempt_rows", "csv_stream", "survey_questions"]
