"""Errors of the prompts package, with stable ids the admin UI can map to messages."""

from __future__ import annotations


class PromptError(Exception):
    """Base of every prompts error."""

    error_id = "prompt-error"


class CatalogueError(PromptError):
    """The catalogue data is wrong (missing language, unknown variable, duplicate id...)."""

    error_id = "prompt-catalogue-invalid"


class PromptNotFound(PromptError):
    """No prompt with that id, or no text in that language."""

    error_id = "prompt-not-found"


class PromptVariableError(PromptError):
    """The variables given to render a prompt do not match its declaration."""

    error_id = "prompt-variables-invalid"


class TtsError(PromptError):
    """Speech synthesis or audio conversion failed."""

    error_id = "prompt-tts-failed"


class VoiceNotAvailable(TtsError):
    """The configured voice is not installed, or the engine silently kept another one."""

    error_id = "prompt-voice-unavailable"
