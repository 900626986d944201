"""``hotline prompts``: list the catalogue and pre-render its static prompts.

Rendering ahead of time means the first caller of the day does not wait for
TTS, and a broken voice or wording shows up at deploy time, not on a call.
Prompts with variables are rendered per call and are skipped here. The
prompts FreeSWITCH plays by itself (``ivr.prompts.switch_prompts``) are
written to the cache's ``switch`` folder as well.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ivr.prompts.catalogue import DEFAULT_CATALOGUE_DIR, Catalogue
from ivr.prompts.exceptions import PromptError
from ivr.prompts.say import LANGS
from ivr.prompts.switch_prompts import render_switch_prompts, switch_prompts_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``prompts list`` and ``prompts render [--lang zh|en|all] [--engine ...]``."""
    parser.add_argument("--catalogue", default=str(DEFAULT_CATALOGUE_DIR), help="catalogue file or directory")
    sub = parser.add_subparsers(dest="prompts_action", metavar="ACTION")
    sub.required = True
    sub.add_parser("list", help="list prompt ids, their variables and texts")
    render = sub.add_parser("render", help="render every static prompt into the audio cache")
    render.add_argument("--lang", choices=[*LANGS, "all"], default="all")
    render.add_argument("--engine", choices=["pyttsx3", "espeak-ng"], default="pyttsx3")
    render.add_argument("--no-progress", action="store_true", help="no progress bar (CI logs)")


def _list(catalogue: Catalogue) -> int:
    for prompt in catalogue:
        variables = ", ".join(f"{name}:{kind}" for name, kind in prompt.variables.items()) or "static"
        print(f"{prompt.id}  [{variables}]  ({prompt.source})")
        for lang, text in prompt.texts.items():
            print(f"    {lang}: {text}")
    print(f"{len(catalogue)} prompts, {sum(p.is_static for p in catalogue)} static")
    return 0


def _render(settings: Any, catalogue: Catalogue, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ivr.prompts.renderer import PromptBuilder

    builder = PromptBuilder.from_settings(settings, catalogue=catalogue, engine=args.engine)
    langs = LANGS if args.lang == "all" else (args.lang,)
    jobs = [(p.id, lang) for p in catalogue if p.is_static for lang in langs]
    skipped = sum(1 for p in catalogue if not p.is_static) * len(langs)
    counts = {"rendered": 0, "cached": 0, "override": 0, "failed": 0}
    started = time.monotonic()
    for prompt_id, lang in tqdm(jobs, desc="prompts", unit="prompt", disable=args.no_progress):
        try:
            counts[builder.build(prompt_id, lang).status] += 1
        except (PromptError, OSError) as exc:
            counts["failed"] += 1
            tqdm.write(f"failed {lang}/{prompt_id}: {exc}", file=sys.stderr)
    elapsed = time.monotonic() - started
    print(
        f"rendered {counts['rendered']}, cached {counts['cached']}, override {counts['override']}, "
        f"failed {counts['failed']}, skipped {skipped} (have variables) in {elapsed:.1f}s "
        f"-> {builder.cache.cache_dir}"
    )
    try:
        switch_files = render_switch_prompts(builder)
    except (PromptError, OSError, ValueError) as exc:
        print(f"failed: switch prompts: {exc}", file=sys.stderr)
        return 1
    print(f"switch prompts ({', '.join(p.name for p in switch_files)}) -> {switch_prompts_dir(builder.cache.cache_dir)} "
          "(vars.xml hotline_switch_prompts_dir)")
    return 1 if counts["failed"] else 0


def main(settings: Any, args: argparse.Namespace) -> int:
    """Entry point called by ``hotline.cli``."""
    try:
        catalogue = Catalogue.load(args.catalogue)
    except PromptError as exc:
        print(f"hotline prompts: {exc}", file=sys.stderr)
        return 2
    if args.prompts_action == "list":
        return _list(catalogue)
    return _render(settings, catalogue, args)
