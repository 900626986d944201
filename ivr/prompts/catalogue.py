"""The prompt catalogue: what the IVR says, per language, checked before a call hears it.

Prompts live as YAML under ``prompts/catalogue/`` so the wording can be edited
without touching code. Everything that can go wrong in that data (a missing
translation, a placeholder nobody declared, the same id twice) is found when
the catalogue loads, with the prompt and file named, not mid-call.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ivr.prompts.exceptions import CatalogueError, PromptNotFound, PromptVariableError
from ivr.prompts.say import KINDS, LANGS, say_value

#: Where the shipped catalogue lives (repository data beside the packages).
DEFAULT_CATALOGUE_DIR = Path(__file__).resolve().parents[2] / "prompts" / "catalogue"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")  # ids become file names of override recordings
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class Prompt:
    """One prompt: its text per language and its typed variables."""

    id: str
    texts: Mapping[str, str]
    variables: Mapping[str, str] = field(default_factory=dict)  # name -> kind
    source: str = ""

    @property
    def is_static(self) -> bool:
        """True when the prompt has no variables, so it can be rendered ahead of time."""
        return not self.variables


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise CatalogueError(
                    f"duplicate prompt id or key {key!r} at line {key_node.start_mark.line + 1} "
                    f"(first at line {seen[key] + 1})"
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _placeholders(prompt_id: str, lang: str, text: str) -> set[str]:
    names = set()
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise CatalogueError(f"prompt {prompt_id!r} [{lang}]: bad placeholder syntax: {exc}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise CatalogueError(
                f"prompt {prompt_id!r} [{lang}]: placeholder {{{name}}} must be a plain name; "
                "declare how to read it under vars instead of a format spec"
            )
        names.add(name)
    return names


def _build_prompt(prompt_id: Any, body: Any, source: str, langs: Iterable[str]) -> Prompt:
    where = f"prompt {prompt_id!r} ({source})"
    if not isinstance(prompt_id, str) or not _ID.match(prompt_id):
        raise CatalogueError(f"{where}: id must be lower_snake_case")
    if not isinstance(body, dict):
        raise CatalogueError(f"{where}: expected a mapping of language -> text")
    variables = body.get("vars") or {}
    if not isinstance(variables, dict):
        raise CatalogueError(f"{where}: vars must map variable name -> kind")
    for name, kind in variables.items():
        if kind not in KINDS:
            raise CatalogueError(f"{where}: variable {name!r} has unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    unknown_keys = set(body) - set(LANGS) - {"vars"}
    if unknown_keys:
        raise CatalogueError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown_keys)))}")
    texts: dict[str, str] = {}
    for lang in langs:
        text = body.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise CatalogueError(f"{where}: missing {lang!r} text")
        used = _placeholders(prompt_id, lang, text)
        undeclared = used - set(variables)
        if undeclared:
            raise CatalogueError(
                f"{where} [{lang}]: unknown variable(s) {', '.join(sorted(undeclared))}; declare them under vars"
            )
        unused = set(variables) - used
        if unused:
            raise CatalogueError(f"{where} [{lang}]: declared variable(s) {', '.join(sorted(unused))} not used")
        texts[lang] = " ".join(text.split())
    return Prompt(id=prompt_id, texts=texts, variables=dict(variables), source=source)


class Catalogue:
    """All prompts by id; render their text in a language with typed values spoken."""

    def __init__(self, prompts: Iterable[Prompt]) -> None:
        self._prompts: dict[str, Prompt] = {}
        for prompt in prompts:
            if prompt.id in self._prompts:
                first = self._prompts[prompt.id].source
                raise CatalogueError(f"duplicate prompt id {prompt.id!r} in {prompt.source} (first in {first})")
            self._prompts[prompt.id] = prompt

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<mapping>", langs: Iterable[str] = LANGS) -> "Catalogue":
        """Build from already-parsed YAML data (one file's content)."""
        langs = tuple(langs)
        return cls(_build_prompt(pid, body, source, langs) for pid, body in data.items())

    @classmethod
    def load(cls, path: str | Path = DEFAULT_CATALOGUE_DIR, langs: Iterable[str] = LANGS) -> "Catalogue":
        """Load one YAML file or every ``*.yaml`` in a directory; raise CatalogueError naming the culprit."""
        path = Path(path)
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        if not files:
            raise CatalogueError(f"no prompt catalogue files (*.yaml) in {path}")
        langs = tuple(langs)
        prompts: list[Prompt] = []
        for file in files:
            try:
                data = yaml.load(file.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
            except CatalogueError as exc:
                raise CatalogueError(f"{file.name}: {exc}") from None
            except yaml.YAMLError as exc:
                raise CatalogueError(f"{file.name}: not valid YAML: {exc}") from None
            if not isinstance(data, dict):
                raise CatalogueError(f"{file.name}: expected a mapping of prompt id -> prompt")
            prompts.extend(_build_prompt(pid, body, file.name, langs) for pid, body in data.items())
        return cls(prompts)

    def __contains__(self, prompt_id: object) -> bool:
        return prompt_id in self._prompts

    def __iter__(self):
        return iter(self._prompts.values())

    def __len__(self) -> int:
        return len(self._prompts)

    def get(self, prompt_id: str) -> Prompt:
        """The prompt, or PromptNotFound."""
        try:
            return self._prompts[prompt_id]
        except KeyError:
            raise PromptNotFound(f"no prompt {prompt_id!r} in the catalogue") from None

    def render_text(self, prompt_id: str, lang: str, **variables: Any) -> str:
        """The words to speak: the template with each variable read per its declared kind."""
        prompt = self.get(prompt_id)
        if lang not in prompt.texts:
            raise PromptNotFound(f"prompt {prompt_id!r} has no {lang!r} text")
        missing = set(prompt.variables) - set(variables)
        extra = set(variables) - set(prompt.variables)
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(sorted(missing))}")
            if extra:
                parts.append(f"unexpected {', '.join(sorted(extra))}")
            raise PromptVariableError(f"prompt {prompt_id!r}: {'; '.join(parts)}")
        spoken = {}
        for name, kind in prompt.variables.items():
            try:
                spoken[name] = say_value(variables[name], kind, lang)
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise PromptVariableError(
                    f"prompt {prompt_id!r}: cannot read {name}={variables[name]!r} as {kind}: {exc}"
                ) from None
        return prompt.texts[lang].format(**spoken)
